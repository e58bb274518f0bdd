"""Conventions are established by evidence: matching the other convention on every case that
tells it from the main one, at least one of them unseen; never by one coincidental case."""

from __future__ import annotations

import numpy as np
from corpus_support import REPO, course, grade_in_process, load_answers

CONVENTION = REPO / "submissions_example" / "hw2" / "convention" / "hw2.py"


def hw2_reference():
    return course("hw2")[1]


def test_the_official_convention_used_throughout_earns_full_credit_on_every_part() -> None:
    credits = grade_in_process("hw2", load_answers(CONVENTION))
    assert all(credit == 1.0 for credit in credits.values()), credits


def test_a_step_without_the_two_does_not_establish_the_convention_on_the_n_1_case() -> None:
    """w0 - (eta/n) X^T a equals the 1/2-SSE step only when n = 1 (the public case); with it,
    eta* without n/2 must stay the named mistake, not a consistent convention."""
    ref = hw2_reference()
    answers = load_answers(REPO / "submissions_example" / "hw2" / "correct" / "hw2.py")
    answers["gd_step"] = ref.function("gd_step_without_two", field="t")
    answers["eta_star"] = ref.function("eta_star_half_sse", field="t")
    credits = grade_in_process("hw2", answers)
    assert credits["2.2.1/gd_step"] == 0.0
    assert credits["2.2.3/eta_star"] == 0.5  # eta-star-without-n-over-2's credit


def test_a_convention_shown_in_w1_carries_to_the_second_derivative_and_l_t() -> None:
    answers = load_answers(CONVENTION)
    credits = grade_in_process("hw2", answers)
    assert credits["2.2.2/second_derivative_L1"] == 1.0
    assert credits["2.3.1/loss_after_t_steps"] == 1.0


def test_the_convention_alone_in_a_later_part_is_not_accepted() -> None:
    """A second derivative in the 1/2-SSE convention, after a w1 in the handout's convention, is
    not consistent: it earns nothing."""
    answers = load_answers(REPO / "submissions_example" / "hw2" / "correct" / "hw2.py")
    answers["second_derivative_L1"] = hw2_reference().function(
        "second_derivative_L1_half_sse", field="t"
    )
    assert grade_in_process("hw2", answers)["2.2.2/second_derivative_L1"] == 0.0


def test_a_half_sse_step_that_crashes_on_one_case_establishes_nothing() -> None:
    step = hw2_reference().function("gd_step_half_sse", field="t")

    def flaky(X, t, w0, eta):
        if np.shape(X)[0] == 3:
            raise ValueError("boom")
        return step(X, t, w0, eta)

    answers = load_answers(CONVENTION)
    answers["gd_step"] = flaky
    credits = grade_in_process("hw2", answers)
    assert credits["2.2.3/eta_star"] < 1.0
