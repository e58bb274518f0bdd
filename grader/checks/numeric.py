"""NumericCheck: one number, equal within a tolerance or to a number of significant figures.

Comparisons are exact for finite values: huge answers such as 1e308 or 10**400 can neither
overflow nor raise, and ints beyond float range are compared exactly. Exact rational arithmetic
(fractions.Fraction) costs about 50 us a comparison, and judging one HW2 submission makes
hundreds, so a float computation decides first whenever its rounding provably cannot change the
outcome (see `_float_decision`); only the cases too close to the bound to tell, or outside the
range where that proof holds, take the exact path.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Literal

import numpy as np
from pydantic import Field

from grader.checks.kind import CheckKind, CheckSpec, Form
from grader.checks.values import (
    CoercionError,
    as_number,
    computed_rtol,
    describe,
    fmt_number,
    fmt_pair,
    is_finite,
)
from grader.checks.verdict import Verdict

Real = int | float


class NumericCheck(CheckSpec):
    """A single number, equal within |s - e| <= atol + rtol * |e|, or to `sig_figs` figures."""

    kind: Literal["numeric"]
    rtol: float = Field(1e-6, ge=0)
    atol: float = Field(1e-9, ge=0)
    sig_figs: int | None = Field(None, ge=1, le=17)


def compare_numeric(
    check: NumericCheck, student: object, expected: object, *, reveal: bool
) -> Verdict:
    """Judge one number; feedback for a hidden case names only the student's own value."""
    want = as_number(expected)
    try:
        got = as_number(student)
    except CoercionError as exc:
        return Verdict.wrong(str(exc))
    if isinstance(got, complex) and not isinstance(want, complex):
        return Verdict.wrong(f"Expected a real number, got a complex number ({fmt_number(got)}).")
    rtol = computed_rtol(check.rtol, student)
    if rtol != check.rtol:
        check = check.model_copy(update={"rtol": rtol})
    if _agrees(check, got, want):
        return Verdict.right()
    return Verdict.wrong(_mismatch(check, got, want, reveal=reveal))


def validate_numeric_expected(check: NumericCheck, expected: object) -> str | None:
    """A reference value must be a single number (bools and text are not)."""
    try:
        as_number(expected)
    except CoercionError:
        return f"a numeric check needs a number as the expected value, not {describe(expected)}"
    return None


def _agrees(check: NumericCheck, got: Real | complex, want: Real | complex) -> bool:
    """Complex answers agree when both their real and imaginary parts do."""
    pairs: list[tuple[Real, Real]] = [(_real(got), _real(want))]
    if isinstance(want, complex):
        pairs.append((_imag(got), want.imag))
    if check.sig_figs is not None:
        return all(same_to_sig_figs(g, w, check.sig_figs) for g, w in pairs)
    return all(within(g, w, rtol=check.rtol, atol=check.atol) for g, w in pairs)


def _real(x: Real | complex) -> Real:
    return x.real if isinstance(x, complex) else x


def _imag(x: Real | complex) -> Real:
    return x.imag if isinstance(x, complex) else 0


def _is_nan(x: Real) -> bool:
    return isinstance(x, float) and math.isnan(x)


def within(got: Real, want: Real, *, rtol: float, atol: float) -> bool:
    """|got - want| <= atol + rtol * |want|; NaN matches only NaN, inf only the same inf."""
    if not (is_finite(got) and is_finite(want)):
        if _is_nan(got) or _is_nan(want):
            return _is_nan(got) and _is_nan(want)
        return got == want
    decided = _float_decision(got, want, rtol=rtol, atol=atol)
    if decided is not None:
        return decided
    return _exactly_within(got, want, rtol=rtol, atol=atol)


def _exactly_within(got: Real, want: Real, *, rtol: float, atol: float) -> bool:
    """|got - want| <= atol + rtol * |want| in exact rational arithmetic (finite values)."""
    return abs(Fraction(got) - Fraction(want)) <= Fraction(atol) + Fraction(rtol) * abs(
        Fraction(want)
    )


FLOAT_RANGE = 1e300
"""Operands up to this size cannot overflow a subtraction, a product with a tolerance of at
most this size, or the sum of such terms."""
EXACT_INT = 2**53
"""Ints up to this size are floats exactly."""
MARGIN = 1e-9
"""Relative margin the float result must clear: each of the four float operations is off by at
most 2**-53 (1.1e-16) relatively, so this is over a million times what rounding can move."""
TINY = 1e-300
"""Absolute margin: an underflowing product is off by at most 2**-1075 (2.5e-324)."""


def _as_float(x: Real) -> float | None:
    """`x` as the float equal to it, or None when no float is, or it is too large to bound."""
    if isinstance(x, int):
        return float(x) if -EXACT_INT <= x <= EXACT_INT else None
    return x if -FLOAT_RANGE <= x <= FLOAT_RANGE else None


def _float_decision(got: Real, want: Real, *, rtol: float, atol: float) -> bool | None:
    """`within` of finite values computed in floats, or None when floats cannot decide it.

    With every operand exactly a float of magnitude at most 1e300, the float difference and
    bound are the exact ones times (1 + d), |d| < 3e-16, plus under 1e-323 from an underflow;
    so a computed difference below the computed bound by a relative MARGIN and TINY more is
    below the exact bound, and one above it by as much is above it. Between, `_exactly_within`
    decides. The hypothesis test in tests/checks/test_numeric_fast_path.py checks the two
    agree on floats and ints of every magnitude, subnormals and values at the bound."""
    g, w = _as_float(got), _as_float(want)
    if g is None or w is None or not (rtol <= FLOAT_RANGE and atol <= FLOAT_RANGE):
        return None
    difference = abs(g - w)
    bound = atol + rtol * abs(w)
    if difference < bound * (1.0 - MARGIN) - TINY:
        return True
    if difference > bound * (1.0 + MARGIN) + TINY:
        return False
    return None


def round_sig(x: Real, figures: int) -> Decimal:
    """Round half up to `figures` significant figures, from the number as it is printed.

    Starting from repr (0.145, not the binary 0.14499999...) rounds the way a person reading
    the number would, which is how students round their answers.
    """
    exact = Decimal(repr(x)) if isinstance(x, float) else Decimal(x)
    with localcontext() as context:
        context.prec = figures
        context.rounding = ROUND_HALF_UP
        return +exact


def same_to_sig_figs(got: Real, want: Real, figures: int) -> bool:
    """Both numbers rounded to `figures` significant figures are equal (NaN/inf as in within)."""
    if not (is_finite(got) and is_finite(want)):
        return within(got, want, rtol=0.0, atol=0.0)
    return round_sig(got, figures) == round_sig(want, figures)


def _mismatch(
    check: NumericCheck, got: Real | complex, want: Real | complex, *, reveal: bool
) -> str:
    figures = check.sig_figs
    if reveal:
        if figures is not None and not isinstance(want, complex) and is_finite(want):
            return (
                f"Expected {round_sig(want, figures):g} (to {figures} significant figures), "
                f"got {fmt_number(got)}."
            )
        want_text, got_text = fmt_pair(want, got)
        return f"Expected {want_text}, got {got_text}."
    if not isinstance(got, complex) and _is_nan(got):
        return "Your answer is nan (not a number), which is not the expected value."
    if figures is not None:
        return (
            f"Your answer {fmt_number(got)} does not match the expected value to {figures} "
            "significant figures."
        )
    return f"Your answer {fmt_number(got)} is not within tolerance of the expected value."


def numeric_form(check: NumericCheck, expected: object) -> Form:
    return {"kind": "number"}


def numeric_form_problem(form: Form, value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return f"should be a number, but it is {describe(value)}"
    return None


KIND = CheckKind(
    spec=NumericCheck,
    compare=compare_numeric,
    validate_expected=validate_numeric_expected,
    public_form=numeric_form,
    form_problem=numeric_form_problem,
)
