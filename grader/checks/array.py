"""ArrayCheck: an array compared element-wise.

Lists and numpy arrays are interchangeable; values are compared in float64 (complex128 when the
expected array is complex) under np.errstate(all="ignore"), so huge values, NaN and inf never
leak numpy warnings into the grader's output.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

from grader.checks.kind import CheckKind, CheckSpec, Form, ItemScorer
from grader.checks.values import (
    CoercionError,
    as_array,
    computed_rtol,
    describe,
    fmt_index,
    fmt_number,
    fmt_pair,
    fmt_shape,
    sentence,
)
from grader.checks.verdict import Verdict


class ArrayCheck(CheckSpec):
    """An array (nested lists, numpy arrays and tensors all count) compared element-wise.

    `dtype` says which element types are acceptable: `any` numeric, `integer`, `floating`, or
    `bool`. `per_element` gives the fraction of matching elements as credit when the shape is
    right; otherwise any mismatch is zero. `squeeze` forgives singleton dimensions
    ((5, 1) against (5,)).

    Values are compared in float64 (complex128 for a complex expected array). A float16/float32
    answer is judged with an effective rtol of max(rtol, 64 * eps of its dtype) (see
    values.computed_rtol): it was computed at that precision, and its rounding adds up. The
    `integer` dtype accepts float arrays whose values are all whole numbers; `floating` accepts
    ints; `bool` accepts 0/1 ints.
    """

    kind: Literal["array"]
    rtol: float = Field(1e-6, ge=0)
    atol: float = Field(1e-9, ge=0)
    dtype: Literal["any", "integer", "floating", "bool"] = "any"
    per_element: bool = False
    squeeze: bool = False


MAX_POSITIONS = 3
"""Mismatching positions listed on a revealed case; more would drown the message."""


def compare_array(check: ArrayCheck, student: object, expected: object, *, reveal: bool) -> Verdict:
    """Judge an array: element types, then shape, then values (all or a per-element share)."""
    want = as_array(expected)
    try:
        got = as_array(student)
    except CoercionError as exc:
        return Verdict.wrong(str(exc))
    if got.dtype.kind == "c" and want.dtype.kind != "c":
        return Verdict.wrong("Your array has complex values; expected real numbers.")
    problem = _dtype_problem(got, check.dtype)
    if problem:
        return Verdict.wrong(problem)
    got_cmp, want_cmp = (np.squeeze(got), np.squeeze(want)) if check.squeeze else (got, want)
    if got_cmp.shape != want_cmp.shape:
        if reveal:
            return Verdict.wrong(
                f"Your array has shape {fmt_shape(got.shape)}; "
                f"expected shape {fmt_shape(want.shape)}."
            )
        return Verdict.wrong(f"Your array has the wrong shape {fmt_shape(got.shape)}.")
    close = _close(got_cmp, want_cmp, rtol=_effective_rtol(check.rtol, got), atol=check.atol)
    wrong = int(close.size - np.count_nonzero(close))
    if wrong == 0:
        return Verdict.right()
    total = close.size
    if check.per_element:
        message = f"{wrong} of {total} elements are wrong."
        credit = 1.0 - wrong / total
    else:
        message = f"{wrong} of {total} elements differ from the expected values."
        credit = 0.0
    if reveal:
        message += " " + _positions(got_cmp, want_cmp, close)
    return Verdict(credit, message)


def validate_array_expected(check: ArrayCheck, expected: object) -> str | None:
    """A reference array must be numeric and satisfy the check's own dtype rule."""
    try:
        array = as_array(expected)
    except CoercionError as exc:
        return f"an array check needs a numeric expected value: {exc}"
    problem = _dtype_problem(array, check.dtype)
    if problem:
        return f"the expected value fails the check's dtype={check.dtype!r}: {problem}"
    return None


def _effective_rtol(rtol: float, got: np.ndarray) -> float:
    """Forgive the rounding of a float32/float16 computation (values.computed_rtol)."""
    return computed_rtol(rtol, got)


def _dtype_problem(array: np.ndarray, dtype: str) -> str | None:
    """Why the elements are not of the kind the check asks for, naming the student's values."""
    kind = array.dtype.kind
    if dtype == "any":
        return None
    if dtype == "floating":
        return "Expected real numbers, got an array of bool." if kind == "b" else None
    if dtype == "integer":
        if kind in "iu":
            return None
        if kind in "bc":
            return f"Expected integers, got {describe(array)}."
        with np.errstate(all="ignore"):
            bad = ~(np.isfinite(array) & (array == np.floor(array)))
        return _first_bad(array, bad, "Expected whole numbers")
    # dtype == "bool": bools, or integers that are all 0 or 1
    if kind == "b":
        return None
    if kind in "iu":
        return _first_bad(array, (array != 0) & (array != 1), "Expected booleans (or 0/1)")
    return f"Expected booleans (or 0/1), got {describe(array)}."


def _first_bad(array: np.ndarray, bad: np.ndarray, lead: str) -> str | None:
    flat = np.flatnonzero(bad)
    if flat.size == 0:
        return None
    index = tuple(int(i) for i in np.unravel_index(flat[0], array.shape))
    return f"{lead}; {fmt_index(index)} is {fmt_number(array[index])}."


def _close(got: np.ndarray, want: np.ndarray, *, rtol: float, atol: float) -> np.ndarray:
    """Element-wise |got - want| <= atol + rtol * |want| between finite values (an infinite
    tolerance would let any number match inf); exact equality (equal infinities, int64 values
    beyond float precision) always matches, and NaN matches only NaN."""
    compute = np.complex128 if want.dtype.kind == "c" else np.float64
    with np.errstate(all="ignore"):
        g = got.astype(compute)
        w = want.astype(compute)
        finite = np.isfinite(g) & np.isfinite(w)
        close: np.ndarray = (
            (got == want)
            | (finite & (np.abs(g - w) <= atol + rtol * np.abs(w)))
            | (np.isnan(g) & np.isnan(w))
        )
    return close


def _positions(got: np.ndarray, want: np.ndarray, close: np.ndarray) -> str:
    parts = []
    for flat in np.flatnonzero(~close)[:MAX_POSITIONS]:
        index = tuple(int(i) for i in np.unravel_index(flat, close.shape))
        want_text, got_text = fmt_pair(want[index], got[index])
        parts.append(f"{fmt_index(index)} is {got_text}, expected {want_text}")
    return sentence("; ".join(parts)) + "."


def array_form(check: ArrayCheck, expected: object) -> Form:
    return {"kind": "array", "shape": list(np.shape(np.asarray(expected, dtype=float)))}


def array_form_problem(form: Form, value: object) -> str | None:
    try:
        shape = list(np.shape(np.asarray(value, dtype=float)))
    except (TypeError, ValueError, OverflowError):
        return f"should be an array of numbers, but it is {describe(value)}"
    if shape != form["shape"]:
        wanted = "x".join(map(str, form["shape"])) or "a single number"
        return f"should have shape {wanted}, but it has {'x'.join(map(str, shape))}"
    return None


def array_entries(value: Any) -> list[Any] | None:
    """A numeric array's entries in order, or None when it is not a numeric array."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    return list(array.reshape(-1))


def array_items(check: ArrayCheck) -> ItemScorer | None:
    """Graded per element, a known mistake is matched element by element: one wrong cell of a
    table costs only that cell's share."""
    if not check.per_element:
        return None

    def score(got: Any, want: Any) -> float:
        return float(np.isclose(got, want, rtol=check.rtol, atol=check.atol, equal_nan=True))

    return ItemScorer(array_entries, score)


KIND = CheckKind(
    spec=ArrayCheck,
    compare=compare_array,
    validate_expected=validate_array_expected,
    public_form=array_form,
    form_problem=array_form_problem,
    items=array_items,
)
