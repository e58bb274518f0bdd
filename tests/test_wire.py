"""The data-only encoding across the sandbox boundary."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

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
