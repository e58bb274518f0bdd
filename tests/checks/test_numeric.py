"""NumericCheck: one number within rtol/atol or to significant figures."""

import warnings

import numpy as np
import pytest

from grader.checks import compare, validate_expected
from grader.checks.numeric import NumericCheck
from grader.checks.values import Opaque

DEFAULT = NumericCheck(kind="numeric")


def judge(student, expected, check=DEFAULT, *, reveal=False):
    return compare(check, student, expected, reveal=reveal)


def test_equal_number_passes_with_empty_feedback():
    verdict = judge(0.1, 0.1)
    assert verdict.passed
    assert verdict.feedback == ""


def test_value_within_relative_tolerance_passes():
    assert judge(1.0 + 5e-7, 1.0).passed


def test_value_outside_relative_tolerance_fails():
    assert not judge(1.0 + 5e-6, 1.0).passed


def test_absolute_tolerance_lets_tiny_values_match_zero():
    assert judge(1e-10, 0.0).passed
    assert not judge(1e-8, 0.0).passed


def test_int_answer_matches_float_expected():
    assert judge(52444644, 52444644.0).passed


def test_negative_zero_equals_zero():
    assert judge(-0.0, 0.0).passed


def test_numpy_scalars_are_numbers():
    assert judge(np.float64(0.1), 0.1).passed
    assert judge(np.int64(7), 7).passed


def test_float32_scalar_passes_default_tolerance():
    assert judge(np.float32(0.1), 0.1).passed


def test_zero_d_and_size_one_arrays_are_accepted_silently():
    assert judge(np.array(0.1), 0.1) == judge(0.1, 0.1)
    assert judge(np.array([[0.1]]), 0.1).passed


def test_one_item_list_is_refused_with_a_hint():
    verdict = judge([0.1], 0.1)
    assert verdict.credit == 0
    assert "not a list" in verdict.feedback


def test_numeric_string_is_refused_with_a_hint():
    verdict = judge("0.1", 0.1)
    assert verdict.credit == 0
    assert verdict.feedback == ("Expected a number, got a str ('0.1'); return a number, not text.")


def test_bool_is_not_a_number():
    verdict = judge(True, 1)
    assert verdict.credit == 0
    assert "bool" in verdict.feedback


def test_numpy_bool_array_is_not_a_number():
    assert "bool" in judge(np.array(True), 1).feedback


@pytest.mark.parametrize(
    ("student", "description"),
    [
        (np.zeros((3, 3), np.float32), "a 3x3 array of float32"),
        ([1, 2, 3, 4], "a list of 4 items"),
        (None, "None"),
        (Opaque("generator"), "an object of type generator"),
        ({"a": 1}, "a dict of 1 entry"),
    ],
)
def test_non_numbers_are_described_by_type_and_shape(student, description):
    assert judge(student, 1).feedback == f"Expected a number, got {description}."


def test_nan_answer_is_wrong_for_a_finite_expected_value():
    assert not judge(float("nan"), 0.1).passed


def test_nan_matches_nan():
    assert judge(float("nan"), float("nan")).passed


def test_inf_matches_only_inf_of_the_same_sign():
    assert judge(float("inf"), float("inf")).passed
    assert not judge(float("-inf"), float("inf")).passed
    assert not judge(1e308, float("inf")).passed


def test_huge_values_do_not_overflow_or_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not judge(1e308, -1e308).passed
        assert judge(1e308, 1e308).passed
        assert not judge(10**400, 1e308).passed


def test_ints_beyond_float_range_compare_exactly():
    assert judge(10**400, 10**400).passed
    assert not judge(10**400, 2 * 10**400).passed


def test_complex_answer_for_real_expected_is_wrong():
    verdict = judge(1 + 2j, 1.0)
    assert verdict.credit == 0
    assert "complex" in verdict.feedback


def test_complex_expected_accepts_matching_complex_and_real_answers():
    assert judge(1 + 2j, 1 + 2j).passed
    assert judge(3, 3 + 0j).passed
    assert not judge(3, 3 + 1j).passed


def test_sig_figs_rounds_both_numbers_half_up_from_their_printed_form():
    check = NumericCheck(kind="numeric", sig_figs=2)
    assert judge(0.15, 0.145, check).passed
    assert not judge(0.14, 0.145, check).passed


def test_sig_figs_replaces_tolerances():
    check = NumericCheck(kind="numeric", sig_figs=3, rtol=0, atol=0)
    assert judge(52400000, 52444644, check).passed


def test_sig_figs_accepts_numpy_scalars_and_zero_d_arrays():
    check = NumericCheck(kind="numeric", sig_figs=2)
    assert judge(np.float64(0.15), 0.145, check).passed
    assert judge(np.array(0.15), np.float64(0.145), check).passed


def test_sig_figs_handles_huge_ints_and_nan():
    check = NumericCheck(kind="numeric", sig_figs=3)
    assert judge(10**400, 10**400 + 1, check).passed
    assert not judge(float("nan"), 1.0, check).passed


def test_revealed_mismatch_shows_both_numbers():
    assert judge(0.2, 0.1, reveal=True).feedback == "Expected 0.1, got 0.2."


def test_revealed_mismatch_adds_digits_until_the_numbers_differ():
    check = NumericCheck(kind="numeric", rtol=0, atol=0)
    feedback = judge(0.1234567, 0.1234568, check, reveal=True).feedback
    assert feedback == "Expected 0.1234568, got 0.1234567."


def test_revealed_sig_figs_mismatch_shows_the_rounded_expected_value():
    check = NumericCheck(kind="numeric", sig_figs=2)
    feedback = judge(0.14, 0.145, check, reveal=True).feedback
    assert feedback == "Expected 0.15 (to 2 significant figures), got 0.14."


@pytest.mark.parametrize("student", [0.2, float("nan"), float("inf"), 10**400, 7])
def test_hidden_mismatch_never_contains_the_expected_value(student):
    expected = 0.123456
    verdict = judge(student, expected)
    assert verdict.credit == 0
    assert str(expected) not in verdict.feedback
    assert "0.123" not in verdict.feedback


def test_hidden_mismatch_names_the_students_value():
    assert "0.2" in judge(0.2, 0.123456).feedback


@pytest.mark.parametrize(
    "student",
    [
        None,
        "abc",
        "",
        [],
        [1, 2],
        (1,),
        {},
        {1},
        frozenset(),
        {"a": 1},
        Opaque("generator"),
        [[1, 2], [3]],
        np.array([1.0, 2.0]),
        np.array([]),
        np.array(["a"]),
        10**400,
        -(10**400),
        float("nan"),
        1e308,
        np.float16(1),
        np.float32(np.inf),
        b"bytes",
        object(),
    ],
)
def test_weird_answers_never_raise_or_warn(student):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for reveal in (False, True):
            verdict = judge(student, 0.1, reveal=reveal)
            assert 0 <= verdict.credit <= 1
            assert len(verdict.feedback) < 400


def test_reference_value_must_be_a_number():
    assert validate_expected(DEFAULT, 0.1) is None
    assert validate_expected(DEFAULT, np.float32(2)) is None
    assert validate_expected(DEFAULT, "0.1") is not None
    assert validate_expected(DEFAULT, True) is not None
