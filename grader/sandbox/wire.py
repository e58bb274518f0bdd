"""The data-only encoding spoken across the sandbox boundary.

Values cross as JSON: plain JSON for None, bool, int, float, str and list; tagged objects for
everything else (tuples, dicts, sets, complex numbers, numpy arrays and scalars, torch tensors as
dtype + shape + base64 bytes). Nothing is ever unpickled or evaluated, so the worst a student
can send is wrong data. Objects that are not data (generators, lambdas, instances of student
classes) cross as an opaque marker naming their type.

This module runs on both sides: the trusted grader imports it, and the child receives its source
text, so it depends only on the standard library and numpy (torch is imported only when a
tensor is actually met).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

TAG = "__t"
MAX_DEPTH = 64
ALLOWED_DTYPE_KINDS = "biufc"


class WireError(ValueError):
    """A value could not be encoded or a message could not be decoded."""


@dataclass(frozen=True)
class Opaque:
    """Stands for a student object that is not data (a generator, a lambda, a class instance)."""

    type_name: str


@dataclass
class Budget:
    """Caps how many bytes one encoded value may take, so a huge return value fails early."""

    remaining: int

    def spend(self, nbytes: int) -> None:
        self.remaining -= nbytes
        if self.remaining < 0:
            raise WireError("the value is too large to return")


def encode(value: Any, budget: Budget | None = None) -> Any:
    """Turn a value into JSON-ready data; raise WireError when it is too large or too deep."""
    return _encode(value, budget or Budget(64 << 20), 0)


def _encode(value: Any, budget: Budget, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise WireError(f"the value is nested more than {MAX_DEPTH} levels deep")
    budget.spend(8)
    kind = type(value)
    if value is None or kind is bool or kind is int or kind is float:
        return value
    if kind is str:
        budget.spend(len(value))
        return value
    if kind is list:
        return [_encode(item, budget, depth + 1) for item in value]
    if kind is tuple:
        return {TAG: "tuple", "items": [_encode(item, budget, depth + 1) for item in value]}
    if kind is dict:
        return {
            TAG: "dict",
            "items": [
                [_encode(key, budget, depth + 1), _encode(item, budget, depth + 1)]
                for key, item in value.items()
            ],
        }
    if kind is set or kind is frozenset:
        return {TAG: "set", "items": [_encode(item, budget, depth + 1) for item in value]}
    if kind is complex:
        return {TAG: "complex", "re": value.real, "im": value.imag}
    if isinstance(value, np.ndarray):
        return _encode_array(np.asarray(value), "ndarray", budget)
    if isinstance(value, np.generic):
        return _encode_array(np.asarray(value), "scalar", budget)
    if _is_torch_tensor(value):
        return _encode_tensor(value, budget)
    # Subclasses of the plain types (a float subclass with a lying __eq__, a namedtuple,
    # torch.Size) are reduced to the plain type's data; their methods never reach the grader.
    for plain in (bool, int, float, str, complex):
        if isinstance(value, plain):
            return _encode(plain(value), budget, depth)
    for plain in (tuple, list):
        if isinstance(value, plain):
            return _encode(plain(value), budget, depth)
    if isinstance(value, dict):
        return _encode(dict(value), budget, depth)
    return {TAG: "opaque", "type": type(value).__name__}


def _encode_array(array: np.ndarray, tag: str, budget: Budget) -> Any:
    if array.dtype.kind not in ALLOWED_DTYPE_KINDS:
        return {TAG: "opaque", "type": f"numpy array of dtype {array.dtype}"}
    budget.spend(array.nbytes * 4 // 3 + 64)
    data = np.ascontiguousarray(array)  # promotes 0-d to 1-d: the shape comes from `array`
    return {
        TAG: tag,
        "dtype": data.dtype.str,
        "shape": list(array.shape),
        "data": base64.b64encode(data.tobytes()).decode("ascii"),
    }


def _is_torch_tensor(value: Any) -> bool:
    module = type(value).__module__ or ""
    if not module.startswith("torch"):
        return False
    import torch  # only reached when torch is already loaded by the value's own module

    return isinstance(value, torch.Tensor)


def _encode_tensor(tensor: Any, budget: Budget) -> Any:
    import torch

    plain = tensor.detach().cpu()
    if plain.dtype in (torch.bfloat16, torch.float16):
        plain = plain.to(torch.float32)
    if (
        plain.is_complex()
        or plain.dtype.is_floating_point
        or plain.dtype
        in (torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)
    ):
        encoded = _encode_array(plain.contiguous().numpy(), "tensor", budget)
        if encoded[TAG] == "tensor":
            encoded["torch_dtype"] = str(tensor.dtype).removeprefix("torch.")
        return encoded
    return {TAG: "opaque", "type": f"tensor of dtype {tensor.dtype}"}


def decode(data: Any, *, tensors: str = "numpy") -> Any:
    """Rebuild a value from wire data; tensors become numpy arrays unless tensors='torch'."""
    return _decode(data, tensors, 0)


def _decode(data: Any, tensors: str, depth: int) -> Any:
    if depth > MAX_DEPTH + 2:
        raise WireError("message nested too deeply")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [_decode(item, tensors, depth + 1) for item in data]
    if not isinstance(data, dict):
        raise WireError(f"unexpected JSON value of type {type(data).__name__}")
    tag = data.get(TAG)
    if tag == "tuple":
        return tuple(_decode(item, tensors, depth + 1) for item in _items(data))
    if tag == "set":
        items = [_decode(item, tensors, depth + 1) for item in _items(data)]
        try:
            return set(items)
        except TypeError:  # unhashable members (lists) keep their data as a list
            return items
    if tag == "dict":
        pairs = [
            (_decode(k, tensors, depth + 1), _decode(v, tensors, depth + 1))
            for k, v in _pairs(data)
        ]
        try:
            return dict(pairs)
        except TypeError:
            raise WireError("a dictionary key is not hashable") from None
    if tag == "complex":
        return complex(float(data["re"]), float(data["im"]))
    if tag in ("ndarray", "scalar", "tensor"):
        array = _decode_array(data)
        if tag == "scalar":
            return array[()]
        if tag == "tensor" and tensors == "torch":
            import torch

            return torch.from_numpy(array.copy())
        return array
    if tag == "opaque":
        return Opaque(str(data.get("type", "object")))
    raise WireError(f"unknown tag {tag!r}")


def _items(data: dict) -> list:
    items = data.get("items")
    if not isinstance(items, list):
        raise WireError("tagged value without a list of items")
    return items


def _pairs(data: dict) -> list:
    pairs = _items(data)
    if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
        raise WireError("dictionary items must be key/value pairs")
    return pairs


def _decode_array(data: dict) -> np.ndarray:
    try:
        dtype = np.dtype(str(data["dtype"]))
        shape = tuple(int(n) for n in data["shape"])
        raw = base64.b64decode(str(data["data"]), validate=True)
    except (KeyError, TypeError, ValueError) as error:
        raise WireError(f"malformed array: {error}") from None
    if dtype.kind not in ALLOWED_DTYPE_KINDS or dtype.hasobject or dtype.fields:
        raise WireError(f"array dtype {dtype} is not numeric")
    size = int(np.prod(shape, dtype=np.int64))
    if any(n < 0 for n in shape) or size * dtype.itemsize != len(raw):
        raise WireError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def dumps(message: Any) -> bytes:
    """One message as one line of JSON (NaN and infinity allowed: both ends are ours)."""
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def loads(line: bytes) -> Any:
    try:
        return json.loads(line)
    except (ValueError, RecursionError) as error:
        raise WireError(f"unreadable message: {error}") from None
