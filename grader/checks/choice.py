"""ChoiceCheck: one option out of several, however the student spells it."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from grader.checks.kind import CheckKind, CheckSpec, Form
from grader.checks.values import CoercionError, clip, describe, fmt_value
from grader.checks.verdict import Verdict


class ChoiceCheck(CheckSpec):
    """One answer out of `options` (case-insensitive); `aliases` map other spellings to an option.

    True/False answers are read as "yes"/"no" when those are options.
    """

    kind: Literal["choice"]
    options: list[str] = Field(min_length=2)
    aliases: dict[str, list[str]] = Field(default_factory=dict)


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
    chosen = table.get(_spell(text))
    if chosen is None:
        raise CoercionError(
            f"{fmt_value(value, 40)} is not one of the options: {_options_text(check)}."
        )
    return chosen


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


def choice_form(check: ChoiceCheck, expected: object) -> Form:
    return {"kind": "choice", "options": list(check.options)}


def choice_form_problem(form: Form, value: object) -> str | None:
    try:
        read_choice(ChoiceCheck(kind="choice", options=form["options"]), value)
    except CoercionError as error:
        return str(error)
    return None


KIND = CheckKind(
    spec=ChoiceCheck,
    compare=compare_choice,
    validate_expected=validate_choice_expected,
    public_form=choice_form,
    form_problem=choice_form_problem,
)
