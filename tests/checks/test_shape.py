"""ShapeCheck: a shape tuple, with optional credit per dimension."""

import numpy as np
import pytest

from grader.checks import compare, validate_expected
from grader.checks.shape import ShapeCheck
from grader.checks.values import Opaque

DEFAULT = ShapeCheck(kind="shape")
PER_DIMENSION = ShapeCheck(kind="shape", per_dimension=True)
EXPECTED = (32, 128, 26, 26)


def judge(student, expected=EXPECTED, check=DEFAULT, *, reveal=False):
    return compare(check, student, expected, reveal=reveal)


def test_equal_tuple_passes():
    assert judge((32, 128, 26, 26)).passed


def test_list_and_array_shapes_count_as_tuples():
    assert judge([32, 128, 26, 26]).passed
    assert judge(np.array([32, 128, 26, 26])).passed


def test_numpy_ints_are_sizes():
    assert judge(tuple(np.int64(n) for n in EXPECTED)).passed


def test_integral_floats_are_accepted():
    assert judge((32.0, 128, 26.0, 26)).passed


def test_fractional_sizes_are_refused():
    verdict = judge((32, 128, 26.5, 26))
    assert verdict.credit == 0
    assert "26.5" in verdict.feedback


def test_fractional_sizes_match_a_mistake_with_the_same_fractions():
    true_division = (8, 6, 10.5, 8.5)  # (H + 2p - k) / s + 1 with `/`: no shape, a variant's value
    assert judge([8, 6, 10.5, 8.5], true_division).passed
    assert not judge([8, 6, 10, 8], true_division).passed
    assert not judge([8, 6, 10.5], true_division).passed


def test_bools_are_not_sizes():
    assert "bool" in judge((True, 128, 26, 26)).feedback


def test_single_int_is_not_a_shape():
    assert judge(10, (10,)).credit == 0


def test_wrong_shape_gets_zero_without_per_dimension():
    assert judge((32, 128, 24, 24)).credit == 0


def test_per_dimension_credit_is_the_fraction_of_matching_sizes():
    verdict = judge((32, 128, 24, 24), check=PER_DIMENSION)
    assert verdict.credit == pytest.approx(0.5)


def test_per_dimension_gives_zero_for_the_wrong_number_of_dimensions():
    assert judge((32, 128, 26), check=PER_DIMENSION).credit == 0


def test_hidden_mismatch_does_not_reveal_expected_shape():
    feedback = judge((32, 128, 24, 24), check=PER_DIMENSION).feedback
    assert feedback == "Your shape (32, 128, 24, 24) has 2 of 4 sizes wrong."
    assert "26" not in feedback


def test_hidden_wrong_length_does_not_reveal_expected_shape():
    feedback = judge((32, 128)).feedback
    assert feedback == "Your shape (32, 128) has the wrong number of dimensions."


def test_revealed_mismatch_names_the_expected_shape():
    assert "Expected (32, 128, 26, 26)." in judge((32, 128), reveal=True).feedback


def test_empty_shape_matches_scalar_shape():
    assert judge((), ()).passed


@pytest.mark.parametrize(
    "student",
    [
        None,
        "32x128",
        {},
        Opaque("Size"),
        [None],
        [[1, 2]],
        [10**400],
        [float("nan")],
        [float("inf")],
        np.zeros((2, 2)),
        np.array([True, False]),
        [1 + 1j],
        ["3"],
    ],
)
def test_weird_answers_never_raise(student):
    for check in (DEFAULT, PER_DIMENSION):
        for reveal in (False, True):
            verdict = judge(student, check=check, reveal=reveal)
            assert 0 <= verdict.credit <= 1
            assert len(verdict.feedback) < 400


def test_reference_value_must_be_whole_numbers():
    assert validate_expected(DEFAULT, (3, 4)) is None
    assert validate_expected(DEFAULT, (3.5,)) is not None
    assert validate_expected(DEFAULT, "3x4") is not None
