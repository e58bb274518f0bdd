"""EachCheck: a list of answers judged one item at a time, so each wrong item costs its share.

Typical use: the output shape of every layer of a network, or the value after every step. The
inner comparison is any other check kind, reached through the registry, so this module does
not need to know them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from grader.checks.kind import CheckKind, CheckSpec, Form, ItemScorer
from grader.checks.values import describe, length_problem
from grader.checks.verdict import Verdict

if TYPE_CHECKING:
    ItemCheck = CheckSpec
    """At run time, the union of every registered kind that can judge one item; the registry
    builds it once every kind is known (see grader.checks)."""

MAX_LISTED = 4


class EachCheck(CheckSpec):
    """A list of answers (one per layer, per step...) judged item by item with `item` check.

    Credit is the mean over items, so a wrong layer costs only its share; `labels` name the
    items in feedback ("layer c: ..."). Known mistakes are matched item by item too.
    """

    kind: Literal["each"]
    item: ItemCheck
    labels: list[str] = Field(default_factory=list)


def _item_kind(check: EachCheck) -> CheckKind[Any]:
    # Imported here: the registry imports this module to register it.
    from grader.checks import kind_of

    return kind_of(check.item)


def as_items(value: object) -> list[object] | None:
    """A list or tuple as its items, an array as its rows; anything else is not a list."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, np.ndarray) and value.ndim >= 1:
        return list(value)
    return None


def item_label(check: EachCheck, index: int) -> str:
    return check.labels[index] if index < len(check.labels) else f"item {index + 1}"


def compare_each(check: EachCheck, student: object, expected: object, *, reveal: bool) -> Verdict:
    want = as_items(expected)
    if want is None:
        raise TypeError(f"an each check needs a list of expected items, got {describe(expected)}")
    got = as_items(student)
    if got is None:
        return Verdict.wrong(f"Expected a list of {len(want)} answers, got {describe(student)}.")
    if len(got) != len(want):
        return Verdict.wrong(f"Expected {len(want)} answers, one per item; got {len(got)}.")
    compare_item = _item_kind(check).compare
    verdicts = [
        compare_item(check.item, g, w, reveal=reveal) for g, w in zip(got, want, strict=True)
    ]
    credit = sum(v.credit for v in verdicts) / len(verdicts) if verdicts else 1.0
    wrong = [(item_label(check, i), v) for i, v in enumerate(verdicts) if not v.passed]
    if not wrong:
        return Verdict.right()
    lines = [f"{len(wrong)} of {len(verdicts)} items are wrong."]
    lines += [f"{label}: {v.feedback}" for label, v in wrong[:MAX_LISTED]]
    return Verdict(min(credit, 1.0), "\n".join(lines))


def validate_each_expected(check: EachCheck, expected: object) -> str | None:
    items = as_items(expected)
    if items is None:
        return f"an each check needs a list of expected items, got {describe(expected)}"
    if check.labels and len(check.labels) != len(items):
        return f"labels has {len(check.labels)} names but there are {len(items)} items"
    for index, item in enumerate(items):
        problem = _item_kind(check).validate_expected(check.item, item)
        if problem:
            return f"{item_label(check, index)}: {problem}"
    return None


def each_form(check: EachCheck, expected: object) -> Form:
    items = as_items(expected)
    return {"kind": "list", "length": 0 if items is None else len(items)}


def each_form_problem(form: Form, value: object) -> str | None:
    return length_problem(form["length"], value)


def each_items(check: EachCheck) -> ItemScorer:
    """Known mistakes are matched layer by layer: one wrong layer costs only its share."""
    compare_item = _item_kind(check).compare

    def score(got: Any, want: Any) -> float:
        return compare_item(check.item, got, want, reveal=False).credit

    return ItemScorer(as_items, score)


KIND = CheckKind(
    spec=EachCheck,
    compare=compare_each,
    validate_expected=validate_each_expected,
    public_form=each_form,
    form_problem=each_form_problem,
    items=each_items,
    item=False,
)
