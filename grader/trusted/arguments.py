"""A case's arguments copied for one trusted call (the reference, a variant, a mutant).

A trusted function may change its arguments in place (`x -= x.mean()`), and the same arguments
serve the next call and then the student's, so each call gets a copy. copy.deepcopy cost 9 us
on a typical HW2 case (a dict of a few small arrays and numbers), about 500 times per
submission, mostly in its generic dispatch and memo: this copies the containers and arrays a
case is made of directly (3 us) and hands anything else to copy.deepcopy. Exactness is kept
where a shortcut could lose it: an array subclass (a masked array, a matrix) and an array of
Python objects, whose `.copy()` would share its elements, go to copy.deepcopy too.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

_IMMUTABLE = (int, float, complex, bool, str, bytes, type(None))


def fresh(value: Any) -> Any:
    """A deep copy of `value`, as copy.deepcopy makes it, except that an object met twice is
    copied twice (as the student's function receives such arguments over the sandbox's wire)."""
    kind = type(value)
    if kind is np.ndarray and value.dtype != object:
        return value.copy()
    if kind in _IMMUTABLE:
        return value
    if kind is dict:
        return {key: fresh(item) for key, item in value.items()}
    if kind is list:
        return [fresh(item) for item in value]
    if kind is tuple:
        return tuple(fresh(item) for item in value)
    return copy.deepcopy(value)
