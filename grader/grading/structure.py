"""Whole-answer readings that per-element credit must see first: a wrong transformation of the
right answer (transposed, flipped, sign-flipped, shifted) and a placeholder (all zeros, one
repeated number).

Cell-by-cell credit pays for each cell that equals the truth. When the whole answer is the truth
transposed, its cells on the diagonal and wherever the truth is symmetric still "match"; when it
is the truth negated, every zero cell matches; a list of zeros matches every layer whose count is
0. Those cells are right by coincidence, not by work, so such an answer is judged as a whole: the
named mistake's credit if the rubric names it, or nothing, with feedback saying what it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Transform = Callable[[np.ndarray], np.ndarray]

TRANSFORMATIONS: tuple[tuple[str, int, Transform], ...] = (
    ("transposed (rows and columns swapped)", 2, lambda a: a.T),
    ("flipped upside down", 1, lambda a: a[::-1]),
    ("flipped left to right", 2, lambda a: a[:, ::-1]),
    ("rotated by 180 degrees", 2, lambda a: a[::-1, ::-1]),
    ("the right answer with every sign flipped", 1, lambda a: -a),
    ("shifted by one position", 1, lambda a: np.roll(a, 1, axis=0)),
    ("shifted by one position", 1, lambda a: np.roll(a, -1, axis=0)),
    ("shifted by one column", 2, lambda a: np.roll(a, 1, axis=1)),
    ("shifted by one column", 2, lambda a: np.roll(a, -1, axis=1)),
)
"""(what the student is told, the dimensions it needs, the transformation)."""


def numeric(value: Any) -> np.ndarray | None:
    """A real numeric array with at least two elements, or None (nothing to read)."""
    try:
        array = np.asarray(value)
        if array.dtype.kind not in "biuf" or array.size < 2:
            return None
        return array.astype(np.float64)
    except (TypeError, ValueError, OverflowError):
        return None


def transformations(expected: Any) -> list[tuple[str, np.ndarray]]:
    """Each wrong transformation of the right answer that is not the right answer itself."""
    truth = numeric(expected)
    if truth is None:
        return []
    found = []
    with np.errstate(all="ignore"):
        for words, dims, transform in TRANSFORMATIONS:
            if truth.ndim < dims:
                continue
            other = transform(truth)
            if other.shape == truth.shape and np.allclose(other, truth, rtol=1e-9, atol=1e-12):
                continue
            found.append((words, other))
    return found


def is_placeholder(value: Any, expected: Any) -> bool:
    """An answer whose numbers are all the same (zeros, typically) where the truth's are not: a
    placeholder, not an attempt."""
    got, truth = numeric(value), numeric(expected)
    if got is None or truth is None or got.shape != truth.shape:
        return False
    with np.errstate(all="ignore"):
        constant = bool(np.all(got == got.flat[0]))
        varied = not bool(np.all(truth == truth.flat[0]))
    return constant and varied


def is_genuine(value: Any) -> bool:
    """Whether an answer another part's follow-through credit rests on is an attempt: given, and
    not a placeholder of repeated numbers (a list of zeros sums to a total of 0)."""
    if value is None:
        return False
    array = numeric(value)
    if array is None:
        return True
    with np.errstate(all="ignore"):
        return not bool(np.all(array == array.flat[0]))
