"""EachCheck: a list of answers judged one item at a time, so each wrong item costs its share.

Typical use: the output shape of every layer of a network, or the value after every step. The
inner comparison is any other value check, passed in by the dispatcher so this module does not
need to know them all.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from grader.checks.specs import EachCheck
from grader.checks.values import describe
from grader.checks.verdict import Verdict

ItemCompare = Callable[..., Verdict]
MAX_LISTED = 4


def as_items(value: object) -> list[object] | None:
    """A list or tuple as its items, an array as its rows; anything else is not a list."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, np.ndarray) and value.ndim >= 1:
        return list(value)
    return None


def item_label(check: EachCheck, index: int) -> str:
    return check.labels[index] if index < len(check.labels) else f"item {index + 1}"


def compare_each(
    check: EachCheck, student: object, expected: object, *, reveal: bool, item_compare: ItemCompare
) -> Verdict:
    want = as_items(expected)
    if want is None:
        raise TypeError(f"an each check needs a list of expected items, got {describe(expected)}")
    got = as_items(student)
    if got is None:
        return Verdict.wrong(f"Expected a list of {len(want)} answers, got {describe(student)}.")
    if len(got) != len(want):
        return Verdict.wrong(f"Expected {len(want)} answers, one per item; got {len(got)}.")
    verdicts = [
        item_compare(check.item, g, w, reveal=reveal) for g, w in zip(got, want, strict=True)
    ]
    credit = sum(v.credit for v in verdicts) / len(verdicts) if verdicts else 1.0
    wrong = [(item_label(check, i), v) for i, v in enumerate(verdicts) if not v.passed]
    if not wrong:
        return Verdict.right()
    lines = [f"{len(wrong)} of {len(verdicts)} items are wrong."]
    lines += [f"{label}: {v.feedback}" for label, v in wrong[:MAX_LISTED]]
    return Verdict(min(credit, 1.0), "\n".join(lines))


def validate_each_expected(
    check: EachCheck, expected: object, item_validate: Callable[[object, object], str | None]
) -> str | None:
    items = as_items(expected)
    if items is None:
        return f"an each check needs a list of expected items, got {describe(expected)}"
    if check.labels and len(check.labels) != len(items):
        return f"labels has {len(check.labels)} names but there are {len(items)} items"
    for index, item in enumerate(items):
        problem = item_validate(check.item, item)
        if problem:
            return f"{item_label(check, index)}: {problem}"
    return None
