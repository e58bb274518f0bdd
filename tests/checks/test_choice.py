"""ChoiceCheck: one answer out of a list of options."""

import numpy as np
import pytest

from grader.checks import compare, validate_expected
from grader.checks.choice import ChoiceCheck
from grader.checks.values import Opaque

YES_NO = ChoiceCheck(kind="choice", options=["yes", "no"], aliases={"no": ["not in general"]})


def judge(student, expected="no", check=YES_NO, *, reveal=False):
    return compare(check, student, expected, reveal=reveal)


def test_matching_option_passes():
    assert judge("no").passed


def test_case_spacing_and_a_final_full_stop_do_not_matter():
    assert judge("  No. ").passed


def test_alias_maps_to_its_option():
    assert judge("Not in  general").passed


def test_bool_answers_read_as_yes_and_no():
    assert judge(False).passed
    assert not judge(True).passed
    assert judge(np.bool_(False)).passed


def test_bool_answers_read_as_true_and_false_when_those_are_options():
    check = ChoiceCheck(kind="choice", options=["True", "False"])
    assert judge(True, "true", check).passed


def test_ints_name_numbered_options():
    check = ChoiceCheck(kind="choice", options=["1", "2", "3"])
    assert judge(2, "2", check).passed


def test_answer_outside_the_options_is_told_the_options():
    verdict = judge("maybe")
    assert verdict.credit == 0
    assert verdict.feedback == "'maybe' is not one of the options: yes, no."


def test_hidden_wrong_choice_names_only_the_students_choice():
    assert judge("yes").feedback == "'yes' is not the right choice."


def test_revealed_wrong_choice_names_the_answer():
    assert judge("yes", reveal=True).feedback == "You chose 'yes'; the answer is 'no'."


@pytest.mark.parametrize(
    "student", [None, 1.5, [], ["no"], {}, Opaque("generator"), "", 10**400, np.array(["no"])]
)
def test_weird_answers_never_raise(student):
    for reveal in (False, True):
        verdict = judge(student, reveal=reveal)
        assert verdict.credit == 0
        assert len(verdict.feedback) < 400


def test_reference_answer_must_be_an_option():
    assert validate_expected(YES_NO, "No") is None
    assert validate_expected(YES_NO, False) is None
    assert validate_expected(YES_NO, "maybe") is not None


def test_aliases_must_point_at_options():
    check = ChoiceCheck(kind="choice", options=["yes", "no"], aliases={"perhaps": ["maybe"]})
    assert validate_expected(check, "yes") is not None


def test_a_float_names_the_numeric_option_it_equals():
    check = ChoiceCheck(kind="choice", options=["0.001", "0.01", "0.1", "1"])
    assert compare(check, 1.0, "1", reveal=False).passed
    assert compare(check, 0.1, "0.1", reveal=False).passed
    assert not compare(check, 0.5, "1", reveal=False).passed
