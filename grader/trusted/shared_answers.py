"""Answers computed once in a batch and handed to its workers, as data.

The batch process validates the rubric before any worker grades, which computes every constant's
canonical answer and the answers of the listed cases; each worker used to compute them all
again (a trained model's parameters take tens of milliseconds each; a deep-learning rubric's,
seconds in all). The batch process now sends them to the workers in the sandbox's data-only
encoding (grader.sandbox.wire: nothing is pickled or evaluated, though both ends are
trusted). A grade must not depend on whether an answer was computed or received, so an answer
is sent only if decoding its encoding gives back a value identical to it (same types all the
way down, same dtypes and bytes: see `identical`); any other (a set, a tensor, an object) the
worker computes itself, as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.sandbox import wire
from grader.trusted.answers import ListedAnswers
from grader.trusted.reference import ReferenceModule


def identical(first: Any, second: Any) -> bool:
    """Whether two values are the same data of the same types: what a check sees is then the
    same whichever it gets. Conservative: anything not known to compare exactly is not."""
    kind = type(first)
    if kind is not type(second):
        return False
    if first is None or kind in (bool, int, str):
        return bool(first == second)
    if kind is float:
        return bool(first.hex() == second.hex())  # bit for bit (a NaN is "nan" either way)
    if kind is complex:
        return identical(first.real, second.real) and identical(first.imag, second.imag)
    if kind in (list, tuple):
        return len(first) == len(second) and all(map(identical, first, second))
    if kind is dict:
        return identical(list(first), list(second)) and all(
            identical(first[key], second[key]) for key in first
        )
    if kind is np.ndarray or isinstance(first, np.generic):
        return (
            first.dtype == second.dtype
            and first.dtype.kind in wire.ALLOWED_DTYPE_KINDS
            and np.shape(first) == np.shape(second)
            and first.tobytes() == second.tobytes()
        )
    return False


def _encoded(value: Any) -> tuple[Any] | None:
    """(the value's wire encoding,) if it decodes to an identical value, else None."""
    try:
        data = wire.encode(value)
        return (data,) if identical(wire.decode(data), value) else None
    except wire.WireError:
        return None


def shared_answers(reference: ReferenceModule, listed: ListedAnswers) -> dict[str, Any]:
    """What the workers receive (JSON-ready): the constants the reference module has computed
    and the listed cases' answers, those that cross exactly."""
    constants = {}
    for name, value in reference.computed_constants().items():
        encoded = _encoded(value)
        if encoded is not None:
            constants[name] = encoded[0]
    cases = []
    for (q_index, p_index, kind, index), value in listed.items():
        encoded = _encoded(value)
        if encoded is not None:
            cases.append([q_index, p_index, kind, index, encoded[0]])
    return {"constants": constants, "listed": cases}


def adopt_answers(shared: dict[str, Any], reference: ReferenceModule) -> ListedAnswers:
    """In a worker: give the reference module the constants received, so they are not
    computed again, and return the listed cases' answers (for Engine's `listed_answers`)."""
    for name, data in shared["constants"].items():
        reference.adopt_constant(name, wire.decode(data))
    return {
        (q_index, p_index, kind, index): wire.decode(data)
        for q_index, p_index, kind, index, data in shared["listed"]
    }
