"""ArrayCheck: element-wise comparison of arrays, lists and tensors-as-arrays."""

import warnings

import numpy as np
import pytest

from grader.checks import compare, validate_expected
from grader.checks.array import ArrayCheck
from grader.checks.values import Opaque

DEFAULT = ArrayCheck(kind="array")

# 3.1 of CSC413 HW2: the image convolved with the Laplacian kernel.
CONV = np.array(
    [[-1, 2, 2, -2, 0], [-2, 1, 0, 2, -1], [3, 0, 0, 1, -1], [-2, 2, 0, 2, -1], [0, -2, 3, -2, 0]]
)


def judge(student, expected, check=DEFAULT, *, reveal=False):
    return compare(check, student, expected, reveal=reveal)


def test_equal_array_passes():
    assert judge(CONV.copy(), CONV).passed


def test_nested_lists_and_arrays_are_interchangeable():
    assert judge(CONV.tolist(), CONV).passed
    assert judge(CONV, CONV.tolist()).passed
    assert judge(tuple(map(tuple, CONV.tolist())), CONV).passed


def test_int_answer_matches_float_expected():
    assert judge(CONV, CONV.astype(np.float64)).passed


def test_float32_rounding_of_expected_passes_a_tight_rtol():
    check = ArrayCheck(kind="array", rtol=1e-12, atol=0)
    expected = np.array([0.1, 1 / 3, 2.0e-5, 12345.678])
    assert judge(expected.astype(np.float32), expected, check).passed


def test_float32_answer_still_fails_beyond_its_precision():
    check = ArrayCheck(kind="array", rtol=1e-12, atol=0)
    assert not judge(np.float32([0.1001]), [0.1], check).passed


def test_float64_answer_gets_no_extra_tolerance():
    check = ArrayCheck(kind="array", rtol=1e-12, atol=0)
    assert not judge([0.1 * (1 + 1e-9)], [0.1], check).passed


def test_value_outside_tolerance_fails_with_zero_credit():
    wrong = CONV.copy()
    wrong[0, 2] = 3
    verdict = judge(wrong, CONV)
    assert verdict.credit == 0
    assert verdict.feedback.startswith("1 of 25 elements differ")


def test_revealed_mismatch_lists_positions_with_both_values():
    wrong = CONV.copy()
    wrong[0, 2] = 3
    feedback = judge(wrong, CONV, reveal=True).feedback
    assert "Element (0, 2) is 3, expected 2." in feedback


def test_revealed_mismatch_lists_at_most_three_positions():
    feedback = judge(CONV + 1, CONV, reveal=True).feedback
    assert feedback.count(", expected") == 3
    assert len(feedback) < 400


def test_hidden_mismatch_gives_only_a_count():
    expected = np.array([0.5, 0.25, 0.125])
    verdict = judge([0.5, 0.25, 0.75], expected)
    assert verdict.feedback == "1 of 3 elements differ from the expected values."
    assert "0.125" not in verdict.feedback


def test_shape_mismatch_gives_zero_credit_even_per_element():
    check = ArrayCheck(kind="array", per_element=True)
    assert judge(CONV[:3, :3], CONV, check).credit == 0


def test_revealed_shape_mismatch_names_both_shapes():
    feedback = judge(CONV[:3, :3], CONV, reveal=True).feedback
    assert feedback == "Your array has shape (3, 3); expected shape (5, 5)."


def test_hidden_shape_mismatch_does_not_reveal_expected_shape():
    feedback = judge(CONV[:3, :3], CONV).feedback
    assert feedback == "Your array has the wrong shape (3, 3)."
    assert "(5, 5)" not in feedback


def test_transposed_answer_is_wrong():
    assert not judge(CONV.T, CONV).passed


def test_squeeze_forgives_singleton_dimensions():
    check = ArrayCheck(kind="array", squeeze=True)
    assert judge(np.ones((5, 1)), np.ones(5), check).passed
    assert not judge(np.ones((5, 1)), np.ones(5)).passed


def test_per_element_credit_is_the_fraction_of_matching_elements():
    check = ArrayCheck(kind="array", per_element=True)
    wrong = CONV.copy()
    wrong[0, :5] += 1
    verdict = judge(wrong, CONV, check)
    assert verdict.credit == pytest.approx(20 / 25)
    assert verdict.feedback == "5 of 25 elements are wrong."


def test_nan_matches_only_where_nan_is_expected():
    assert judge([1.0, np.nan], [1.0, np.nan]).passed
    assert not judge([np.nan, np.nan], [1.0, np.nan]).passed
    assert not judge([1.0, 2.0], [1.0, np.nan]).passed


def test_inf_matches_inf_of_the_same_sign():
    assert judge([np.inf, -np.inf], [np.inf, -np.inf]).passed
    assert not judge([np.inf], [-np.inf]).passed
    assert not judge([1.0], [np.inf]).passed
    assert not judge([np.inf], [1e308]).passed


def test_huge_values_neither_overflow_nor_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not judge([1e308], [-1e308]).passed
        assert judge([1e308], [1e308]).passed
        assert not judge(np.float16([60000, 60000]), [1e5, 1e5]).passed


def test_empty_arrays_are_equal_when_shapes_match():
    assert judge([], np.zeros(0)).passed
    assert not judge(np.zeros((0, 3)), np.zeros((3, 0))).passed


def test_zero_d_array_and_scalar_match():
    assert judge(np.array(2.5), 2.5).passed
    assert judge(np.float32(2.5), np.array(2.5)).passed


def test_ragged_lists_are_not_an_array():
    verdict = judge([[1, 2], [3]], [[1, 2], [3, 4]])
    assert verdict.credit == 0
    assert "is not a rectangular array (ragged nested lists)" in verdict.feedback


def test_text_elements_are_refused():
    assert "text" in judge(["1", "2"], [1, 2]).feedback


def test_none_elements_are_refused():
    assert "None" in judge([1, None], [1, 2]).feedback


def test_complex_answer_for_real_expected_is_wrong():
    assert "complex" in judge(np.array([1 + 0j]), [1.0]).feedback


def test_complex_answer_for_complex_expected_is_compared():
    assert judge([1 + 2j], np.array([1 + 2j])).passed
    assert not judge([1 + 3j], np.array([1 + 2j])).passed


def test_bool_answer_is_fine_for_dtype_any():
    assert judge([True, False], [1, 0]).passed


def test_integer_dtype_accepts_integral_floats():
    check = ArrayCheck(kind="array", dtype="integer")
    verdict = judge(CONV.astype(np.float64), CONV, check)
    assert verdict.passed
    assert verdict.feedback == ""


def test_integer_dtype_rejects_fractional_values_naming_the_first():
    check = ArrayCheck(kind="array", dtype="integer")
    verdict = judge([1.0, 2.5], [1, 2], check)
    assert verdict.credit == 0
    assert verdict.feedback == "Expected whole numbers; element 1 is 2.5."


def test_integer_dtype_rejects_nan_and_bools():
    check = ArrayCheck(kind="array", dtype="integer")
    assert not judge([np.nan], [1], check).passed
    assert not judge([True], [1], check).passed


def test_floating_dtype_accepts_ints_but_not_bools():
    check = ArrayCheck(kind="array", dtype="floating")
    assert judge([1, 2], [1.0, 2.0], check).passed
    assert not judge([True, False], [1.0, 0.0], check).passed


def test_bool_dtype_accepts_bools_and_zero_one_integers_only():
    check = ArrayCheck(kind="array", dtype="bool")
    assert judge([True, False], [True, False], check).passed
    assert judge([1, 0], [True, False], check).passed
    assert not judge([2, 0], [True, False], check).passed
    assert not judge([1.0, 0.0], [True, False], check).passed


def test_bool_answer_is_compared_by_value():
    check = ArrayCheck(kind="array", dtype="bool")
    assert not judge([False, False], [True, False], check).passed


def test_large_int64_values_compare_exactly():
    check = ArrayCheck(kind="array", rtol=0, atol=0)
    big = np.array([2**62 + 1], dtype=np.int64)
    assert judge(big, big.copy(), check).passed


@pytest.mark.parametrize(
    "student",
    [
        None,
        "abc",
        3,
        2.5,
        True,
        1 + 1j,
        {},
        {1, 2},
        {"a": 1},
        Opaque("generator"),
        [[1, 2], [3]],
        [[[1]], [2]],
        [1, "a"],
        [None],
        [Opaque("function")],
        [10**400],
        10**400,
        float("nan"),
        np.array([]),
        np.array(["a", "b"]),
        np.array([1, 2], dtype=object),
        np.float32([np.inf, np.nan]),
        np.array([True]),
        np.complex64([1j]),
        np.zeros((2, 2, 2)),
        [[1] * 3] * 3,
        np.array("2020-01-01", dtype="datetime64[D]"),
    ],
)
def test_weird_answers_never_raise_or_warn(student):
    expected = np.arange(9.0).reshape(3, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for check in (
            DEFAULT,
            ArrayCheck(kind="array", dtype="integer", per_element=True),
            ArrayCheck(kind="array", dtype="bool", squeeze=True),
        ):
            for reveal in (False, True):
                verdict = judge(student, expected, check, reveal=reveal)
                assert 0 <= verdict.credit <= 1
                assert len(verdict.feedback) < 400


def test_deeply_nested_lists_are_refused():
    nested = [1.0]
    for _ in range(100):
        nested = [nested]
    assert judge(nested, [1.0]).credit == 0


def test_reference_value_must_be_numeric_and_fit_the_dtype():
    assert validate_expected(DEFAULT, CONV) is None
    assert validate_expected(DEFAULT, [[1, 2], [3]]) is not None
    assert validate_expected(DEFAULT, ["a"]) is not None
    integer = ArrayCheck(kind="array", dtype="integer")
    assert validate_expected(integer, [0.5]) is not None
