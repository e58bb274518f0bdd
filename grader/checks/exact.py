"""ExactCheck: equality of plain data after light normalisation (see values.canonical)."""

from __future__ import annotations

from typing import Literal

from grader.checks.kind import CheckKind, CheckSpec, Form
from grader.checks.values import CoercionError, canonical, describe, fmt_value, text_problem
from grader.checks.verdict import Verdict


class ExactCheck(CheckSpec):
    """Equality after light normalisation (strings stripped, case folded unless asked not to)."""

    kind: Literal["exact"]
    case_sensitive: bool = False


_KIND_WORDS = {
    "none": "None",
    "bool": "True or False",
    "num": "a number",
    "nan": "a number",
    "str": "text (a str)",
    "seq": "a list or tuple",
    "set": "a set",
    "dict": "a dict",
}


def compare_exact(check: ExactCheck, student: object, expected: object, *, reveal: bool) -> Verdict:
    """Judge equality; a hidden mismatch names only the kind of value expected."""
    want = canonical(expected, case_sensitive=check.case_sensitive)
    try:
        got = canonical(student, case_sensitive=check.case_sensitive)
    except CoercionError as exc:
        return Verdict.wrong(str(exc))
    if got == want:
        return Verdict.right()
    if reveal:
        return Verdict.wrong(f"Expected {fmt_value(expected)}, got {fmt_value(student)}.")
    want_kind = _kind(want)
    if _kind(got) != want_kind:
        return Verdict.wrong(f"Expected {want_kind}, got {describe(student)}.")
    return Verdict.wrong(f"Your answer {fmt_value(student)} is not the expected value.")


def validate_exact_expected(check: ExactCheck, expected: object) -> str | None:
    """Any plain data works as a reference value, as long as it is not absurdly nested."""
    try:
        canonical(expected, case_sensitive=check.case_sensitive)
    except CoercionError as exc:
        return f"the expected value cannot be compared: {exc}"
    return None


def _kind(form: tuple[object, ...]) -> str:
    return _KIND_WORDS.get(str(form[0]), "plain data")


def exact_form(check: ExactCheck, expected: object) -> Form:
    """Text answers are shown as text; any other plain data keeps its form to itself."""
    return {"kind": "text" if isinstance(expected, str) else "any"}


def exact_form_problem(form: Form, value: object) -> str | None:
    return text_problem(value) if form["kind"] == "text" else None


KIND = CheckKind(
    spec=ExactCheck,
    compare=compare_exact,
    validate_expected=validate_exact_expected,
    public_form=exact_form,
    form_problem=exact_form_problem,
)
