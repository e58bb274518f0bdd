"""What a batch leaves for the TA, all derived from the gradebook: grades.csv and report.html.

They are rewritten from the gradebook at the end of every run (and from whatever it holds if a
run was interrupted), for the submissions of the current input, so they never disagree with
the gradebook or with each other.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from grader.atomic import write_bytes
from grader.batch.gradebook import Decision, GroupKey, SubmissionRecord, iter_students, now
from grader.batch.review import AnswerGroup, answer_groups
from grader.grading.status import PARTIAL, PASSED, PENDING
from grader.outputs.html_report import (
    MistakeCount,
    ProblemSubmission,
    QuestionSummary,
    ReportData,
    ReviewGroup,
    SlowSubmission,
    StudentRow,
    render_report,
)
from grader.outputs.safe_text import spreadsheet_cell
from grader.rubric.model import LoadedRubric

SLOWEST = 10
MISTAKES_PER_QUESTION = 5


def question_columns(records: list[SubmissionRecord]) -> list[tuple[str, str, float]]:
    """(number, title, max score) of every question, in grading order, from the records
    (custom test suites become questions only once graded, so the rubric alone is not
    enough)."""
    seen: dict[str, tuple[str, str, float]] = {}
    for record in records:
        for question in record.questions:
            seen.setdefault(question.number, (question.number, question.title, question.max_score))
    return list(seen.values())


def grades_csv(records: list[SubmissionRecord], pending: float = 0.0) -> str:
    """One row per student (each group member gets the group's row), ready for a spreadsheet
    or an LMS import. Scores are blank for a question not graded, and say `pending` for a
    question graded by hand only; a submission that could not be graded at all has total 0
    and says why in `status`. `total` is out of `graded_max` (the auto-graded points and the
    written answers a TA decided); `pending` points are still to be graded by hand (the
    rubric's `pending`, plus the submission's written answers awaiting review), and
    `max_score` is the whole assignment. Names, ids and e-mails come from students and can
    never read as formulas."""
    columns = question_columns(records)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "name",
            "sid",
            "email",
            "submission_id",
            "status",
            *[f"Q{number}" for number, _, _ in columns],
            "total",
            "graded_max",
            "pending",
            "max_score",
        ]
    )
    for student, record in iter_students(records):
        scores: dict[str, float | str] = {
            q.number: "pending" if q.status == PENDING else q.score for q in record.questions
        }
        writer.writerow(
            [
                spreadsheet_cell(student.name),
                spreadsheet_cell(student.sid),
                spreadsheet_cell(student.email),
                spreadsheet_cell(record.submission_id),
                record.status,
                *[_number(scores.get(number)) for number, _, _ in columns],
                _number(record.score if record.score is not None else 0.0),
                _number(record.max_score),
                _number(pending + record.review_pending),
                _number(
                    None
                    if record.max_score is None
                    else record.max_score + pending + record.review_pending
                ),
            ]
        )
    return buffer.getvalue()


def _number(value: float | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return f"{value:.6g}"


def mistake_feedback(loaded: LoadedRubric) -> dict[tuple[str, str], str]:
    """(question number, mistake id) -> the feedback students get for that mistake."""
    found: dict[tuple[str, str], str] = {}
    for question in loaded.rubric.questions:
        for part in question.parts:
            for mistake in getattr(part, "mistakes", []):
                found.setdefault((question.number, mistake.id), mistake.feedback)
    return found


def report_data(
    loaded: LoadedRubric,
    records: list[SubmissionRecord],
    decisions: Mapping[GroupKey, Decision] | None = None,
) -> ReportData:
    """The report's figures: distributions over the graded submissions, problems over all,
    and the written answers awaiting a TA with their groups."""
    rubric = loaded.rubric
    decisions = decisions or {}
    groups = answer_groups((r for record in records for r in record.reviews), decisions)
    awaiting = Counter(
        group.question for group in groups if group.decision is None for _ in group.members
    )
    graded = [r for r in records if r.questions and r.score is not None]
    feedback = mistake_feedback(loaded)
    questions = []
    for number, title, max_score in question_columns(records):
        scores, statuses, mistakes = [], Counter[str](), Counter[str]()
        for record in graded:
            for question in record.questions:
                if question.number == number:
                    scores.append(question.score)
                    statuses[question.status] += 1
                    mistakes.update(question.mistakes)
        # Counted by status, not score, so that a question worth 0 points (graded for
        # feedback only) still shows who got it right; hand-graded ones count nowhere.
        questions.append(
            QuestionSummary(
                number=number,
                title=title,
                max_score=max_score,
                mean=statistics.fmean(scores) if scores else 0.0,
                full=statuses[PASSED],
                partial=statuses[PARTIAL],
                zero=sum(statuses.values())
                - statuses[PASSED]
                - statuses[PARTIAL]
                - statuses[PENDING],
                mistakes=tuple(
                    MistakeCount(mistake, count, feedback.get((number, mistake), ""))
                    for mistake, count in mistakes.most_common(MISTAKES_PER_QUESTION)
                ),
                review_pending=awaiting[number],
            )
        )
    problems = tuple(
        ProblemSubmission(r.submission_id, _students(r), r.status, r.detail)
        for r in records
        if r.status != "graded"
    )
    slowest = tuple(
        SlowSubmission(r.submission_id, _students(r), r.seconds or 0.0)
        for r in sorted(graded, key=lambda r: -(r.seconds or 0.0))[:SLOWEST]
    )
    columns = [number for number, _, _ in question_columns(records)]
    students = []
    for student, record in iter_students(records):
        by_number: dict[str, float | str] = {
            q.number: "pending" if q.status == PENDING else q.score for q in record.questions
        }
        students.append(
            StudentRow(
                student.name,
                student.sid,
                record.submission_id,
                record.status,
                record.score if record.questions else None,
                tuple(by_number.get(number) for number in columns),
            )
        )
    return ReportData(
        title=rubric.title,
        assignment=rubric.assignment,
        rubric_sha256=loaded.sha256,
        generated_at=now(),
        max_score=rubric.auto_points,
        totals=tuple(r.score or 0.0 for r in graded),
        submissions=len(records),
        questions=tuple(questions),
        problems=problems,
        slowest=slowest,
        pending_points=sum(question.manual_points for question in rubric.questions),
        students=tuple(students),
        review_groups=tuple(_review_group(group) for group in groups),
    )


def _review_group(group: AnswerGroup) -> ReviewGroup:
    example = group.members[0]
    decision = group.decision
    return ReviewGroup(
        group_id=group.id,
        question=group.question,
        part=group.part,
        reading=example.shown,
        line=example.line,
        excerpt=example.excerpt,
        reason=example.reason,
        students=len(group.members),
        decision=None
        if decision is None
        else f"{decision.credit:.3g} credit, by {decision.decided_by} at {decision.decided_at}",
    )


def _students(record: SubmissionRecord) -> str:
    return ", ".join(s.name for s in record.submitters) or record.submission_id


def write_outputs(
    outdir: Path,
    loaded: LoadedRubric,
    records: list[SubmissionRecord],
    decisions: Mapping[GroupKey, Decision],
) -> None:
    pending = sum(question.manual_points for question in loaded.rubric.questions)
    write_bytes(outdir / "grades.csv", grades_csv(records, pending).encode())
    report = render_report(report_data(loaded, records, decisions))
    write_bytes(outdir / "report.html", report.encode())
