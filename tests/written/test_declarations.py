"""A part's `written:` declaration is validated like the rest of the rubric."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grader.errors import RubricError
from grader.rubric.model import load_rubric
from grader.submission.asked import sheet_parts

REPO = Path(__file__).parents[2]


def _rubric(tmp_path: Path, written: object, **part: object) -> Path:
    data = {
        "assignment": "demo",
        "title": "Demo",
        "total_points": 1,
        "seed": 1,
        "reference": "ref.py",
        "submission": {"entry": "answers.py"},
        "questions": [
            {
                "number": "3.2",
                "title": "Counts",
                "points": 1,
                "parts": [
                    {
                        "name": "c",
                        "points": 1,
                        "target": "C",
                        "answer": {"value": 3},
                        "check": {"kind": "numeric"},
                        "written": written,
                        **part,
                    }
                ],
            }
        ],
    }
    path = tmp_path / "rubric.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _error(path: Path) -> str:
    with pytest.raises(RubricError) as raised:
        load_rubric(path)
    return str(raised.value)


def test_an_unknown_key_in_a_declaration_names_its_field_path(tmp_path):
    message = _error(_rubric(tmp_path, {"kind": "table", "rows": ["a"], "colums": 2}))
    assert "questions[0].parts[0].written.colums: Extra inputs are not permitted" in message


def test_an_unknown_kind_is_refused(tmp_path):
    assert "questions[0].parts[0].written" in _error(_rubric(tmp_path, {"kind": "essay"}))


def test_a_formula_declared_on_a_constant_is_refused(tmp_path):
    message = _error(_rubric(tmp_path, {"kind": "formula", "names": ["eta^*"]}))
    assert "written.kind formula is for a function target" in message


def test_a_declared_part_is_asked_of_a_sheet_under_its_question_number(tmp_path):
    loaded = load_rubric(_rubric(tmp_path, {"kind": "number", "cues": ["total"]}))
    (part,) = sheet_parts(loaded.rubric)
    assert (part.target, part.section, part.written.cues) == ("C", "3.2", ["total"])


def test_a_declared_section_overrides_the_question_number(tmp_path):
    loaded = load_rubric(_rubric(tmp_path, {"kind": "shape", "section": "1.a.ii"}))
    assert sheet_parts(loaded.rubric)[0].section == "1.a.ii"


@pytest.mark.parametrize("rubric", ["hw2.yaml", "midterm.yaml"])
def test_both_assignments_declare_their_written_parts(rubric):
    assert len(sheet_parts(load_rubric(REPO / "rubrics" / rubric).rubric)) >= 15


def test_a_formula_symbol_that_is_not_an_argument_or_symbol_is_refused(tmp_path):
    written = {"kind": "formula", "names": ["eta^*"], "symbols": {"a": "X w_0 - q"}}
    function = {"args": ["X", "w0"], "reference": "f", "public": [{"X": [1], "w0": [1]}]}
    path = _rubric(tmp_path, written, function=function, answer=None)
    assert "written.symbols: symbol a" in _error(path)
