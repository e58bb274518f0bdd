"""The data-only encoding spoken across the sandbox boundary.

Values cross as JSON: plain JSON for None, bool, int, float, str and list; tagged objects for
everything else (tuples, dicts, sets, complex numbers, numpy arrays and scalars, torch tensors as
dtype + shape + base64 bytes). Nothing is ever unpickled or evaluated, so the worst a student
can send is wrong data. Objects that are not data (generators, lambdas, instances of student
classes) cross as an opaque marker naming their type.

This module runs on both sides: the trusted grader imports it, and the child receives its source
text, so it depends only on the standard library and numpy (torch is imported only when a
tensor is actually met).

Decoding runs in the trusted process after the request's deadline has stopped applying, on
bytes the student may have written themselves, so it must cost time and memory in proportion to
the line and no more, whatever the line says. It never trusts the child's own caps: it checks
every string, count and shape itself. It never hashes values the student chose: Python hashes
numbers by their value modulo 2**61 - 1, so a million distinct ints can share one hash and make
building a set or dict of them take hours. Sets and dicts whose members are numbers therefore
arrive as `Members` and `Pairs` (their items in the order sent), compared by sorting in the
checks; sets and dicts of text (hashed with a per-process secret key) arrive as real ones.
"""

from __future__ import annotations

import base64
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

TAG = "__t"
MAX_DEPTH = 64
ALLOWED_DTYPE_KINDS = "biufc"
MAX_VALUES = 2_000_000
"""JSON values one message may hold: bounds the memory of the parsed message (a value costs the
grader some 60 bytes, a line only two)."""
MAX_STRING = 1 << 20
"""Characters of one string in a value."""
MAX_NAME = 200
"""Characters of a type name (of an opaque object, an exception, a non-function)."""
MAX_INT_DIGITS = 4300
"""Digits of one integer: reading more costs time quadratic in the digits."""
MAX_ARRAY_DIMENSIONS = 32
MAX_MESSAGE = 2000
"""Characters of an exception's message in a reply."""
MAX_TRACEBACK = 6000
MAX_OUTPUT = 4096
"""Characters of what one request printed (a note on what was dropped comes on top)."""


class WireError(ValueError):
    """A value could not be encoded or a message could not be decoded."""


@dataclass(frozen=True)
class Opaque:
    """Stands for a student object that is not data (a generator, a lambda, a class instance)."""

    type_name: str


@dataclass(frozen=True, eq=False)
class Members:
    """A set the student returned whose members include numbers: its items in the order sent,
    never hashed (duplicates are possible only in a forged reply)."""

    items: tuple[Any, ...]

    def __repr__(self) -> str:  # as the student's set would read in feedback
        return "{" + ", ".join(map(repr, self.items)) + "}" if self.items else "set()"


@dataclass(frozen=True, eq=False)
class Pairs:
    """A dict the student returned whose keys include numbers: its (key, value) items in the
    order sent, never hashed."""

    items: tuple[tuple[Any, Any], ...]

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{key!r}: {item!r}" for key, item in self.items) + "}"


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


_PLAIN_TYPES: tuple[type[Any], ...] = (bool, int, float, str, complex, tuple, list)
"""In the order tried: bool before int, since a bool is an int."""


def _encode(value: Any, budget: Budget, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise WireError(f"the value is nested more than {MAX_DEPTH} levels deep")
    budget.spend(8)
    kind = type(value)
    if value is None or kind is bool or kind is int or kind is float:
        return value
    if kind is str:
        if len(value) > MAX_STRING:
            raise WireError(f"a string in the value is too large: over {MAX_STRING:,} characters")
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
    for plain in _PLAIN_TYPES:
        if isinstance(value, plain):
            return _encode(plain(value), budget, depth)
    if isinstance(value, dict):
        return _encode(dict(value), budget, depth)
    return {TAG: "opaque", "type": type_name(value)}


def type_name(value: Any) -> str:
    """The name of a value's type, cut to the length the grader accepts."""
    return str(type(value).__name__)[:MAX_NAME]


def _encode_array(array: np.ndarray, tag: str, budget: Budget) -> Any:
    if tag == "ndarray" and _is_text_array(array):
        return _encode_text_array(array, budget)
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


def _is_text_array(array: np.ndarray) -> bool:
    """A numpy array of text: dtype str (U), or object holding only str (a select-all answer
    written np.array(["a", "b"]) or built from a list of mixed-length strings)."""
    if array.dtype.kind == "U":
        return True
    if array.dtype.kind != "O" or array.size > MAX_VALUES:
        return False
    return all(type(item) is str for item in array.flat)


def _encode_text_array(array: np.ndarray, budget: Budget) -> Any:
    """A text array as data: its shape and its strings, flat in C order, each bounded like any
    string; never the array's bytes, never pickled."""
    if array.ndim > MAX_ARRAY_DIMENSIONS:
        raise WireError(f"an array has more than {MAX_ARRAY_DIMENSIONS} dimensions")
    items = []
    for item in array.flat:
        text = str(item)
        if len(text) > MAX_STRING:
            raise WireError(f"a string in the value is too large: over {MAX_STRING:,} characters")
        budget.spend(len(text) + 8)
        items.append(text)
    return {TAG: "textarray", "shape": list(array.shape), "items": items}


def _decode_text_array(data: dict[str, Any]) -> np.ndarray:
    shape_data, items = data.get("shape"), _items(data)
    if not (
        isinstance(shape_data, list)
        and len(shape_data) <= MAX_ARRAY_DIMENSIONS
        and all(type(n) is int and 0 <= n < 2**40 for n in shape_data)
        and math.prod(shape_data) == len(items)
        and all(isinstance(item, str) and len(item) <= MAX_STRING for item in items)
    ):
        raise WireError("malformed text array")
    return np.array(items, dtype=str).reshape(tuple(shape_data))


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
    """Rebuild a value from wire data; tensors become numpy arrays unless tensors='torch'.
    Anything malformed, oversized or out of range raises WireError, nothing else."""
    try:
        return _decode(data, tensors, 0)
    except WireError:
        raise
    except (ValueError, TypeError, OverflowError, KeyError, MemoryError) as error:
        raise WireError(f"malformed value ({type(error).__name__})") from None


def _decode(data: Any, tensors: str, depth: int) -> Any:
    if depth > MAX_DEPTH + 2:
        raise WireError("message nested too deeply")
    if data is None or isinstance(data, (bool, int, float)):
        return data
    if isinstance(data, str):
        if len(data) > MAX_STRING:
            raise WireError(f"a string longer than {MAX_STRING} characters")
        return data
    if isinstance(data, list):
        return [_decode(item, tensors, depth + 1) for item in data]
    if not isinstance(data, dict):
        raise WireError(f"unexpected JSON value of type {type(data).__name__}")
    tag = data.get(TAG)
    if tag == "tuple":
        return tuple(_decode(item, tensors, depth + 1) for item in _items(data))
    if tag == "set":
        members = tuple(_decode(item, tensors, depth + 1) for item in _items(data))
        return set(members) if all(map(_hash_is_secret, members)) else Members(members)
    if tag == "dict":
        pairs = tuple(
            (_decode(k, tensors, depth + 1), _decode(v, tensors, depth + 1))
            for k, v in _pairs(data)
        )
        if not all(_hash_is_secret(key) for key, _ in pairs):
            return Pairs(pairs)
        return dict(pairs)
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
    if tag == "textarray":
        return _decode_text_array(data)
    if tag == "opaque":
        return Opaque(str(data.get("type", "object"))[:MAX_NAME])
    raise WireError("unknown tag")


def _hash_is_secret(value: Any, depth: int = 0) -> bool:
    """Whether a student cannot make many distinct values like this one share a hash: text is
    hashed with a key secret to this process; None and bools have three values in all; a tuple
    combines its items' hashes. Numbers hash by value, which the student chooses."""
    if value is None or isinstance(value, (str, bool)):
        return True
    if isinstance(value, tuple) and depth < 4:
        return all(_hash_is_secret(item, depth + 1) for item in value)
    return False


def _items(data: dict[str, Any]) -> list[Any]:
    items = data.get("items")
    if not isinstance(items, list):
        raise WireError("tagged value without a list of items")
    return items


def _pairs(data: dict[str, Any]) -> list[Any]:
    pairs = _items(data)
    if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
        raise WireError("dictionary items must be key/value pairs")
    return pairs


def _decode_array(data: dict[str, Any]) -> np.ndarray:
    dtype_text, shape_data, text = data.get("dtype"), data.get("shape"), data.get("data")
    if not (
        isinstance(dtype_text, str)
        and len(dtype_text) <= 8
        and isinstance(shape_data, list)
        and len(shape_data) <= MAX_ARRAY_DIMENSIONS
        and all(type(n) is int and 0 <= n < 2**40 for n in shape_data)
        and isinstance(text, str)
    ):
        raise WireError("malformed array")
    try:
        dtype = np.dtype(dtype_text)
        raw = base64.b64decode(text, validate=True)
    except (TypeError, ValueError) as error:
        raise WireError(f"malformed array ({type(error).__name__})") from None
    if dtype.kind not in ALLOWED_DTYPE_KINDS or dtype.hasobject or dtype.fields:
        raise WireError("array dtype is not numeric")
    if math.prod(shape_data) * dtype.itemsize != len(raw):
        raise WireError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(tuple(shape_data)).copy()


def dumps(message: Any) -> bytes:
    """One message as one line of JSON (NaN and infinity allowed: both ends are ours)."""
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')


def value_count(line: bytes) -> int:
    """An upper bound on the JSON values in `line` (each is an opening bracket or follows a
    comma), exact enough once strings are set aside: counted in C, before parsing."""
    count = line.count(b",") + line.count(b"[") + line.count(b"{") + 1
    if count > MAX_VALUES:  # commas and brackets inside strings may have inflated it
        bare = _STRING.sub(b'""', line)
        count = bare.count(b",") + bare.count(b"[") + bare.count(b"{") + 1
    return count


def _bounded_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise WireError(f"an integer with more than {MAX_INT_DIGITS} digits")
    return int(text)


def loads(line: bytes) -> Any:
    """Parse one message, refusing, before any object is built, a line that would build more
    objects than MAX_VALUES."""
    if value_count(line) > MAX_VALUES:
        raise WireError(f"a message with more than {MAX_VALUES} values")
    try:
        return json.loads(line, parse_int=_bounded_int)
    except WireError:
        raise
    except (ValueError, RecursionError) as error:
        raise WireError(f"unreadable message ({type(error).__name__})") from None
