"""ShapeCheck: a shape tuple such as (32, 128, 26, 26), whole or per dimension."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from grader.checks.kind import CheckKind, CheckSpec, Form
from grader.checks.values import CoercionError, describe, fmt_shape, fmt_value, length_problem
from grader.checks.verdict import Verdict


class ShapeCheck(CheckSpec):
    """A shape tuple such as (32, 128, 26, 26); lists and torch.Size count as tuples.

    With `per_dimension`, a shape of the right length earns the fraction of dimensions that
    match.
    """

    kind: Literal["shape"]
    per_dimension: bool = False


def compare_shape(check: ShapeCheck, student: object, expected: object, *, reveal: bool) -> Verdict:
    """Judge a shape tuple; a hidden case is told only that the student's shape is wrong."""
    try:
        want = as_shape(expected)
    except CoercionError:
        return _same_numbers(student, expected)
    try:
        got = as_shape(student)
    except CoercionError as exc:
        return Verdict.wrong(str(exc))
    if got == want:
        return Verdict.right()
    reveal_text = f" Expected {fmt_shape(want)}." if reveal else ""
    if len(got) != len(want):
        return Verdict.wrong(
            f"Your shape {fmt_shape(got)} has the wrong number of dimensions.{reveal_text}"
        )
    wrong = sum(g != w for g, w in zip(got, want, strict=True))
    credit = 1.0 - wrong / len(want) if check.per_dimension else 0.0
    return Verdict(
        credit, f"Your shape {fmt_shape(got)} has {wrong} of {len(want)} sizes wrong.{reveal_text}"
    )


def _same_numbers(student: object, variant: object) -> Verdict:
    """Whether an answer equals, size by size, a variant that is no shape: a named mistake's
    fractional sizes (true division instead of floor). `validate_expected` keeps the canonical
    answer a shape, so only a variant's value gets here, and it is never shown."""
    try:
        got = np.asarray(student, dtype=np.float64)
        want = np.asarray(variant, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return Verdict.wrong("Expected a shape such as (3, 4) (a tuple of ints).")
    same = got.shape == want.shape and bool(np.allclose(got, want, rtol=1e-9, atol=0.0))
    return Verdict.right() if same else Verdict.wrong("Your shape is wrong.")


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
        if isinstance(item, (int, np.integer)) or (
            isinstance(item, (float, np.floating)) and math.isfinite(item) and item == int(item)
        ):
            dims.append(int(item))
        else:
            raise CoercionError(
                f"Shape sizes must be whole numbers; your shape contains {fmt_value(item, 30)}."
            )
    return tuple(dims)


def shape_form(check: ShapeCheck, expected: object) -> Form:
    return {"kind": "shape", "length": len(as_shape(expected))}


def shape_form_problem(form: Form, value: object) -> str | None:
    return length_problem(form["length"], value)


KIND = CheckKind(
    spec=ShapeCheck,
    compare=compare_shape,
    validate_expected=validate_shape_expected,
    public_form=shape_form,
    form_problem=shape_form_problem,
)
