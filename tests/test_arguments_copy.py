"""A trusted call's copy of a case's arguments (trusted.arguments.fresh): equal to
copy.deepcopy's in type, dtype, shape and bytes, and sharing nothing mutable with the case."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.trusted.arguments import fresh

arrays = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.complex128]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
)
leaves = st.one_of(
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    st.text(max_size=5),
    arrays,
    st.builds(np.float64, st.floats()),
    st.builds(lambda items: np.array(items, dtype=object), st.lists(st.lists(st.integers()))),
    st.builds(
        lambda values: np.ma.masked_array(values, mask=[True] + [False] * (len(values) - 1)),
        st.lists(st.floats(allow_nan=False), min_size=1, max_size=4),
    ),
)
cases = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(st.text(max_size=3), inner, max_size=3),
    ),
    max_leaves=12,
)


def same(first: Any, second: Any) -> bool:
    """Equal in type and content, arrays bit for bit (NaN included)."""
    if type(first) is not type(second):
        return False
    if isinstance(first, np.ndarray):
        if first.dtype == object:
            return first.shape == second.shape and all(
                same(a, b) for a, b in zip(first.flat, second.flat, strict=True)
            )
        if isinstance(first, np.ma.MaskedArray):
            return same(first.data, second.data) and same(first.mask, second.mask)
        return (
            first.dtype == second.dtype
            and first.shape == second.shape
            and (first.tobytes() == second.tobytes())
        )
    if isinstance(first, dict):
        return first.keys() == second.keys() and all(same(first[k], second[k]) for k in first)
    if isinstance(first, (list, tuple)):
        return len(first) == len(second) and all(
            same(a, b) for a, b in zip(first, second, strict=True)
        )
    if isinstance(first, float) and first != first:
        return second != second
    return bool(first == second)


def mutable_parts(value: Any) -> list[Any]:
    """The containers and arrays a value is made of (what a call could change in place)."""
    found: list[Any] = []
    if isinstance(value, (np.ndarray, list, dict)):
        found.append(value)
    if isinstance(value, np.ndarray) and value.dtype == object:
        for item in value.flat:
            found += mutable_parts(item)
    items = value.values() if isinstance(value, dict) else value
    if isinstance(value, (list, tuple, dict)):
        for item in items:
            found += mutable_parts(item)
    return found


@given(cases)
def test_the_copy_equals_deepcopys(case: Any) -> None:
    assert same(fresh(case), copy.deepcopy(case))


@given(cases)
def test_the_copy_shares_nothing_a_call_could_change(case: Any) -> None:
    originals = {id(part) for part in mutable_parts(case)}
    assert not originals & {id(part) for part in mutable_parts(fresh(case))}


def test_changing_the_copy_in_place_leaves_the_case_alone() -> None:
    case = {"x": np.arange(4.0), "rows": [np.ones(2)], "n": 3}
    copied = fresh(case)
    copied["x"] -= copied["x"].mean()
    copied["rows"][0][0] = 7.0
    assert case["x"].tolist() == [0.0, 1.0, 2.0, 3.0] and case["rows"][0].tolist() == [1.0, 1.0]
