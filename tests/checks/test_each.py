"""EachCheck: lists of answers judged item by item."""

from __future__ import annotations

import numpy as np

from grader.checks import compare, validate_expected
from grader.checks.each import EachCheck

SHAPES = EachCheck.model_validate(
    {"kind": "each", "item": {"kind": "shape"}, "labels": ["a", "b", "c"]}
)
EXPECTED = [(10, 16, 32, 32), (10, 32, 16, 16), (10, 128, 8, 8)]


def test_all_items_right_is_full_credit():
    assert compare(SHAPES, [list(s) for s in EXPECTED], EXPECTED, reveal=False).passed


def test_one_wrong_item_costs_its_share_and_is_named_by_its_label():
    got = [EXPECTED[0], EXPECTED[1], (10, 128, 16, 16)]
    verdict = compare(SHAPES, got, EXPECTED, reveal=False)
    assert verdict.credit == 2 / 3
    assert "1 of 3 items are wrong" in verdict.feedback and "c:" in verdict.feedback


def test_inner_partial_credit_is_kept():
    check = EachCheck.model_validate(
        {"kind": "each", "item": {"kind": "shape", "per_dimension": True}}
    )
    got = [EXPECTED[0], EXPECTED[1], (10, 128, 16, 16)]
    assert compare(check, got, EXPECTED, reveal=False).credit == (1 + 1 + 0.5) / 3


def test_a_list_of_the_wrong_length_is_wrong():
    verdict = compare(SHAPES, EXPECTED[:2], EXPECTED, reveal=False)
    assert verdict.credit == 0 and "Expected 3 answers" in verdict.feedback


def test_a_non_list_is_wrong_with_a_description():
    verdict = compare(SHAPES, None, EXPECTED, reveal=False)
    assert verdict.credit == 0 and "None" in verdict.feedback


def test_array_rows_count_as_items():
    numbers = EachCheck.model_validate({"kind": "each", "item": {"kind": "numeric"}})
    assert compare(numbers, np.array([1.0, 2.0]), [1, 2], reveal=True).passed


def test_hidden_feedback_does_not_show_expected_items():
    verdict = compare(SHAPES, [EXPECTED[0], EXPECTED[1], (1, 2, 3, 4)], EXPECTED, reveal=False)
    assert "128, 8, 8" not in verdict.feedback


def test_expected_values_are_validated_item_by_item():
    assert "labels has 3 names but there are 2 items" in validate_expected(SHAPES, EXPECTED[:2])
    assert validate_expected(SHAPES, EXPECTED) is None
