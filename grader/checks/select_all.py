"""SelectAllCheck: a set of picks (select all that apply, or a set of graph edges)."""

from __future__ import annotations

import bisect
from typing import Any, Literal

import numpy as np
from pydantic import Field

from grader.checks.kind import CheckKind, CheckSpec, Form
from grader.checks.values import CoercionError, canonical, describe, fmt_value, sentence
from grader.checks.verdict import Verdict
from grader.sandbox.wire import Members

MAX_LISTED = 8
"""Items listed by name in select-all feedback; the count says how many more there are."""


class SelectAllCheck(CheckSpec):
    """A set of picks (select all that apply, or a set of graph edges).

    Credit is (right picks - wrong_pick_penalty * wrong picks) / number of right answers,
    clipped to [0, 1]; a subset of the right answers earns its share.
    """

    kind: Literal["select_all"]
    wrong_pick_penalty: float = Field(1.0, ge=0)
    case_sensitive: bool = False


def _picks(value: object, *, case_sensitive: bool, split_text: bool) -> list[tuple[Any, object]]:
    """Each distinct pick's normal form with the pick as the student wrote it, sorted by form.

    Lists inside become tuples (canonical treats both as sequences), strings are normalised
    inside tuples too, and duplicates count once. A single string "a, b" is split on commas only
    when every expected item is a plain string (`split_text`), since a comma-separated answer
    is then unambiguous. Forms are sorted, never hashed (see canonical).
    """
    if isinstance(value, str) and split_text:
        items: list[object] = [part for part in value.split(",") if part.strip()]
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
    elif isinstance(value, Members):
        items = list(value.items)
    elif isinstance(value, np.ndarray) and value.ndim == 1:
        items = value.tolist()
    else:
        raise CoercionError(f"Expected a set or list of picks, got {describe(value)}.")
    forms = sorted(
        (canonical(item, case_sensitive=case_sensitive), index) for index, item in enumerate(items)
    )
    picks: list[tuple[Any, object]] = []
    for form, index in forms:
        if not picks or picks[-1][0] != form:
            picks.append((form, items[index]))
    return picks


def _without(picks: list[tuple[Any, object]], others: list[tuple[Any, object]]) -> list[object]:
    """The picks whose form is not among `others` (both sorted by form)."""
    forms = [form for form, _ in others]
    found = []
    for form, item in picks:
        at = bisect.bisect_left(forms, form)
        if at == len(forms) or forms[at] != form:
            found.append(item)
    return found


def _listing(items: list[object]) -> str:
    texts = sorted(fmt_value(item, 40) for item in items)  # sets have no stable order
    shown = ", ".join(texts[:MAX_LISTED])
    more = len(items) - MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def compare_select_all(
    check: SelectAllCheck, student: object, expected: object, *, reveal: bool
) -> Verdict:
    """Credit (right - penalty * wrong) / len(expected), clipped to [0, 1].

    Wrong picks are always listed (they are the student's own); missing ones only on reveal.
    """
    split_text = isinstance(expected, (list, tuple, set, frozenset)) and all(
        isinstance(item, str) for item in expected
    )
    want = _picks(expected, case_sensitive=check.case_sensitive, split_text=False)
    try:
        got = _picks(student, case_sensitive=check.case_sensitive, split_text=split_text)
    except CoercionError as exc:
        return Verdict.wrong(str(exc))
    missing = _without(want, got)
    extra = _without(got, want)
    if not missing and not extra:
        return Verdict.right()
    if not want:
        return Verdict.wrong(f"Nothing should be picked; wrong picks: {_listing(extra)}.")
    right = len(want) - len(missing)
    credit = min(1.0, max(0.0, (right - check.wrong_pick_penalty * len(extra)) / len(want)))
    parts = []
    if missing:
        part = f"{len(missing)} of {len(want)} right picks missing"
        parts.append(part + (f" ({_listing(missing)})" if reveal else ""))
    if extra:
        parts.append(f"{_plural(len(extra), 'wrong pick')} ({_listing(extra)})")
    return Verdict(credit, sentence("; ".join(parts)) + ".")


def validate_select_all_expected(check: SelectAllCheck, expected: object) -> str | None:
    """The reference must be a non-empty collection of distinct picks."""
    try:
        picks = _picks(expected, case_sensitive=check.case_sensitive, split_text=False)
    except CoercionError as exc:
        return f"the expected value is not a collection of picks: {exc}"
    if not picks:
        return "the expected set of picks is empty"
    return None


def select_all_form(check: SelectAllCheck, expected: object) -> Form:
    return {"kind": "set"}


def select_all_form_problem(form: Form, value: object) -> str | None:
    if not isinstance(value, (list, tuple, set, frozenset, Members)):
        return f"should be a set (or list) of items, but it is {describe(value)}"
    return None


KIND = CheckKind(
    spec=SelectAllCheck,
    compare=compare_select_all,
    validate_expected=validate_select_all_expected,
    public_form=select_all_form,
    form_problem=select_all_form_problem,
)
