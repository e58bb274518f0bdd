"""BigOCheck: asymptotic answers in the notations students actually write."""

import pytest

from grader.checks import compare, validate_expected
from grader.checks.big_o import BigOCheck
from grader.checks.values import Opaque

# 2.1.2 of CSC413 HW2: memory of backprop through t steps is O(t); d is the dimension.
MEMORY = BigOCheck(kind="big_o", variable="t", constants=["d"])


def judge(student, expected="O(t)", check=MEMORY, *, reveal=False):
    return compare(check, student, expected, reveal=reveal)


@pytest.mark.parametrize(
    "student",
    [
        "O(t)",
        "O(T)",
        "\\mathcal{O}(t)",
        "$\\mathcal{O}(t)$",
        "$\\mathcal O(T)$",
        "Θ(t)",
        "\\Theta(t)",
        "O (t)",
        "O(t).",
        "The memory is O(t) because we store every w.",
        "\\mathcal{O}\\left(t\\right)",
        "O(2t)",
        "O(t + 1)",
        "linear",
        "linear in t",
        "Linear in T",
        "grows linearly with t",
        "linear in the number of iterations",
        "t",
    ],
)
def test_notations_of_linear_growth_all_pass(student):
    verdict = judge(student)
    assert verdict.passed
    assert verdict.feedback == ""


@pytest.mark.parametrize(
    "student", ["O(1)", "constant", "constant memory", "$\\mathcal{O}(1)$", "1", "O(5)"]
)
def test_notations_of_constant_growth_all_pass(student):
    assert judge(student, "O(1)").passed


@pytest.mark.parametrize(
    "student", ["O(t^2)", "O(t**2)", "O(t²)", "O(t^{2})", "quadratic", "grows quadratically"]
)
def test_notations_of_quadratic_growth_all_pass(student):
    assert judge(student, "O(t^2)").passed


@pytest.mark.parametrize(
    "student", ["O(t log t)", "O(t \\log t)", "O(t log_2 t)", "O(t ln(t))", "O(tlogt)"]
)
def test_notations_of_t_log_t_all_pass(student):
    assert judge(student, "O(t log t)").passed


def test_square_root_forms_agree():
    assert judge("O(\\sqrt{t})", "O(t^(1/2))").passed
    assert judge("O(t^0.5)", "O(sqrt(t))").passed


@pytest.mark.parametrize("student", ["O(dt)", "O(d t)", "O(d*t)", "O(d \\cdot t)", "O(tD)"])
def test_listed_constant_is_dropped_with_a_note(student):
    verdict = judge(student)
    assert verdict.passed
    assert verdict.feedback == "Full credit: treating d as a constant, O(dt) is O(t)."


def test_constant_alone_reads_as_constant_growth():
    verdict = judge("O(d)", "O(1)")
    assert verdict.passed
    assert verdict.feedback == "Full credit: treating d as a constant, O(d) is O(1)."


def test_only_the_fastest_growing_term_counts():
    assert judge("O(t^2 + t)", "O(t^2)").passed
    assert judge("O(dt + d)").passed


def test_symbol_that_is_not_the_variable_makes_the_answer_wrong():
    verdict = judge("O(n)")
    assert verdict.credit == 0
    assert verdict.feedback == "Your answer is in terms of n; the question asks about t."


def test_word_answer_in_another_symbol_is_wrong():
    assert "in terms of n" in judge("linear in n").feedback


def test_wrong_growth_is_wrong():
    assert judge("O(1)").credit == 0
    assert judge("O(t log t)").credit == 0


def test_hidden_mismatch_names_only_the_students_complexity():
    feedback = judge("O(t^2)").feedback
    assert feedback == "O(t^2) is not the right complexity in t."
    assert "O(t)" not in feedback


def test_revealed_mismatch_names_the_expected_complexity():
    assert judge("constant", reveal=True).feedback == "Expected O(t), got O(1)."


def test_two_different_complexities_in_one_answer_are_wrong():
    verdict = judge("Forward is O(1) but backward is O(t)")
    assert verdict.credit == 0
    assert "more than one" in verdict.feedback


def test_unreadable_answer_lists_the_understood_notations():
    verdict = judge("it depends on how you store things")
    assert verdict.credit == 0
    assert "O(t log t)" in verdict.feedback
    assert "linear in t" in verdict.feedback


def test_bare_word_is_not_read_as_a_product_of_letters():
    assert "Could not read" in judge("yes").feedback


def test_bare_expression_in_another_symbol_is_wrong():
    assert "in terms of n" in judge("n").feedback


def test_exponential_growth_is_not_understood():
    assert "Could not read" in judge("O(2^t)").feedback


@pytest.mark.parametrize("student", ["Ω(t)", "\\Omega(t)"])
def test_lower_bounds_are_not_read_as_answers(student):
    assert "Could not read" in judge(student).feedback


def test_non_string_answer_is_refused_even_if_it_looks_like_one():
    verdict = judge(1, "O(1)")
    assert verdict.credit == 0
    assert "got an int" in verdict.feedback


def test_default_variable_is_n():
    assert judge("O(N log N)", "O(n log n)", BigOCheck(kind="big_o")).passed


@pytest.mark.parametrize(
    "student",
    [
        None,
        1.0,
        [],
        {},
        Opaque("generator"),
        "",
        "O(",
        "O()",
        "O(t^)",
        "O(t^(1/0))",
        "(" * 5000 + "t" + ")" * 5000,
        "O(" + "(" * 900 + "t" + ")" * 900 + ")",
        "O(" + "sqrt " * 390 + "t)",
        "O(t^" + "9" * 5000 + ")",
        "O((t + d)^50)",
        "O(log(t + 1))",
        "O(t)" * 1000,
        "O(\\frac{t}{2})",
        "O(n_{iter})",
    ],
)
def test_weird_answers_never_raise(student):
    for reveal in (False, True):
        verdict = judge(student, reveal=reveal)
        assert 0 <= verdict.credit <= 1
        assert len(verdict.feedback) < 400


def test_reference_answer_must_parse_in_the_variable_and_constants():
    assert validate_expected(MEMORY, "O(t)") is None
    assert validate_expected(MEMORY, "O(dt)") is None
    assert validate_expected(MEMORY, "O(n)") is not None
    assert validate_expected(MEMORY, "whatever you like") is not None
    assert validate_expected(MEMORY, 1) is not None
