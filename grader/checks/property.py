"""PropertyCheck: a reference predicate judges the value, for answers that are not unique.

This kind is the exception to the rule that a check compares a value with an expected one:
the predicate is reference code, which only the engine may look up and call. What is the
kind's own is here: its options, how a predicate's answer becomes a verdict, and what the
student kit may show of it (the kind, never the predicate's name).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from grader.checks.kind import CheckKind, CheckSpec
from grader.checks.verdict import Verdict


class PropertyCheck(CheckSpec):
    """A reference predicate judges the value, for answers that are not unique.

    `predicate` names a function in the reference module, called as predicate(value) for a
    constant or predicate(value, **case) for a function case. It returns a bool, a credit in
    [0, 1], or either of those paired with a feedback string.
    """

    kind: Literal["property"]
    predicate: str


def run_predicate(predicate: Callable[..., Any], value: Any, case: dict[str, Any]) -> Verdict:
    """Normalise a reference predicate's answer (bool, credit, or either with feedback)."""
    outcome = predicate(value, **case)
    feedback = ""
    if isinstance(outcome, tuple):
        outcome, feedback = outcome
    if isinstance(outcome, (bool, np.bool_)):
        credit = 1.0 if outcome else 0.0
    else:
        credit = float(outcome)
        if not math.isfinite(credit):
            credit = 0.0
        credit = min(max(credit, 0.0), 1.0)
    if credit < 1.0 and not feedback:
        feedback = "does not have the required property"
    return Verdict(credit, str(feedback))


def _judged_by_the_engine(
    check: PropertyCheck, student: object, expected: object, *, reveal: bool
) -> Verdict:
    raise TypeError(
        "a property check has no comparator: its predicate is reference code, which the "
        "engine runs (see run_predicate)"
    )


def _no_expected_value(check: PropertyCheck, expected: object) -> str | None:
    raise TypeError("a property check has no expected value to validate: its predicate judges")


def _kind_only(check: PropertyCheck) -> dict[str, Any]:
    """The predicate's name stays with the grader: it would point students at the reference."""
    return {"kind": "property"}


KIND = CheckKind(
    spec=PropertyCheck,
    compare=_judged_by_the_engine,
    validate_expected=_no_expected_value,
    public_options=_kind_only,
    item=False,
    judged_in_public=False,
)
