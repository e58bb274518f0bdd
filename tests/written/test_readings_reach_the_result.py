"""How a sheet's answers were read reaches the result: a sure reading is graded like code and
says how it was read; an unsure one is pending for a TA with its excerpt and line, never 0; a
part the sheet does not answer is not answered."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader.grading.engine import Engine
from grader.grading.status import NOT_IMPLEMENTED, PASSED, PENDING
from grader.rubric.model import load_rubric
from grader.submission import formats
from grader.submission.asked import sheet_parts
from grader.submission.formats.base import Asked, Converted, Reading, SubmissionFormat
from grader.submission.staged import open_submission
from grader.trusted.reference import load_reference

pytestmark = pytest.mark.sandbox

RUBRIC = """
assignment: readings
title: Readings
total_points: 3
seed: 1
reference: ref.py
submission: {entry: answers.py}
questions:
  - number: "1"
    title: Three numbers
    points: 3
    parts:
      - {name: sure, points: 1, target: SURE, answer: {value: 2}, check: {kind: numeric},
         written: {kind: number}}
      - {name: unsure, points: 1, target: UNSURE, answer: {value: 3}, check: {kind: numeric},
         written: {kind: number}}
      - {name: absent, points: 1, target: ABSENT, answer: {value: 4}, check: {kind: numeric},
         written: {kind: number}}
"""

UNSURE = Reading("needs_review", "O(+)", 7, "back-propagation: O(+)", "unreadable symbol")


def _toy_sheet(data: bytes, name: str, asked: Asked) -> Converted:
    return Converted(
        "SURE = 2\n",
        (f"{name} was read as a sheet",),
        {"SURE": Reading("read", "2", 3, "the answer is 2"), "UNSURE": UNSURE},
    )


TOY = SubmissionFormat("toy", (".toy",), 1 << 10, lambda n, s: n, _toy_sheet, any_name=True)


@pytest.fixture
def graded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(formats, "FORMATS", (*formats.FORMATS, TOY))
    (tmp_path / "readings.yaml").write_text(textwrap.dedent(RUBRIC))
    (tmp_path / "ref.py").write_text("")
    (tmp_path / "student").mkdir()
    (tmp_path / "student" / "answers.toy").write_text("anything")
    loaded = load_rubric(tmp_path / "readings.yaml")
    engine = Engine(loaded, load_reference(loaded.reference_path))
    sheet = sheet_parts(loaded.rubric)
    with open_submission(tmp_path / "student", loaded.rubric.submission, sheet=sheet) as staged:
        return {p.target: p for q in engine.grade(staged).questions for p in q.parts}


def test_a_sure_reading_is_graded_and_says_how_it_was_read(graded):
    assert graded["SURE"].status == PASSED
    assert graded["SURE"].feedback[0] == "read as 2, line 3"


def test_an_unsure_reading_is_pending_with_its_excerpt_and_line(graded):
    part = graded["UNSURE"]
    assert part.status == PENDING and part.review == UNSURE and part.score == 0
    assert "Line 7" in part.feedback[0] and "back-propagation: O(+)" in part.feedback[0]


def test_an_unsure_reading_is_left_out_of_the_points_graded(graded):
    question_max = sum(p.points for p in graded.values() if not p.manual)
    assert question_max == 2


def test_a_part_the_sheet_does_not_answer_is_not_answered(graded):
    assert graded["ABSENT"].status == NOT_IMPLEMENTED and graded["ABSENT"].score == 0
    assert graded["ABSENT"].feedback[0].startswith("not answered")
