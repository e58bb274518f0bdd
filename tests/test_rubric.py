"""The rubric format: what it accepts, and how it explains what it rejects."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grader.errors import RubricError
from grader.rubric.files import read_yaml
from grader.rubric.model import AutoPart, ManualPart, format_location, load_rubric

REPO = Path(__file__).parents[1]


def minimal_rubric() -> dict:
    return {
        "assignment": "demo",
        "title": "Demo",
        "total_points": 2,
        "seed": 1,
        "reference": "ref.py",
        "submission": {"entry": "answers.py"},
        "questions": [
            {
                "number": "1",
                "title": "Constant",
                "points": 1,
                "parts": [
                    {
                        "name": "c",
                        "points": 1,
                        "target": "C",
                        "answer": {"value": 3},
                        "check": {"kind": "numeric", "rtol": 1e-6},
                    },
                ],
            },
            {
                "number": "2",
                "title": "Proof",
                "points": 1,
                "parts": [
                    {"name": "proof", "points": 1, "manual": "a clear argument"},
                ],
            },
        ],
    }


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "rubric.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def error_for(tmp_path: Path, data: object) -> str:
    with pytest.raises(RubricError) as raised:
        load_rubric(write(tmp_path, data))
    return str(raised.value)


def test_hw2_rubric_loads():
    loaded = load_rubric(REPO / "rubrics" / "hw2.yaml")
    assert loaded.rubric.assignment == "csc413-hw2"
    assert loaded.rubric.auto_points == pytest.approx(7.0)
    assert len(loaded.sha256) == 64


def test_parts_are_auto_or_manual_by_their_keys(tmp_path):
    rubric = load_rubric(write(tmp_path, minimal_rubric())).rubric
    assert isinstance(rubric.questions[0].parts[0], AutoPart)
    assert isinstance(rubric.questions[1].parts[0], ManualPart)
    assert rubric.questions[1].manual_points == 1


def test_negative_tolerance_names_the_field_path(tmp_path):
    data = minimal_rubric()
    data["questions"][0]["parts"][0]["check"]["rtol"] = -1
    message = error_for(tmp_path, data)
    assert "rubric.yaml" in message
    assert "questions[0].parts[0].check.rtol" in message
    assert "greater than or equal to 0" in message


def test_unknown_key_is_rejected_not_ignored(tmp_path):
    data = minimal_rubric()
    data["questions"][0]["parts"][0]["check"]["rtool"] = 1e-3
    assert "questions[0].parts[0].check.rtool: Extra inputs are not permitted" in error_for(
        tmp_path, data
    )


def test_unknown_check_kind_lists_the_known_kinds(tmp_path):
    data = minimal_rubric()
    data["questions"][0]["parts"][0]["check"] = {"kind": "approximately"}
    message = error_for(tmp_path, data)
    assert "questions[0].parts[0].check" in message
    assert "'numeric'" in message and "'big_o'" in message


def test_question_points_must_equal_the_sum_of_its_parts(tmp_path):
    data = minimal_rubric()
    data["questions"][0]["points"] = 2
    data["total_points"] = 3
    assert "questions[0]: points is 2 but the parts add up to 1" in error_for(tmp_path, data)


def test_total_points_must_equal_the_sum_of_the_questions(tmp_path):
    data = minimal_rubric()
    data["total_points"] = 5
    assert "total_points is 5 but the questions" in error_for(tmp_path, data)


def test_constant_without_an_answer_is_rejected(tmp_path):
    data = minimal_rubric()
    del data["questions"][0]["parts"][0]["answer"]
    assert "needs an `answer`" in error_for(tmp_path, data)


def test_answer_takes_exactly_one_source(tmp_path):
    data = minimal_rubric()
    data["questions"][0]["parts"][0]["answer"] = {"value": 3, "reference": "three"}
    assert "questions[0].parts[0].answer" in error_for(tmp_path, data)


def test_function_cases_must_match_the_declared_arguments(tmp_path):
    data = minimal_rubric()
    part = data["questions"][0]["parts"][0]
    del part["answer"]
    part["function"] = {"args": ["x", "y"], "reference": "f", "public": [{"x": 1}]}
    assert "public[0] has arguments ['x'] but args are ['x', 'y']" in error_for(tmp_path, data)


def test_mistake_credit_must_be_below_one(tmp_path):
    data = minimal_rubric()
    data["questions"][0]["parts"][0]["mistakes"] = [
        {"id": "m", "value": 4, "credit": 1.0, "feedback": "close"}
    ]
    assert "questions[0].parts[0].mistakes[0].credit" in error_for(tmp_path, data)


def test_convention_used_before_it_is_established_is_rejected(tmp_path):
    data = minimal_rubric()
    data["questions"][0]["parts"][0]["alternatives"] = [
        {"value": 4, "note": "other convention", "convention": "half"}
    ]
    assert "uses convention 'half' before any earlier alternative establishes it" in error_for(
        tmp_path, data
    )


def test_property_check_takes_no_mistakes(tmp_path):
    data = minimal_rubric()
    part = data["questions"][0]["parts"][0]
    del part["answer"]
    part["check"] = {"kind": "property", "predicate": "ok"}
    part["mistakes"] = [{"id": "m", "value": 1, "feedback": "no"}]
    assert "takes no mistakes or alternatives" in error_for(tmp_path, data)


def test_duplicate_question_numbers_are_rejected(tmp_path):
    data = minimal_rubric()
    data["questions"][1]["number"] = "1"
    assert "question numbers repeat: ['1']" in error_for(tmp_path, data)


def test_invalid_yaml_reports_the_line(tmp_path):
    message = error_for(tmp_path, "assignment: demo\nquestions: [\n  - oops: : :\n")
    assert "rubric.yaml: not valid YAML at line" in message


def test_invalid_yaml_reports_the_line_and_column_of_the_problem(tmp_path):
    message = error_for(tmp_path, "assignment: demo\nquestions: [1,\n  2\n")
    assert "not valid YAML at line 4, column 1" in message


@pytest.mark.parametrize("name", ["hw2", "midterm"])
def test_the_fast_yaml_reader_reads_the_shipped_rubrics_as_pure_python_yaml_does(name):
    text = (REPO / "rubrics" / f"{name}.yaml").read_bytes()
    assert read_yaml(text) == yaml.safe_load(text)


def test_a_rubric_must_be_a_mapping(tmp_path):
    assert "a rubric is a YAML mapping" in error_for(tmp_path, "- just\n- a list\n")


def test_missing_rubric_file_names_the_path(tmp_path):
    with pytest.raises(RubricError, match=r"nowhere\.yaml: cannot read the rubric"):
        load_rubric(tmp_path / "nowhere.yaml")


def test_location_formatting_drops_union_tags():
    location = ("questions", 4, "parts", 0, "auto", "check", "numeric", "rtol")
    assert format_location(location) == "questions[4].parts[0].check.rtol"
