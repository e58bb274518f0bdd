"""Describing and reading decoded student values, for every comparator.

Student values arrive as plain data decoded from the sandbox child, but they can still be of any
type, shape or size: None, bools, huge ints, NaN, ragged nested lists, 0-d arrays, or an `Opaque`
stand-in for an object that could not be sent. Comparators must never raise on such input, so
every reading helper here turns a failure into a `CoercionError` whose message is a sentence
written for the student about the student's own value (never about the expected one).
"""

from __future__ import annotations

import cmath
import math
import re
import warnings
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import numpy as np

from grader.sandbox.wire import Members, Opaque, Pairs  # what the sandbox decodes into

MAX_NESTING = 64
"""Deeper nesting than this is refused: no real answer needs it, and recursion must stay bounded."""

_EXACT_INT_DIGITS = 15
"""Ints with more digits are shown in scientific notation, like floats."""


class CoercionError(ValueError):
    """A student value cannot be read as the data a check needs; the message tells them why."""


def describe(value: object) -> str:
    """A short student-facing description of a value's type and shape, never of its content.

    Used in "expected a number, got a list of 4 items" messages, which are safe to show for
    hidden cases because they only describe what the student returned.
    """
    if value is None:
        return "None"
    if isinstance(value, Opaque):
        return f"an object of type {clip(value.type_name, 60)}"
    if isinstance(value, np.ndarray):
        return _describe_array(value)
    if isinstance(value, np.generic):
        numeric = isinstance(value, (np.number, np.bool_))
        return f"a numpy {value.dtype.name if numeric else type(value).__name__}"
    if isinstance(value, Members):
        return f"a set of {_count(len(value.items), 'item')}" if value.items else "an empty set"
    if isinstance(value, Pairs):
        return f"a dict of {_count(len(value.items), 'entry', 'entries')}"
    if isinstance(value, (list, tuple, set, frozenset)):
        kind = type(value).__name__
        if not value:
            return f"an empty {kind}"
        return f"{_article(kind)} {kind} of {_count(len(value), 'item')}"
    if isinstance(value, dict):
        if not value:
            return "an empty dict"
        return f"a dict of {_count(len(value), 'entry', 'entries')}"
    if isinstance(value, (bool, int, float, complex, str, bytes)):
        kind = type(value).__name__
        return f"{_article(kind)} {kind}"
    return f"an object of type {type(value).__name__}"


def _describe_array(array: np.ndarray) -> str:
    kind = {"U": "str", "S": "bytes", "O": "object"}.get(array.dtype.kind, array.dtype.name)
    if array.ndim == 0:
        return f"a 0-d array of {kind}"
    if array.ndim == 1:
        return f"a length-{array.shape[0]} array of {kind}"
    dims = "x".join(str(n) for n in array.shape)
    return f"{_article(dims)} {dims} array of {kind}"


def _article(word: str) -> str:
    """'a' or 'an' as the word is spoken: "an int", "an 8x8 array", "an 11x2 array"."""
    digits = re.match(r"\d+", word)
    if digits:
        number = digits.group()
        eleven_or_eighteen = len(number) % 3 == 2 and number[:2] in {"11", "18"}
        return "an" if number.startswith("8") or eleven_or_eighteen else "a"
    return "an" if word[:1].lower() in "aeiou" else "a"


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def sentence(text: str) -> str:
    """Capitalise the first letter, so messages built from fragments read as sentences."""
    return text[:1].upper() + text[1:]


def fmt_number(x: object, digits: int = 6) -> str:
    """A compact rendering of a number (%.6g style) that never overflows, even for 10**400."""
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, bool):
        return repr(x)
    if isinstance(x, int):
        if abs(x) < 10**_EXACT_INT_DIGITS:
            return str(x)
        mantissa, exponent = f"{Decimal(x):.{digits - 1}e}".split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{exponent}"
    if isinstance(x, (float, complex, np.floating, np.complexfloating)):
        return f"{x:.{digits}g}"
    return fmt_value(x)


def fmt_pair(a: object, b: object) -> tuple[str, str]:
    """Render two numbers with just enough digits that different values never look equal.

    "expected 0.123457, got 0.123457" would confuse anyone; the digits grow until the two
    renderings differ (or reach full float precision).
    """
    for digits in (6, 10, 17):
        left, right = fmt_number(a, digits), fmt_number(b, digits)
        if left != right:
            break
    return left, right


def fmt_value(value: object, limit: int = 60) -> str:
    """A short, safe rendering of a plain-data value, truncated to `limit` characters.

    Only the student's own values (or revealed expected values) go through here. Falls back to
    describe() when repr fails (an int too long to print, nesting too deep for repr).
    """
    if isinstance(value, (int, float, complex, np.number)) and not isinstance(value, bool):
        return fmt_number(value)
    if isinstance(value, Opaque):
        return f"<{clip(value.type_name, limit)} object>"
    try:
        if isinstance(value, np.ndarray):
            if value.size > 20:
                return describe(value)
            value = value.tolist()
        text = repr(value)
    except Exception:
        return describe(value)
    return clip(text, limit)


def fmt_shape(shape: tuple[int, ...]) -> str:
    return fmt_value(tuple(shape), limit=80)


def clip(text: str, limit: int) -> str:
    """Shorten text to at most `limit` characters, marking the cut with "..."."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def fmt_index(index: tuple[int, ...]) -> str:
    """Name one array element for feedback: "element 2", "element (0, 2)", "the value" (0-d)."""
    if not index:
        return "the value"
    if len(index) == 1:
        return f"element {index[0]}"
    return "element (" + ", ".join(str(i) for i in index) + ")"


def as_number(value: object) -> int | float | complex:
    """Read a single number: Python and numpy numbers, or a numpy array holding one element.

    Bools are refused (True is not an answer to "how many parameters"), and so are strings and
    one-item lists, with a message that tells the student what to return instead.
    """
    if isinstance(value, (bool, np.bool_)):
        raise CoercionError(f"Expected a number, got a bool ({value}).")
    # numpy types first: np.float64 subclasses float, but its repr is "np.float64(...)"
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.complexfloating):
        return complex(value)
    if isinstance(value, (int, float, complex)):
        return value
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "biufc":
        return as_number(value.reshape(())[()])
    if isinstance(value, str):
        raise CoercionError(
            f"Expected a number, got a str ({fmt_value(value, 30)}); return a number, not text."
        )
    if isinstance(value, (list, tuple)) and len(value) == 1:
        raise CoercionError(
            f"Expected a number, got {describe(value)}; return the number itself, "
            f"not a {type(value).__name__} holding it."
        )
    raise CoercionError(f"Expected a number, got {describe(value)}.")


def is_finite(x: int | float) -> bool:
    """math.isfinite without the OverflowError it raises for ints beyond float range."""
    return isinstance(x, int) or math.isfinite(x)


def as_array(value: object) -> np.ndarray:
    """Read nested lists, tuples, numpy arrays or scalars as a numeric (or bool) numpy array.

    Lists and arrays are interchangeable. Ragged lists, text, None elements and other objects
    are refused with a message naming the problem; an int too large for float64 is refused too,
    since no array comparison could judge it.
    """
    if isinstance(value, np.ndarray):
        array = value
    elif isinstance(value, (list, tuple, int, float, complex, np.generic)):
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                array = np.asarray(value)
        except ValueError as exc:
            raise CoercionError(
                "Your answer is not a rectangular array (ragged nested lists)."
                if "inhomogeneous" in str(exc)
                else "Your answer could not be read as an array (nested too deeply?)."
            ) from None
        except Exception:
            raise CoercionError("Your answer could not be read as an array.") from None
    else:
        raise CoercionError(
            f"Expected an array (a numpy array or nested lists), got {describe(value)}."
        )
    kind = array.dtype.kind
    if kind == "O":
        return _numbers_from_objects(array)
    if kind in "US":
        raise CoercionError("Your array contains text, not numbers.")
    if kind not in "biufc":
        raise CoercionError(f"Expected an array of numbers, got {describe(array)}.")
    return array


def _numbers_from_objects(array: np.ndarray) -> np.ndarray:
    """An object array is numeric only when numpy could not fit big Python ints in int64."""
    for item in array.flat:
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            raise CoercionError(f"Your array contains {describe(item)}, not only numbers.")
    try:
        return array.astype(np.float64)
    except OverflowError:
        raise CoercionError("Your array contains an integer too large to compare.") from None


def canonical(value: object, *, case_sensitive: bool, depth: int = 0) -> tuple[object, ...]:
    """An ordered normal form (a tagged tuple): equal answers compare equal in any container.

    Strings are stripped (and case folded unless `case_sensitive`); 3, 3.0 and 3+0j are equal,
    NaN equals NaN, bools stay distinct from numbers, lists, tuples and 1-d arrays are all
    sequences, sets compare as sets. Nothing is called on the value except numpy's own
    tolist/item, and unknown objects are equal only to themselves.

    Forms are compared and sorted, never hashed: sets and dicts become sorted tuples of their
    items' forms. A student chooses the hash of every number they return, and a million
    numbers sharing one hash would make a Python set of them take hours to build.
    """
    if depth > MAX_NESTING:
        raise CoercionError("Your answer is nested too deeply to compare.")
    if value is None:
        return ("none",)
    if isinstance(value, (bool, np.bool_)):
        return ("bool", bool(value))
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, np.floating):  # long double survives .item()
        value = float(value)
    if isinstance(value, str):
        text = value.strip()
        return ("str", text if case_sensitive else text.casefold())
    if isinstance(value, (int, float, complex)):
        if not isinstance(value, int) and cmath.isnan(value):
            return ("nan",)
        return ("num", value.real, value.imag) if isinstance(value, complex) else ("num", value, 0)

    def form(item: object) -> tuple[object, ...]:
        return canonical(item, case_sensitive=case_sensitive, depth=depth + 1)

    if isinstance(value, (list, tuple)):
        return ("seq", tuple(form(v) for v in value))
    if isinstance(value, (set, frozenset, Members)):
        items = value.items if isinstance(value, Members) else value
        return ("set", distinct_sorted(form(v) for v in items))
    if isinstance(value, (dict, Pairs)):
        pairs = value.items if isinstance(value, Pairs) else value.items()
        # A forged reply may repeat a key: as in a dict, the last one sent wins (sorting by
        # key, then by position from the end, never compares the values).
        entries: list[tuple[object, object]] = []
        for key, _, item in sorted((form(k), -i, form(v)) for i, (k, v) in enumerate(pairs)):
            if not entries or entries[-1][0] != key:
                entries.append((key, item))
        return ("dict", tuple(entries))
    if isinstance(value, Opaque):
        return ("opaque", value.type_name)
    return ("object", type(value).__name__, id(value))


def text_problem(value: object) -> str | None:
    """Why a value is not the non-empty text a form asks for (exact and keyword answers)."""
    if not isinstance(value, str) or not value.strip():
        return f"should be text, but it is {describe(value)}"
    return None


def length_problem(length: int, value: object) -> str | None:
    """Why a value is not a list of `length` items (shapes, and `each` lists)."""
    if not isinstance(value, (list, tuple)) or len(value) != length:
        return f"should be a list of {length} items, but it is {describe(value)}"
    return None


def distinct_sorted(forms: Iterable[Any]) -> tuple[Any, ...]:
    """Forms sorted, each kept once (forms are tuples whose first item orders their kinds)."""
    kept: list[Any] = []
    for item in sorted(forms):
        if not kept or item != kept[-1]:
            kept.append(item)
    return tuple(kept)


COMPUTED_EPS_FACTOR = 64
"""Machine epsilons of its own dtype a low-precision answer may be off by, relative. A value
computed end to end in float32 (a few matrix products, a power, a solve) carries rounding from
every step, some 4 to 10 epsilons and more with cancellation; 64 float32 epsilons is 7.6e-6, still
five orders of magnitude finer than a factor 2, n/(n-1) for n <= 1000, or a dropped term."""


def computed_rtol(rtol: float, student: object) -> float:
    """The relative tolerance an answer is judged with: the rubric's, or, for an answer whose
    dtype is float16/float32/complex64 (computed at that precision), no tighter than
    COMPUTED_EPS_FACTOR epsilons of that dtype."""
    dtype = getattr(student, "dtype", None)
    if isinstance(student, (np.ndarray, np.generic)) and dtype in (
        np.float16,
        np.float32,
        np.complex64,
    ):
        return max(rtol, COMPUTED_EPS_FACTOR * float(np.finfo(dtype).eps))
    return rtol
