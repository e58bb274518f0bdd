"""A GradeResult as JSON-safe data and back, so a grade can be kept and its outputs derived again.

A batch keeps the result of a submission with parts awaiting a TA's review: when the TA decides
later, its results.json and gradebook rows are derived again from this record and the decision,
without grading the submission a second time. Only the grader writes this data (from a result it
built), so reading it back trusts its shape.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from grader.grading.results import GradeResult, PartResult, QuestionResult
from grader.submission.formats.base import Reading


def result_to_data(result: GradeResult) -> dict[str, Any]:
    """Plain dicts, lists, strings and numbers: ready for json.dumps."""
    return asdict(result)


def result_from_data(data: dict[str, Any]) -> GradeResult:
    """The GradeResult `result_to_data` was given."""
    questions = []
    for question in data["questions"]:
        parts = [
            PartResult(
                **{
                    **part,
                    "review": None if part.get("review") is None else Reading(**part["review"]),
                }
            )
            for part in question["parts"]
        ]
        fixed = question.get("fixed")
        questions.append(
            QuestionResult(
                **{
                    **question,
                    "parts": parts,
                    "fixed": None if fixed is None else tuple(fixed),
                }
            )
        )
    return GradeResult(**{**data, "questions": questions})
