"""The expected answer of a constant, looked up in one way for everyone who needs it.

Grading, the student kit (for the form of an answer), `grader validate` and `grader answers`
all ask "what is this constant's answer?"; answering it in one place keeps them agreeing on
which reference function is called, how its result is cached, and how a missing one is named.
"""

from __future__ import annotations

from typing import Any

from grader.rubric.model import Answer, AutoPart, Variant
from grader.trusted.reference import ReferenceModule

ListedAnswers = dict[tuple[int, int, str, int], Any]
"""The canonical answers of listed (public and hidden) cases, the same for every submission, by
(question index, part index, case kind, case index): what validation computes and the engine
reuses rather than computing again."""


def constant_value(source: Answer | Variant, reference: ReferenceModule, *, field: str) -> Any:
    """A literal `value`, or the result of the zero-argument reference function it names
    (`field` names the rubric field, for the error when that function is missing)."""
    if source.reference is None:
        return source.value
    return reference.constant(source.reference, field=field)


def expected_constant(part: AutoPart, reference: ReferenceModule, *, where: str = "") -> Any:
    """The canonical answer of a constant part; None when a property predicate judges it.
    `where` is the part's field path, prefixed to the field an error names."""
    if part.answer is None:
        return None
    prefix = f"{where}." if where else ""
    return constant_value(part.answer, reference, field=f"{prefix}answer.reference")
