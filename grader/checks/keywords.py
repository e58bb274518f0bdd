"""KeywordsCheck: short free text credited by the key ideas it mentions.

A keyword matches where a word starts with it ("explod" matches "exploding"), case folded;
the words of a multi-word keyword may be separated by any spaces or hyphens. Keyword credit is
weak evidence, so feedback only counts ideas unless the case is revealed.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from grader.checks.kind import CheckKind, CheckSpec, Form
from grader.checks.values import describe, text_problem
from grader.checks.verdict import Verdict


class KeywordAnswer(CheckSpec):
    """One acceptable short answer: every group needs at least one of its words."""

    name: str
    all_of: list[list[str]] = Field(min_length=1)


class KeywordsCheck(CheckSpec):
    """Short free text judged by keywords; the best-matching accepted answer counts.

    Credit is the fraction of that answer's groups found. Keyword credit is never a proof of
    understanding, so rubrics should keep these parts small.
    """

    kind: Literal["keywords"]
    answers: list[KeywordAnswer] = Field(min_length=1)


def _pattern(keyword: str) -> re.Pattern[str]:
    """Match at the start of a word (also for keywords starting with a symbol, like "O(t)")."""
    words = keyword.casefold().split()
    return re.compile(r"(?<!\w)" + r"[\s\-]+".join(re.escape(word) for word in words))


def _found(answer: KeywordAnswer, text: str) -> list[bool]:
    """For each group of the answer, whether any of its keywords occurs in the text."""
    return [
        any(word.strip() and _pattern(word).search(text) for word in group)
        for group in answer.all_of
    ]


def compare_keywords(
    check: KeywordsCheck, student: object, expected: object, *, reveal: bool
) -> Verdict:
    """Credit is the best accepted answer's fraction of groups found; `expected` is unused
    because the accepted answers live in the check itself."""
    if not isinstance(student, str):
        return Verdict.wrong(f"Expected a short text answer (a str), got {describe(student)}.")
    text = student.casefold()
    if not text.strip():
        return Verdict.wrong("Your answer is empty.")
    scored = [
        (sum(found) / len(found), answer, found)
        for answer in check.answers
        for found in [_found(answer, text)]
    ]
    credit, answer, found = max(scored, key=lambda entry: entry[0])
    if credit >= 1.0:
        return Verdict.right()
    hits, total = sum(found), len(found)
    message = (
        f"Partly matches: mentions {hits} of {total} key ideas."
        if hits
        else "Your answer does not mention the key ideas."
    )
    if reveal:
        missing = [group[0] for group, hit in zip(answer.all_of, found, strict=True) if not hit]
        message += " Missing: " + ", ".join(repr(word) for word in missing) + "."
    return Verdict(credit, message)


def validate_keywords_expected(check: KeywordsCheck, expected: object) -> str | None:
    """The accepted answers are in the check; every group needs at least one non-blank word."""
    for answer in check.answers:
        for group in answer.all_of:
            if not any(word.strip() for word in group):
                return f"answer {answer.name!r} has a keyword group with no words"
    return None


def keywords_form(check: KeywordsCheck, expected: object) -> Form:
    return {"kind": "text"}


def keywords_form_problem(form: Form, value: object) -> str | None:
    return text_problem(value)


KIND = CheckKind(
    spec=KeywordsCheck,
    compare=compare_keywords,
    validate_expected=validate_keywords_expected,
    public_form=keywords_form,
    form_problem=keywords_form_problem,
)
