"""Answer groups of written answers awaiting a TA, and what a TA's decision does to a grade.

A part read from a written sheet without confidence is pending, never 0 (its PartResult carries
a `review` Reading). Across a class many students write the same thing the same way, so, as
Gradescope's answer groups do for handwriting, the parts are grouped by (question, part,
normalised reading) and a TA decides each group once: a credit in [0, 1] and optional feedback.

A decision belongs to the group's key, not to a submission: a rerun that reads a student's
answer the same way finds the same key and keeps the decision, one that reads it differently
finds another key and is pending again (unless a TA already decided that other reading). The
grade a decision gives is derived from the result as graded, kept in the gradebook, so a
decision made after grading changes the grade without grading again.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from grader.batch.gradebook import Decision, GroupKey, QuestionRow, ReviewPart, SubmissionRecord
from grader.checks.choice import ChoiceCheck
from grader.checks.keywords import KeywordsCheck
from grader.checks.select_all import SelectAllCheck
from grader.grading.result_data import result_from_data
from grader.grading.results import GradeResult, PartResult, QuestionResult
from grader.grading.status import FAILED, PARTIAL, PASSED, PENDING, Status
from grader.outputs.gradescope_json import to_gradescope
from grader.rubric.model import AutoPart, Rubric
from grader.submission.formats.base import Reading

_SPACES = re.compile(r"\s+")
_LOOSE_SPACE = re.compile(r"(?<!\w) | (?!\w)")
"""A space with a non-word character on either side: "( a + b )" and "(a+b)" read alike."""


def normalise_reading(shown: str, *, fold_case: bool) -> str:
    """The form of a reading that decides its group.

    Only what cannot change meaning goes: Unicode canonical equivalents are composed (NFC, not
    NFKC, which would turn x² into x2), runs of white space become one space, and a space next
    to anything but a letter, digit or underscore is dropped ("n / 2" is "n/2", but "a b" stays
    apart from "ab", a product apart from a name). Case is kept (X and x are different
    matrices) unless the part's check itself ignores case (choices, keywords).
    """
    text = _SPACES.sub(" ", unicodedata.normalize("NFC", shown)).strip()
    text = _LOOSE_SPACE.sub("", text)
    return text.casefold() if fold_case else text


def group_id(key: GroupKey) -> str:
    """A short id a TA types: stable across reruns because it is derived from the key."""
    return hashlib.sha256("\0".join(key).encode()).hexdigest()[:8]


@dataclass(frozen=True)
class AnswerGroup:
    """Every part of the class with one key, and its decision if a TA made one."""

    key: GroupKey
    members: tuple[ReviewPart, ...]
    decision: Decision | None

    @property
    def id(self) -> str:
        return group_id(self.key)

    @property
    def question(self) -> str:
        return self.key[0]

    @property
    def part(self) -> str:
        return self.key[1]


def _case_blind(rubric: Rubric, question: str, part: str) -> bool:
    for q in rubric.questions:
        for p in q.parts:
            if q.number == question and p.name == part and isinstance(p, AutoPart):
                check = p.check
                return isinstance(check, ChoiceCheck | KeywordsCheck) or (
                    isinstance(check, SelectAllCheck) and not check.case_sensitive
                )
    return False


def _awaiting(result: GradeResult) -> Iterable[tuple[QuestionResult, PartResult]]:
    for question in result.questions:
        for part in question.parts:
            if part.status == PENDING and part.review is not None:
                yield question, part


def _group_reading(reading: Reading, submission_id: str, *, fold_case: bool) -> str:
    """What a part is grouped by: its reading; failing one (a proof, handwritten code, an
    answer the reader could not find), the sheet's text itself, so only identical write-ups
    share a decision; failing that too, the submission alone. A normalised reading never
    starts with a space, so the last two can never equal one a student's answer produced."""
    if reading.shown.strip():
        return normalise_reading(reading.shown, fold_case=fold_case)
    if reading.excerpt.strip():
        return " as written: " + normalise_reading(reading.excerpt, fold_case=False)
    return " nothing found: " + submission_id


def review_parts(submission_id: str, result: GradeResult, rubric: Rubric) -> tuple[ReviewPart, ...]:
    """The parts of one graded submission that wait for a TA, with their group keys."""
    found = []
    for question, part in _awaiting(result):
        reading = part.review
        assert reading is not None
        fold = _case_blind(rubric, question.number, part.name)
        found.append(
            ReviewPart(
                submission_id=submission_id,
                question=question.number,
                part=part.name,
                points=part.points,
                reading=_group_reading(reading, submission_id, fold_case=fold),
                shown=reading.shown,
                line=reading.line,
                excerpt=reading.excerpt,
                reason=reading.reason,
            )
        )
    return tuple(found)


def question_order(number: str) -> list[tuple[int, int, str]]:
    """2.10 after 2.9, and any non-numeric piece after the numeric ones."""
    return [
        (0, int(piece), "") if piece.isdigit() else (1, 0, piece) for piece in number.split(".")
    ]


def answer_groups(
    parts: Iterable[ReviewPart], decisions: Mapping[GroupKey, Decision]
) -> list[AnswerGroup]:
    """The class's groups in question order, the parts of a question as they first appear,
    and the largest groups of a part first (one decision settles the most students)."""
    members: dict[GroupKey, list[ReviewPart]] = {}
    for part in parts:
        members.setdefault(part.key, []).append(part)
    first_of_part: dict[tuple[str, str], int] = {}
    for key in members:
        first_of_part.setdefault(key[:2], len(first_of_part))
    groups = [AnswerGroup(key, tuple(found), decisions.get(key)) for key, found in members.items()]
    return sorted(
        groups,
        key=lambda g: (question_order(g.question), first_of_part[g.key[:2]], -len(g.members)),
    )


def reviewed_part(part: PartResult, decision: Decision) -> PartResult:
    """The part as the TA decided it: scored like any graded part, its feedback saying it was
    reviewed (who and when stay in the gradebook, the student needs neither)."""
    credit = decision.credit
    status: Status = PASSED if credit >= 1 else PARTIAL if credit > 0 else FAILED
    reading = part.review
    assert reading is not None
    feedback = [f"reviewed by a TA: read as {reading.shown}, line {reading.line}"]
    if decision.feedback:
        feedback.append(decision.feedback)
    # No longer awaiting review: scored and shown like any graded part (the reading stays in
    # the result as graded and in the gradebook).
    return replace(part, status=status, credit=credit, feedback=feedback, review=None)


def decided(
    result: GradeResult, reviews: Iterable[ReviewPart], decisions: Mapping[GroupKey, Decision]
) -> GradeResult:
    """The result with every decided part scored."""
    keys = {(r.question, r.part): r.key for r in reviews}
    questions = []
    for question in result.questions:
        parts = []
        for part in question.parts:
            key = keys.get((question.number, part.name))
            decision = decisions.get(key) if key is not None else None
            parts.append(part if decision is None else reviewed_part(part, decision))
        questions.append(replace(question, parts=parts))
    return replace(result, questions=questions)


def reviewed_record(
    record: SubmissionRecord, decisions: Mapping[GroupKey, Decision]
) -> tuple[SubmissionRecord, dict[str, Any]]:
    """A submission's gradebook record and results.json with the decisions applied, derived
    from the result as graded (so applying them twice, or undoing one, is exact)."""
    assert record.graded_result is not None
    result = decided(result_from_data(json.loads(record.graded_result)), record.reviews, decisions)
    by_number = {q.number: q for q in result.questions}
    touched = {r.question for r in record.reviews}
    questions = tuple(
        _row(row, by_number[row.number]) if row.number in touched else row
        for row in record.questions
    )
    pending = sum(r.points for r in record.reviews if r.key not in decisions)
    results = to_gradescope(result)
    updated = replace(
        record,
        score=results["score"],
        max_score=result.max_score,
        review_pending=pending,
        questions=questions,
    )
    return updated, results


def _row(row: QuestionRow, question: QuestionResult) -> QuestionRow:
    return replace(
        row,
        score=question.score,
        max_score=question.max_score,
        status=question.status,
        feedback=question.feedback_text(),
    )
