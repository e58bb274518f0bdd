"""The data-only encoding across the sandbox boundary."""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.sandbox import wire


def roundtrip(value, **kwargs):
    return wire.decode(wire.loads(wire.dumps(wire.encode(value))), **kwargs)


@pytest.mark.parametrize("value", [None, True, 0, -7, 10**40, 1.5, "text", [1, [2, "x"]]])
def test_plain_json_values_roundtrip_unchanged(value):
    assert roundtrip(value) == value


def test_nan_and_infinities_survive():
    out = roundtrip([math.nan, math.inf, -math.inf])
    assert math.isnan(out[0]) and out[1] == math.inf and out[2] == -math.inf


def test_tuples_sets_dicts_and_complex_keep_their_types():
    value = {"edges": {("w0", "L0"), ("w0", "g0")}, ("a", None): (3, 4), "z": 1 + 2j}
    assert roundtrip(value) == value


def test_sets_and_dicts_of_numbers_arrive_unhashed_in_the_order_sent():
    assert roundtrip({3, 1}).items in ((3, 1), (1, 3))
    assert roundtrip({(1, 2): "x", "y": 2}).items == (((1, 2), "x"), ("y", 2))


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "int8", "bool", "complex128"])
def test_numpy_arrays_keep_dtype_and_shape(dtype):
    array = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    out = roundtrip(array)
    assert out.dtype == array.dtype and out.shape == (3, 4)
    np.testing.assert_array_equal(out, array)


def test_numpy_scalars_stay_scalars():
    out = roundtrip(np.float32(0.1))
    assert isinstance(out, np.float32) and out == np.float32(0.1)


def test_torch_tensors_arrive_as_numpy_arrays_by_default():
    out = roundtrip(torch.tensor([[1.0, 2.0]], requires_grad=True))
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == (1, 2)


def test_tensors_can_be_rebuilt_as_tensors_for_function_arguments():
    out = roundtrip(torch.arange(4), tensors="torch")
    assert isinstance(out, torch.Tensor) and out.tolist() == [0, 1, 2, 3]


def test_bfloat16_tensors_are_widened_to_float32():
    assert roundtrip(torch.ones(2, dtype=torch.bfloat16)).dtype == np.float32


def test_objects_that_are_not_data_become_opaque_markers():
    assert roundtrip(x for x in range(3)) == wire.Opaque("generator")
    assert roundtrip(lambda: 1) == wire.Opaque("function")


def test_object_arrays_are_not_sent():
    assert roundtrip(np.array([object()], dtype=object)) == wire.Opaque(
        "numpy array of dtype object"
    )


def test_subclass_with_lying_equality_is_reduced_to_plain_data():
    class Liar(float):
        def __eq__(self, other):
            return True

        __hash__ = float.__hash__

    out = roundtrip(Liar(2.5))
    assert type(out) is float and out == 2.5 and out != 3.0


def test_values_nested_too_deeply_are_refused():
    value: list = []
    for _ in range(wire.MAX_DEPTH + 5):
        value = [value]
    with pytest.raises(wire.WireError, match="nested more than"):
        wire.encode(value)


def test_values_over_the_budget_are_refused():
    with pytest.raises(wire.WireError, match="too large"):
        wire.encode(np.zeros(1000), wire.Budget(1000))


def test_decoder_rejects_object_dtypes():
    forged = {wire.TAG: "ndarray", "dtype": "|O", "shape": [1], "data": "AAAAAAAAAAA="}
    with pytest.raises(wire.WireError, match="not numeric"):
        wire.decode(forged)


def test_decoder_rejects_arrays_whose_bytes_do_not_match_the_shape():
    forged = {wire.TAG: "ndarray", "dtype": "<f8", "shape": [1000000], "data": "AAAAAAAAAAA="}
    with pytest.raises(wire.WireError, match="does not match its shape"):
        wire.decode(forged)


def test_decoder_rejects_unknown_tags():
    with pytest.raises(wire.WireError, match="unknown tag"):
        wire.decode({wire.TAG: "pickle", "data": "..."})


def test_unreadable_lines_raise_wire_errors():
    with pytest.raises(wire.WireError):
        wire.loads(b"{not json")
    with pytest.raises(wire.WireError):
        wire.loads(b"[" * 100000)


# --- decoding what a forged reply may hold ----------------------------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**200), max_value=2**200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)


def _forged(children: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """JSON a child could write: plain containers and every tag, with wrong fields too."""
    shapes = st.lists(st.integers(min_value=-(2**70), max_value=2**70), max_size=4)
    return st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.text(max_size=5), children, max_size=4),
        st.builds(lambda items: {"__t": "set", "items": items}, st.lists(children, max_size=5)),
        st.builds(lambda items: {"__t": "tuple", "items": items}, children),
        st.builds(
            lambda pairs: {"__t": "dict", "items": pairs},
            st.lists(st.lists(children, min_size=1, max_size=3), max_size=4),
        ),
        st.builds(lambda re, im: {"__t": "complex", "re": re, "im": im}, children, children),
        st.builds(
            lambda tag, dtype, shape, data: {
                "__t": tag,
                "dtype": dtype,
                "shape": shape,
                "data": data,
            },
            st.sampled_from(["ndarray", "scalar", "tensor"]),
            st.one_of(st.sampled_from(["<f8", "|b1", "<i4", "O", "<U3", "V8"]), children),
            st.one_of(shapes, children),
            st.one_of(st.sampled_from(["", "AAAAAAAAAAA=", "!!"]), children),
        ),
        st.builds(lambda name: {"__t": "opaque", "type": name}, children),
        st.builds(lambda tag: {"__t": tag}, children),
    )


FORGED = st.recursive(_SCALARS, _forged, max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(FORGED)
def test_decoding_any_forged_value_returns_data_or_a_wire_error(data):
    try:
        line = wire.dumps({"status": "ok", "value": data})
    except (ValueError, OverflowError):
        return  # not even JSON
    with contextlib.suppress(wire.WireError):
        wire.decode(wire.loads(line)["value"])


@settings(max_examples=50, deadline=None)
@given(
    st.integers(min_value=1, max_value=60).map(lambda n: n * (2**61 - 1)),
    st.integers(min_value=2_000, max_value=20_000),
)
def test_sets_of_colliding_numbers_are_never_hashed(step, count):
    members = [k * step for k in range(1, count)]
    value = wire.decode(wire.loads(wire.dumps({"__t": "set", "items": members})))
    assert isinstance(value, wire.Members) and list(value.items) == members


@pytest.mark.parametrize(
    "message",
    [
        {"__t": "opaque", "type": "T" * 10_000},
        {"__t": "ndarray", "dtype": "<f8", "shape": [2**64, 1], "data": ""},
        {"__t": "ndarray", "dtype": "<f8", "shape": [2**62, 4], "data": ""},
        {"__t": "ndarray", "dtype": "<f8", "shape": [1] * 40, "data": "AAAAAAAAAAA="},
        {"__t": "complex", "re": 10**400, "im": 0},
        "s" * (wire.MAX_STRING + 1),
    ],
    ids=["long-name", "shape-2^64", "shape-overflow", "too-many-dimensions", "huge-re", "string"],
)
def test_oversized_or_out_of_range_fields_are_cut_or_refused(message):
    try:
        value = wire.decode(wire.loads(wire.dumps(message)))
    except wire.WireError:
        return
    assert isinstance(value, wire.Opaque) and len(value.type_name) == wire.MAX_NAME


def test_lines_with_too_many_values_or_digits_are_refused_before_parsing():
    with pytest.raises(wire.WireError, match="more than"):
        wire.loads(b"[" + b",".join([b"0"] * (wire.MAX_VALUES + 1)) + b"]")
    with pytest.raises(wire.WireError, match="digits"):
        wire.loads(b"[" + b"9" * (wire.MAX_INT_DIGITS + 1) + b"]")
    text = b'["' + b",[{" * 1_000_000 + b'"]'  # brackets inside a string do not count
    assert len(wire.loads(text)[0]) == 3_000_000


# --- text arrays ---------------------------------------------------------------------------


def test_a_numpy_string_array_arrives_as_a_string_array() -> None:
    got = roundtrip(np.array([["A", "C"], ["D", "Gx"]]))
    assert got.dtype.kind == "U" and got.tolist() == [["A", "C"], ["D", "Gx"]]


def test_an_object_array_of_strings_arrives_as_a_string_array() -> None:
    assert roundtrip(np.array(["A", "C"], dtype=object)).tolist() == ["A", "C"]


def test_an_object_array_of_mixed_items_stays_opaque() -> None:
    assert isinstance(roundtrip(np.array([1, "a"], dtype=object)), wire.Opaque)


def test_a_string_array_is_bounded_by_the_budget() -> None:
    with pytest.raises(wire.WireError):
        wire.encode(np.array(["x" * 1000] * 100), wire.Budget(10_000))


def test_a_forged_text_array_whose_shape_does_not_match_is_refused() -> None:
    with pytest.raises(wire.WireError):
        wire.decode({wire.TAG: "textarray", "shape": [3], "items": ["a"]})


def test_a_forged_text_array_with_a_number_is_refused() -> None:
    with pytest.raises(wire.WireError):
        wire.decode({wire.TAG: "textarray", "shape": [1], "items": [1]})
