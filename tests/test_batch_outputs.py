"""What grades.csv and the report's figures say, computed from gradebook records."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from batch_course import write_course

from grader.batch.export import Submitter
from grader.batch.gradebook import QuestionRow, SubmissionRecord
from grader.batch.outputs import grades_csv, report_data
from grader.rubric.model import load_rubric


def record(
    submission_id: str,
    status: str,
    questions: tuple[QuestionRow, ...],
    submitters: tuple[Submitter, ...] = (),
    score: float | None = None,
    seconds: float = 0.1,
) -> SubmissionRecord:
    return SubmissionRecord(
        submission_id=submission_id,
        status=status,
        detail="",
        score=score,
        max_score=3.0,
        content_sha256="c" * 64,
        rubric_sha256="r" * 64,
        fingerprint="f" * 64,
        seed=1,
        seconds=seconds,
        created_at="",
        graded_at="2026-01-01T00:00:00+00:00",
        run_id=1,
        results_path=None,
        submitters=submitters,
        questions=questions,
    )


def question(
    number: str, score: float, max_score: float, status: str, mistakes: tuple[str, ...] = ()
) -> QuestionRow:
    return QuestionRow(number, f"Question {number}", score, max_score, status, "", mistakes, 0.01)


def test_a_question_worth_no_points_counts_students_by_whether_they_got_it_right(
    tmp_path: Path,
) -> None:
    loaded = load_rubric(write_course(tmp_path).rubric)
    records = [
        record(
            "1", "graded", (question("1", 2, 2, "passed"), question("0", 0, 0, "passed")), score=2.0
        ),
        record(
            "2",
            "graded",
            (question("1", 0.5, 2, "partial", ("doubled",)), question("0", 0, 0, "failed")),
            score=0.5,
        ),
        record(
            "3",
            "graded",
            (question("1", 0, 2, "not_implemented"), question("0", 0, 0, "pending")),
            score=0.0,
        ),
    ]
    summary = {q.number: q for q in report_data(loaded, records).questions}
    assert (summary["1"].full, summary["1"].partial, summary["1"].zero) == (1, 1, 1)
    assert (summary["0"].full, summary["0"].partial, summary["0"].zero) == (1, 0, 1)
    assert summary["1"].mean == 2.5 / 3
    assert [(m.mistake, m.students, m.feedback) for m in summary["1"].mistakes] == [
        ("doubled", 1, "You doubled it; the half belongs there.")
    ]


def test_submissions_that_were_not_graded_are_problems_and_not_in_the_distribution(
    tmp_path: Path,
) -> None:
    loaded = load_rubric(write_course(tmp_path).rubric)
    records = [
        record("1", "graded", (question("1", 2, 2, "passed"),), score=2.0),
        record("2", "refused", (), (Submitter("Eve", "1", "e@x"),)),
    ]
    data = report_data(loaded, records)
    assert data.totals == (2.0,)
    assert data.submissions == 2
    assert [(p.submission_id, p.students, p.status) for p in data.problems] == [
        ("2", "Eve", "refused")
    ]


def test_grades_csv_leaves_ungraded_questions_blank_and_keeps_every_group_member() -> None:
    group = (Submitter("Ada", "007", "ada@x"), Submitter("Alan", "", "alan@x"))
    records = [
        record(
            "1",
            "graded",
            (question("1", 2, 2, "passed"), question("2", 0.25, 1, "partial")),
            group,
            score=2.25,
        ),
        record("2", "missing", (), (Submitter("Eve", "9", ""),)),
    ]
    rows = list(csv.DictReader(io.StringIO(grades_csv(records))))
    assert [(r["name"], r["sid"], r["Q1"], r["Q2"], r["total"], r["status"]) for r in rows] == [
        ("Ada", "007", "2", "0.25", "2.25", "graded"),
        ("Alan", "", "2", "0.25", "2.25", "graded"),
        ("Eve", "9", "", "", "0", "missing"),
    ]


def test_grades_csv_shows_hand_graded_points_as_pending_not_as_zero() -> None:
    # HW2: 7 auto-graded points of 8.8; Neatness (1 pt) and the proof wait for a TA.
    records = [
        record(
            "1",
            "graded",
            (question("1", 2, 2, "passed"), question("N", 0, 0, "pending")),
            (Submitter("Ada", "1", ""),),
            score=3.0,
        )
    ]
    (row,) = csv.DictReader(io.StringIO(grades_csv(records, pending=1.8)))
    assert (row["QN"], row["total"], row["graded_max"], row["pending"], row["max_score"]) == (
        "pending",
        "3",
        "3",
        "1.8",
        "4.8",
    )
