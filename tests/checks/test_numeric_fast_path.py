"""The float fast path of numeric comparisons decides exactly as exact rational arithmetic."""

from __future__ import annotations

import math

from hypothesis import example, given, settings
from hypothesis import strategies as st

from grader.checks.numeric import _exactly_within, _float_decision, within

finite_floats = st.floats(allow_nan=False, allow_infinity=False)
subnormals = st.floats(min_value=-2.3e-308, max_value=2.3e-308, allow_subnormal=True)
ints = st.integers() | st.integers(min_value=-(10**400), max_value=10**400)
near_2_53 = st.integers(min_value=2**53 - 4, max_value=2**53 + 4).map(lambda n: n * (-1) ** n)
numbers = finite_floats | subnormals | ints | near_2_53
tolerances = st.sampled_from([0.0, 1e-12, 1e-9, 1e-6, 1e-3, 0.5, 1.0]) | st.floats(
    min_value=0.0, allow_nan=False, allow_infinity=False
)


@settings(max_examples=1000)
@given(numbers, numbers, tolerances, tolerances)
@example(1.0, 1.0 + 1e-6, 1e-6, 0.0)
@example(10**400, 10**400 + 1, 0.0, 0.0)
@example(2**53 + 1, float(2**53), 0.0, 0.0)
@example(5e-324, 0.0, 0.0, 5e-324)
@example(1e308, -1e308, 1.0, 0.0)
def test_within_decides_as_exact_arithmetic_does(got, want, rtol, atol):
    assert within(got, want, rtol=rtol, atol=atol) == _exactly_within(
        got, want, rtol=rtol, atol=atol
    )


@settings(max_examples=1000)
@given(finite_floats | subnormals, tolerances, tolerances, st.integers(-3, 3))
def test_within_decides_as_exact_arithmetic_does_at_the_bound(want, rtol, atol, steps):
    """An answer a few floats either side of want + atol + rtol * |want|, where float
    rounding alone would decide a naive comparison."""
    got = want + (atol + rtol * abs(want))
    for _ in range(abs(steps)):
        got = math.nextafter(got, math.inf if steps > 0 else -math.inf)
    if not math.isfinite(got):
        return  # within compares infinities apart, not through this path
    assert within(got, want, rtol=rtol, atol=atol) == _exactly_within(
        got, want, rtol=rtol, atol=atol
    )


def test_ordinary_comparisons_are_decided_in_floats():
    assert _float_decision(1.0, 1.0 + 1e-7, rtol=1e-6, atol=1e-9) is True
    assert _float_decision(1.0, 1.001, rtol=1e-6, atol=1e-9) is False
    assert _float_decision(3, 3.0, rtol=1e-6, atol=1e-9) is True


def test_comparisons_beyond_the_proof_take_the_exact_path():
    assert _float_decision(10**400, 10**400, rtol=1e-6, atol=1e-9) is None
    assert _float_decision(1e308, 1e308, rtol=1e-6, atol=1e-9) is None
    assert _float_decision(2**53 + 1, 2**53 + 1, rtol=0.0, atol=0.0) is None
