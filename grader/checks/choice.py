"""ChoiceCheck (one option out of several) and SelectAllCheck (a set of picks)."""

from __future__ import annotations

import bisect
from typing import Any

import numpy as np

from grader.checks.specs import ChoiceCheck, SelectAllCheck
from grader.checks.values import CoercionError, canonical, clip, describe, fmt_value, sentence
from grader.checks.verdict import Verdict
from grader.sandbox.wire import Members

MAX_LISTED = 8
"""Items listed by name in select-all feedback; the count says how many more there are."""


def _spell(text: str) -> str:
    """Loose spelling of a choice: case, surrounding and repeated spaces and a final full stop
    ("Yes." is a yes) do not matter."""
    return " ".join(text.split()).casefold().rstrip(".").rstrip()


def _options_text(check: ChoiceCheck) -> str:
    return clip(", ".join(check.options), 200)


def read_choice(check: ChoiceCheck, value: object) -> str:
    """The option a value names, from its text, an alias, a bool (yes/true, no/false), an int
    (for numbered options) or a float equal to a numeric option; CoercionError when it names
    none of them."""
    table = {_spell(option): option for option in check.options}
    for option, aliases in check.aliases.items():
        target = table.get(_spell(option), option)
        for alias in aliases:
            table.setdefault(_spell(alias), target)
    if isinstance(value, (bool, np.bool_)):
        words = ("yes", "true") if value else ("no", "false")
        for word in words:
            if word in table:
                return table[word]
        raise CoercionError(f"{bool(value)} is not one of the options: {_options_text(check)}.")
    if isinstance(value, (int, np.integer)):
        text = str(int(value))
    elif isinstance(value, (float, np.floating)):
        numbered = _numeric_option(table, float(value))
        if numbered is not None:
            return numbered
        text = repr(float(value))
    elif isinstance(value, str):
        text = value
    else:
        raise CoercionError(
            f"Expected one of the options ({_options_text(check)}), got {describe(value)}."
        )
    option = table.get(_spell(text))
    if option is None:
        raise CoercionError(
            f"{fmt_value(value, 40)} is not one of the options: {_options_text(check)}."
        )
    return option


def _numeric_option(table: dict[str, str], value: float) -> str | None:
    """The option whose text is this number (1.0 names option "1", 0.1 names "0.1")."""
    for spelling, option in table.items():
        try:
            if float(spelling) == value:
                return option
        except ValueError:
            continue
    return None


def compare_choice(
    check: ChoiceCheck, student: object, expected: object, *, reveal: bool
) -> Verdict:
    """Judge one choice; a hidden mismatch says only that the student's choice is not right."""
    want = read_choice(check, expected)
    try:
        got = read_choice(check, student)
    except CoercionError as exc:
        return Verdict.wrong(str(exc))
    if got == want:
        return Verdict.right()
    if reveal:
        return Verdict.wrong(f"You chose {got!r}; the answer is {want!r}.")
    return Verdict.wrong(f"{got!r} is not the right choice.")


def validate_choice_expected(check: ChoiceCheck, expected: object) -> str | None:
    """The reference answer must name an option, and aliases must point at options."""
    spelled = {_spell(option) for option in check.options}
    for option in check.aliases:
        if _spell(option) not in spelled:
            return f"alias key {option!r} is not one of the options {check.options}"
    try:
        read_choice(check, expected)
    except CoercionError as exc:
        return f"the expected value is not an option: {exc}"
    return None


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
