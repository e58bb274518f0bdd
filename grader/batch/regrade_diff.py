"""`grader regrade-diff`: which students' scores changed between two batch runs.

After a rubric fix or a regrade request a TA reruns the batch into a new folder and needs the
list of students to notify, not two spreadsheets to compare by eye. A score changed by a TA's
review of a written answer (grader.batch.review) says so as its cause. Students are matched by
sid, else email, else name, so a group reshuffled between runs still lines up per person.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from grader.batch.gradebook import Decision, Gradebook, SubmissionRecord, iter_students
from grader.batch.review import group_id, question_order
from grader.errors import GraderInputError
from grader.outputs.safe_text import spreadsheet_cell

TOLERANCE = 1e-6


@dataclass(frozen=True)
class ScoreChange:
    """One student whose total or any question's score differs between the runs."""

    student: str
    sid: str
    old_submission: str | None
    new_submission: str | None
    old_total: float | None
    new_total: float | None
    questions: tuple[tuple[str, float | None, float | None], ...]  # (number, old, new)
    causes: tuple[str, ...] = ()  # "2.2 eta*: TA review, group 1a2b3c4d, credit 0.5 by alice"

    @property
    def delta(self) -> float:
        return (self.new_total or 0.0) - (self.old_total or 0.0)


def _student_key(name: str, sid: str, email: str) -> str:
    return f"sid:{sid}" if sid else f"email:{email.lower()}" if email else f"name:{name}"


Reviewed = dict[tuple[str, str], tuple[str, Decision | None]]
"""(question, part) -> (the reading's group key, the TA decision on it, if any) for each part
of one submission that was read from a sheet without confidence."""


def _by_student(outdir: Path) -> dict[str, tuple[str, str, SubmissionRecord, Reviewed]]:
    path = Path(outdir) / "gradebook.sqlite"
    if not path.is_file():
        raise GraderInputError(
            f"{outdir}: no gradebook.sqlite here (is it a `grader batch` output folder?)"
        )
    with Gradebook(path, read_only=True) as book:
        records = book.records()
        decisions = book.decisions()
    reviewed = {
        record.submission_id: {
            (r.question, r.part): (group_id(r.key), decisions.get(r.key)) for r in record.reviews
        }
        for record in records
    }
    return {
        _student_key(s.name, s.sid, s.email): (
            s.name,
            s.sid,
            record,
            reviewed[record.submission_id],
        )
        for s, record in iter_students(records)
    }


def _causes(
    old: Reviewed, new: Reviewed, questions: tuple[tuple[str, float | None, float | None], ...]
) -> tuple[str, ...]:
    """What TA review changed on the questions whose score changed: a decision made or
    changed, one withdrawn, or an answer now read differently and pending again."""
    changed = {number for number, _, _ in questions}
    causes = []
    for question, part in sorted(new, key=lambda key: (question_order(key[0]), key[1])):
        group, after = new[(question, part)]
        earlier, before = old.get((question, part), ("", None))
        if question not in changed:
            continue
        if after is not None and (before is None or before.credit != after.credit):
            causes.append(
                f"{question} {part}: TA review, group {group}, credit {after.credit:g} by "
                f"{after.decided_by}"
            )
        elif after is None and before is not None:
            causes.append(
                f"{question} {part}: TA decision withdrawn"
                if group == earlier
                else f"{question} {part}: read differently (group {group}), pending review again"
            )
    return tuple(causes)


def _total(record: SubmissionRecord | None) -> float | None:
    if record is None:
        return None
    return record.score if record.score is not None else 0.0


def score_changes(old_outdir: Path, new_outdir: Path) -> list[ScoreChange]:
    """Every student whose scores changed, appeared or disappeared; largest change first."""
    old, new = _by_student(old_outdir), _by_student(new_outdir)
    changes = []
    for key in sorted(old.keys() | new.keys()):
        name, sid, _, _ = new.get(key) or old[key]
        before = old[key][2] if key in old else None
        after = new[key][2] if key in new else None
        old_scores = {q.number: q.score for q in before.questions} if before else {}
        new_scores = {q.number: q.score for q in after.questions} if after else {}
        questions = tuple(
            (number, old_scores.get(number), new_scores.get(number))
            for number in sorted(old_scores.keys() | new_scores.keys(), key=question_order)
            if _differs(old_scores.get(number), new_scores.get(number))
        )
        if (
            questions
            or _differs(_total(before), _total(after))
            or before is None
            or (after is None)
        ):
            changes.append(
                ScoreChange(
                    name,
                    sid,
                    before.submission_id if before else None,
                    after.submission_id if after else None,
                    _total(before),
                    _total(after),
                    questions,
                    _causes(
                        old[key][3] if key in old else {},
                        new[key][3] if key in new else {},
                        questions,
                    ),
                )
            )
    return sorted(changes, key=lambda c: (-abs(c.delta), c.student))


def _differs(old: float | None, new: float | None) -> bool:
    if old is None or new is None:
        return old is not new
    return abs(old - new) > TOLERANCE


def changes_csv(changes: list[ScoreChange]) -> str:
    """The changes as a spreadsheet: one row per student; names and ids, which students
    chose, can never read as formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "name",
            "sid",
            "old_submission",
            "new_submission",
            "old_total",
            "new_total",
            "delta",
            "questions_changed",
            "causes",
        ]
    )
    for change in changes:
        writer.writerow(
            [
                spreadsheet_cell(change.student),
                spreadsheet_cell(change.sid),
                spreadsheet_cell(change.old_submission or ""),
                spreadsheet_cell(change.new_submission or ""),
                _cell(change.old_total),
                _cell(change.new_total),
                f"{change.delta:.6g}",
                "; ".join(f"{n}: {_cell(a)} -> {_cell(b)}" for n, a, b in change.questions),
                spreadsheet_cell("; ".join(change.causes)),
            ]
        )
    return buffer.getvalue()


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"
