"""SelectAllCheck: a set of picks, such as the edges of a computation graph."""

import numpy as np
import pytest

from grader.checks import compare, validate_expected
from grader.checks.select_all import SelectAllCheck
from grader.checks.values import Opaque

DEFAULT = SelectAllCheck(kind="select_all")

# 2.1.1 of CSC413 HW2: the computation graph of two gradient descent steps.
EDGES = {
    ("w0", "L0"),
    ("w0", "grad0"),
    ("grad0", "w1"),
    ("w0", "w1"),
    ("eta", "w1"),
    ("w1", "L1"),
    ("w1", "grad1"),
    ("grad1", "w2"),
    ("w1", "w2"),
    ("eta", "w2"),
    ("w2", "L2"),
}


def judge(student, expected=EDGES, check=DEFAULT, *, reveal=False):
    return compare(check, student, expected, reveal=reveal)


def test_all_right_picks_pass():
    assert judge(set(EDGES)).passed


def test_lists_of_lists_count_as_sets_of_tuples():
    assert judge([list(edge) for edge in EDGES]).passed


def test_strings_inside_tuples_are_normalised():
    assert judge({(a.upper(), f" {b} ") for a, b in EDGES}).passed


def test_case_sensitive_keeps_case():
    check = SelectAllCheck(kind="select_all", case_sensitive=True)
    assert not judge({(a.upper(), b) for a, b in EDGES}, check=check).passed


def test_duplicates_count_once():
    assert judge([*EDGES, *EDGES]).passed


def test_subset_earns_its_share():
    picks = sorted(EDGES)[:8]
    verdict = judge(picks)
    assert verdict.credit == pytest.approx(8 / 11)
    assert verdict.feedback == "3 of 11 right picks missing."


def test_wrong_picks_cost_the_penalty():
    verdict = judge([*sorted(EDGES)[:8], ("w0", "L2")])
    assert verdict.credit == pytest.approx(7 / 11)
    assert verdict.feedback == "3 of 11 right picks missing; 1 wrong pick (('w0', 'L2'))."


def test_penalty_can_be_zero():
    check = SelectAllCheck(kind="select_all", wrong_pick_penalty=0)
    assert judge([*EDGES, ("w0", "L2")], check=check).credit == pytest.approx(1.0)


def test_credit_never_goes_below_zero():
    assert judge([("a", "b"), ("c", "d")], {("w0", "L0")}).credit == 0


def test_revealed_feedback_lists_missing_picks():
    feedback = judge(sorted(EDGES)[1:], reveal=True).feedback
    assert feedback == "1 of 11 right picks missing (('eta', 'w1'))."


def test_hidden_feedback_does_not_list_missing_picks():
    assert "eta" not in judge(sorted(EDGES)[1:]).feedback


def test_comma_separated_text_is_split_for_plain_string_picks():
    assert judge("A, b , c", ["a", "b", "c"]).passed


def test_text_is_refused_when_picks_are_tuples():
    assert judge("w0 -> L0", EDGES).credit == 0


def test_numeric_picks_from_an_array_count():
    assert judge(np.array([1, 3]), {1, 3}).passed


@pytest.mark.parametrize(
    "student",
    [
        None,
        5,
        Opaque("generator"),
        {"w0": ["L0"]},
        [None, {}, [[]]],
        [Opaque("x")],
        [[1, 2], [3]],
        [10**400],
        [float("nan")],
        np.zeros((2, 2)),
        "",
    ],
)
def test_weird_answers_never_raise(student):
    for reveal in (False, True):
        verdict = judge(student, reveal=reveal)
        assert verdict.credit == 0
        assert len(verdict.feedback) < 400


def test_reference_picks_must_be_a_non_empty_collection():
    assert validate_expected(DEFAULT, EDGES) is None
    assert validate_expected(DEFAULT, []) is not None
    assert validate_expected(DEFAULT, "a, b") is not None
