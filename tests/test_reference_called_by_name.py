"""The reference is called by argument name everywhere (validation, the engine, the kit, `grader
answers`), while a student's function is called by position in the rubric's `args` order: a
reference whose parameters are listed in another order must still give every case's answer.

Validation's answers are reused by the engine and sent to a batch's workers, so an answer
computed by position there and by name in the engine graded a swapped-argument answer right.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grader.frontends.kit import build_kit
from grader.rubric.model import LoadedRubric, load_rubric
from grader.trusted.answers import ListedAnswers
from grader.trusted.reference import load_reference
from grader.trusted.validate import validate

REFERENCE = '''
def diff(b, a):
    """a - b, its parameters listed b first."""
    return a - b


def diff_cases(rng):
    return {"a": float(rng.integers(10, 20)), "b": float(rng.integers(0, 5))}
'''

RUBRIC = {
    "assignment": "order",
    "title": "Argument order",
    "total_points": 1,
    "seed": 7,
    "reference": "reference.py",
    "submission": {"entry": "hw.py"},
    "questions": [
        {
            "number": "1",
            "title": "Difference",
            "points": 1,
            "parts": [
                {
                    "name": "a minus b",
                    "points": 1,
                    "target": "diff",
                    "function": {
                        "args": ["a", "b"],
                        "reference": "diff",
                        "public": [{"a": 5, "b": 2}],
                        "hidden": [{"a": 10, "b": 1}],
                        "random": {"generator": "diff_cases", "count": 3},
                    },
                    "check": {"kind": "numeric"},
                }
            ],
        }
    ],
}


@pytest.fixture
def course(tmp_path: Path) -> LoadedRubric:
    (tmp_path / "reference.py").write_text(REFERENCE)
    (tmp_path / "rubric.yaml").write_text(yaml.safe_dump(RUBRIC))
    return load_rubric(tmp_path / "rubric.yaml")


def test_validation_hands_the_engine_the_answers_of_a_call_by_name(course: LoadedRubric) -> None:
    listed: ListedAnswers = {}
    assert validate(course, listed=listed) == []
    assert listed == {(0, 0, "public", 0): 3, (0, 0, "hidden", 0): 9}


def test_the_kit_shows_the_answer_of_a_call_by_name(course: LoadedRubric) -> None:
    kit = build_kit(course, load_reference(course.reference_path))
    (entry,) = kit["questions"][0]["parts"][0]["function"]["public"]
    assert entry["args"] == {"a": 5, "b": 2} and entry["expected"] == 3


@pytest.mark.sandbox
@pytest.mark.parametrize(
    ("body", "score"),
    [("a - b", 1), ("b - a", 0)],
    ids=["in the rubric's order: full marks", "arguments swapped: nothing"],
)
def test_a_student_answer_is_graded_in_the_rubrics_argument_order(
    course: LoadedRubric, tmp_path: Path, grade_json, body: str, score: int
) -> None:
    submission = tmp_path / "student"
    submission.mkdir()
    (submission / "hw.py").write_text(f"def diff(a, b):\n    return {body}\n")
    results, _ = grade_json(course.path, submission, tmp_path)
    assert results["score"] == score
