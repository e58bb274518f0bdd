"""ArrayCheck (element-wise comparison) and ShapeCheck (a shape tuple).

Lists and numpy arrays are interchangeable; values are compared in float64 (complex128 when the
expected array is complex) under np.errstate(all="ignore"), so huge values, NaN and inf never
leak numpy warnings into the grader's output.
"""

from __future__ import annotations

import math

import numpy as np

from grader.checks.specs import ArrayCheck, ShapeCheck
from grader.checks.values import (
    CoercionError,
    as_array,
    describe,
    fmt_index,
    fmt_number,
    fmt_pair,
    fmt_value,
    sentence,
)
from grader.checks.verdict import Verdict

MAX_POSITIONS = 3
"""Mismatching positions listed on a revealed case; more would drown the message."""

LOW_PRECISION_EPS_FACTOR = 4
"""A float16/float32 answer gets rtol of at least this many machine epsilons of its dtype."""


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
                f"Your array has shape {_shape(got.shape)}; expected shape {_shape(want.shape)}."
            )
        return Verdict.wrong(f"Your array has the wrong shape {_shape(got.shape)}.")
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
    """Forgive float32/float16 rounding: the float32 rounding of the answer must still pass."""
    if got.dtype in (np.float16, np.float32, np.complex64):
        return max(rtol, LOW_PRECISION_EPS_FACTOR * float(np.finfo(got.dtype).eps))
    return rtol


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
        return (
            (got == want)
            | (finite & (np.abs(g - w) <= atol + rtol * np.abs(w)))
            | (np.isnan(g) & np.isnan(w))
        )


def _positions(got: np.ndarray, want: np.ndarray, close: np.ndarray) -> str:
    parts = []
    for flat in np.flatnonzero(~close)[:MAX_POSITIONS]:
        index = tuple(int(i) for i in np.unravel_index(flat, close.shape))
        want_text, got_text = fmt_pair(want[index], got[index])
        parts.append(f"{fmt_index(index)} is {got_text}, expected {want_text}")
    return sentence("; ".join(parts)) + "."


def _shape(shape: tuple[int, ...]) -> str:
    return fmt_value(tuple(shape), limit=80)


def compare_shape(check: ShapeCheck, student: object, expected: object, *, reveal: bool) -> Verdict:
    """Judge a shape tuple; a hidden case is told only that the student's shape is wrong."""
    want = as_shape(expected)
    try:
        got = as_shape(student)
    except CoercionError as exc:
        return Verdict.wrong(str(exc))
    if got == want:
        return Verdict.right()
    reveal_text = f" Expected {_shape(want)}." if reveal else ""
    if len(got) != len(want):
        return Verdict.wrong(
            f"Your shape {_shape(got)} has the wrong number of dimensions.{reveal_text}"
        )
    wrong = sum(g != w for g, w in zip(got, want, strict=True))
    credit = 1.0 - wrong / len(want) if check.per_dimension else 0.0
    return Verdict(
        credit, f"Your shape {_shape(got)} has {wrong} of {len(want)} sizes wrong.{reveal_text}"
    )


def validate_shape_expected(check: ShapeCheck, expected: object) -> str | None:
    """A reference shape must be a sequence of whole numbers."""
    try:
        as_shape(expected)
    except CoercionError as exc:
        return f"a shape check needs a tuple of ints as the expected value: {exc}"
    return None


def as_shape(value: object) -> tuple[int, ...]:
    """Read a tuple, list (torch.Size arrives as a tuple) or 1-d array of whole numbers.

    Integral floats such as 26.0 are accepted (the size is right, only its type is loose);
    bools and fractional or non-finite numbers are not sizes.
    """
    if isinstance(value, np.ndarray) and value.ndim == 1:
        items: list[object] = value.tolist()
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise CoercionError(
            f"Expected a shape such as (3, 4) (a tuple of ints), got {describe(value)}."
        )
    dims = []
    for item in items:
        if isinstance(item, (bool, np.bool_)):
            raise CoercionError(f"Shape sizes must be whole numbers, not bools ({item}).")
        whole_float = (
            isinstance(item, (float, np.floating)) and math.isfinite(item) and item == int(item)
        )
        if isinstance(item, (int, np.integer)) or whole_float:
            dims.append(int(item))
        else:
            raise CoercionError(
                f"Shape sizes must be whole numbers; your shape contains {fmt_value(item, 30)}."
            )
    return tuple(dims)
