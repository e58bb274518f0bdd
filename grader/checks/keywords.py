"""KeywordsCheck: short free text credited by the key ideas it mentions.

A keyword matches where a word starts with it ("explod" matches "exploding"), case folded;
the words of a multi-word keyword may be separated by any spaces or hyphens. Keyword credit is
weak evidence, so feedback only counts ideas unless the case is revealed.

A keyword is not an idea the answer states when it is negated: a negation ("not", "n't",
"never", "no", "no longer", "without"...) before it in the same clause (clauses end at
punctuation and at "but", "however", "whereas"; "not only" is no negation). "The memory does
not grow" states the opposite of "memory grows", so an answer whose key idea appears only
negated, or that states one of its `none_of` antonyms, is contradicted and earns nothing.
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
    none_of: list[str] = Field(default_factory=list)
    """Words that state the opposite of this answer ("constant" against "memory grows"): an
    answer stating one (not negated) is contradicted."""


NEGATIONS = re.compile(
    r"(?<!\w)(not|no|never|neither|nor|without|cannot|none|nothing|isn't|doesn't|don't|"
    r"didn't|won't|wouldn't|aren't|wasn't|weren't|hasn't|haven't|can't|[a-z]+n't|no longer)"
    r"(?!\w)"
)
NOT_A_NEGATION = re.compile(r"(?<!\w)not (only|just|merely)(?!\w)")
CLAUSE_END = re.compile(r"[.;:!?,()\n]|(?<!\w)(but|however|whereas|although|though)(?!\w)")


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


def _negated(text: str, start: int) -> bool:
    """Whether the keyword starting at `start` is negated within its clause."""
    clause_start = max((m.end() for m in CLAUSE_END.finditer(text, 0, start)), default=0)
    before = NOT_A_NEGATION.sub(" ", text[clause_start:start])
    return bool(NEGATIONS.search(before))


def _occurrences(keyword: str, text: str) -> tuple[bool, bool]:
    """Whether the keyword occurs stated, and whether it occurs negated."""
    stated = negated = False
    if keyword.strip():
        for match in _pattern(keyword).finditer(text):
            if _negated(text, match.start()):
                negated = True
            else:
                stated = True
    return stated, negated


def _found(answer: KeywordAnswer, text: str) -> tuple[list[bool], bool]:
    """For each group of the answer, whether one of its keywords is stated (not negated); and
    whether the text contradicts the answer: a group only negated, or an antonym stated."""
    found, contradicted = [], False
    for group in answer.all_of:
        seen = [_occurrences(word, text) for word in group]
        stated = any(s for s, _ in seen)
        found.append(stated)
        contradicted |= not stated and any(n for _, n in seen)
    contradicted |= any(_occurrences(word, text)[0] for word in answer.none_of)
    return found, contradicted


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
        (0.0 if contradicted else sum(found) / len(found), answer, found, contradicted)
        for answer in check.answers
        for found, contradicted in [_found(answer, text)]
    ]
    credit, answer, found, _ = max(scored, key=lambda entry: entry[0])
    if credit >= 1.0:
        return Verdict.right()
    if credit == 0.0 and any(contradicted for *_, contradicted in scored):
        return Verdict.wrong("Your answer negates the key idea or states its opposite.")
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
