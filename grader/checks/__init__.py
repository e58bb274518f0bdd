"""Value comparators: trusted, pure functions judging a student value against an expected one.

`compare` dispatches on the check's type; `normalise_expected_ok` lets the rubric validator
reject a reference value a check could never compare with (before any student is graded).
Property checks are not here: the engine runs their reference predicates itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from grader.checks.arrays import (
    compare_array,
    compare_shape,
    validate_array_expected,
    validate_shape_expected,
)
from grader.checks.big_o import compare_big_o, validate_big_o_expected
from grader.checks.choice import (
    compare_choice,
    compare_select_all,
    validate_choice_expected,
    validate_select_all_expected,
)
from grader.checks.each import compare_each, validate_each_expected
from grader.checks.exact import compare_exact, validate_exact_expected
from grader.checks.keywords import compare_keywords, validate_keywords_expected
from grader.checks.numeric import compare_numeric, validate_numeric_expected
from grader.checks.specs import (
    ArrayCheck,
    BigOCheck,
    ChoiceCheck,
    EachCheck,
    ExactCheck,
    KeywordsCheck,
    NumericCheck,
    SelectAllCheck,
    ShapeCheck,
)
from grader.checks.verdict import Verdict

__all__ = ["compare", "normalise_expected_ok"]

_COMPARATORS: dict[type, Callable[..., Verdict]] = {
    ExactCheck: compare_exact,
    NumericCheck: compare_numeric,
    ArrayCheck: compare_array,
    ShapeCheck: compare_shape,
    ChoiceCheck: compare_choice,
    SelectAllCheck: compare_select_all,
    BigOCheck: compare_big_o,
    KeywordsCheck: compare_keywords,
    EachCheck: lambda check, student, expected, *, reveal: compare_each(
        check, student, expected, reveal=reveal, item_compare=compare
    ),
}

_VALIDATORS: dict[type, Callable[[Any, object], str | None]] = {
    ExactCheck: validate_exact_expected,
    NumericCheck: validate_numeric_expected,
    ArrayCheck: validate_array_expected,
    ShapeCheck: validate_shape_expected,
    ChoiceCheck: validate_choice_expected,
    SelectAllCheck: validate_select_all_expected,
    BigOCheck: validate_big_o_expected,
    KeywordsCheck: validate_keywords_expected,
    EachCheck: lambda check, expected: validate_each_expected(
        check, expected, item_validate=normalise_expected_ok
    ),
}


def compare(check: object, student: object, expected: object, *, reveal: bool) -> Verdict:
    """Judge `student` against `expected` under `check`.

    `reveal` is False for hidden cases: the feedback then never contains the expected value.
    Raises TypeError for a PropertyCheck (or anything else that is not a value check), because
    predicates run reference code and belong to the engine.
    """
    comparator = _COMPARATORS.get(type(check))
    if comparator is None:
        raise TypeError(
            f"compare() has no comparator for {type(check).__name__}; property "
            "checks are judged by the engine's predicate runner"
        )
    return comparator(check, student, expected, reveal=reveal)


def normalise_expected_ok(check: object, expected: object) -> str | None:
    """Why a reference value cannot be used with this check, or None when it can."""
    validator = _VALIDATORS.get(type(check))
    if validator is None:
        raise TypeError(f"normalise_expected_ok() has no validator for {type(check).__name__}")
    return validator(check, expected)
