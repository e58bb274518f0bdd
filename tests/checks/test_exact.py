"""ExactCheck: equality of plain data after light normalisation."""

import numpy as np
import pytest

from grader.checks import compare, validate_expected
from grader.checks.exact import ExactCheck
from grader.checks.property import PropertyCheck
from grader.checks.values import Opaque

DEFAULT = ExactCheck(kind="exact")
CASE_SENSITIVE = ExactCheck(kind="exact", case_sensitive=True)


def judge(student, expected, check=DEFAULT, *, reveal=False):
    return compare(check, student, expected, reveal=reveal)


def test_strings_are_stripped_and_case_folded():
    assert judge("  Edges\n", "edges").passed


def test_case_sensitive_keeps_case_but_still_strips():
    assert judge(" edges ", "edges", CASE_SENSITIVE).passed
    assert not judge("Edges", "edges", CASE_SENSITIVE).passed


def test_int_equals_equal_float():
    assert judge(3.0, 3).passed


def test_number_does_not_equal_its_text():
    assert not judge("3", 3).passed


def test_bool_does_not_equal_one():
    assert not judge(True, 1).passed


def test_tuples_and_lists_compare_element_wise():
    assert judge((1, 2), [1, 2]).passed
    assert not judge([2, 1], [1, 2]).passed


def test_sets_compare_as_sets():
    assert judge({("b", "a"), ("c", "d")}, {("C", "D"), ("B", "A")}).passed
    assert not judge({1, 2}, [1, 2]).passed


def test_nested_structures_are_normalised_recursively():
    assert judge({"Key": [" A", (1, 2.0)]}, {"Key": ["a", [1, 2]]}, CASE_SENSITIVE).passed is False
    assert judge({"Key": [" A", (1, 2.0)]}, {"key": ["a", [1, 2]]}).passed


def test_arrays_compare_as_lists():
    assert judge(np.array([1, 2, 3]), [1, 2, 3]).passed
    assert judge(np.int64(5), 5).passed


def test_nan_equals_nan():
    assert judge(float("nan"), float("nan")).passed


def test_huge_int_compares_exactly():
    assert judge(10**400, 10**400).passed
    assert not judge(10**400, float("inf")).passed


def test_opaque_object_is_never_equal():
    assert not judge(Opaque("generator"), "generator").passed


def test_hidden_kind_mismatch_names_only_the_kind():
    feedback = judge("3", 12345).feedback
    assert feedback == "Expected a number, got a str."
    assert "12345" not in feedback


def test_hidden_same_kind_mismatch_does_not_contain_expected():
    feedback = judge("maybe", "secret").feedback
    assert "maybe" in feedback
    assert "secret" not in feedback


def test_revealed_mismatch_shows_both_values():
    assert judge("no", "yes", reveal=True).feedback == "Expected 'yes', got 'no'."


@pytest.mark.parametrize(
    "student",
    [
        None,
        Opaque("lambda"),
        object(),
        {1: {2: [3]}},
        frozenset(),
        np.array([[1, 2], [3, 4]]),
        np.array([]),
        [[1, 2], [3]],
        pytest.param(10**5000, id="int-of-5001-digits"),
        b"x",
        1 + 1j,
        float("inf"),
        np.float32(np.nan),
    ],
)
def test_weird_answers_never_raise(student):
    for reveal in (False, True):
        verdict = judge(student, [1, 2], reveal=reveal)
        assert verdict.credit == 0
        assert len(verdict.feedback) < 400


def test_absurd_nesting_is_refused_not_crashed():
    nested: list = []
    for _ in range(10_000):
        nested = [nested]
    assert judge(nested, []).credit == 0


def test_compare_refuses_property_checks_which_the_engine_judges():
    with pytest.raises(TypeError):
        compare(PropertyCheck(kind="property", predicate="in_row_space"), 1, 1, reveal=False)


def test_any_plain_reference_value_is_usable():
    assert validate_expected(DEFAULT, {"a": [1, 2]}) is None
