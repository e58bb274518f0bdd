"""A submission's answers on its cases are computed once: drawing a random case computes its
canonical and variants' answers, and judging finds them again."""

from __future__ import annotations

from typing import Any, NoReturn

import pytest
from corpus_support import course
from test_mutation import eta_star_part

from grader.grading.case_answers import CaseAnswers
from grader.grading.engine import CANONICAL, Attempt
from grader.grading.variants import VariantJudge
from grader.rubric.budget import TimeBudget
from grader.trusted.cases import RANDOM, build_cases, part_rng


def counted(calls: list[int], answer: Any = 42) -> Any:
    def compute() -> Any:
        calls.append(1)
        return answer

    return compute


def not_again() -> NoReturn:
    raise AssertionError("computed again")


def test_an_answer_is_computed_once_per_case_and_computation() -> None:
    answers, arguments, calls = CaseAnswers(), {"n": 3}, []
    assert answers.get(arguments, "f", counted(calls)) == 42
    assert answers.get(arguments, "f", counted(calls)) == 42
    assert answers.get(arguments, "g", counted(calls)) == 42
    assert len(calls) == 2


def test_equal_arguments_of_two_cases_are_two_entries() -> None:
    answers = CaseAnswers()
    answers.get({"n": 3}, "f", lambda: "first")
    assert answers.get({"n": 3}, "f", lambda: "second") == "second"


def test_a_failed_computation_is_not_remembered() -> None:
    answers, arguments = CaseAnswers(), {"n": 3}
    with pytest.raises(ZeroDivisionError):
        answers.get(arguments, "f", lambda: 1 / 0)
    assert answers.get(arguments, "f", lambda: 1) == 1


def test_past_the_bound_answers_are_computed_again() -> None:
    answers, calls = CaseAnswers(limit=1), []
    kept, other = {"n": 1}, {"n": 2}
    answers.get(kept, "f", counted(calls))
    answers.get(other, "f", counted(calls))
    answers.get(other, "f", counted(calls))
    answers.get(kept, "f", not_again)
    assert len(calls) == 3


def drawn_random_cases() -> tuple[Attempt, Any, list[Any]]:
    loaded, reference, _ = course("hw2")
    q_index, p_index, part = eta_star_part()
    assert part.function is not None
    attempt = Attempt(loaded, reference, None, None, 7, TimeBudget(600, 1))
    rng = part_rng(7, q_index, p_index)
    cases = build_cases(part.function, reference, rng, blind=attempt.blind_to(part))
    return attempt, part, [case for case in cases if case.kind == RANDOM]


def test_a_drawn_random_cases_canonical_answer_is_found_again_when_judging() -> None:
    attempt, _, cases = drawn_random_cases()
    assert cases
    for case in cases:
        attempt.case_answers.get(case.kwargs, CANONICAL, not_again)


def test_a_drawn_random_cases_variant_answers_are_found_again_when_judging() -> None:
    attempt, part, cases = drawn_random_cases()
    variants = [variant for variant in part.mistakes if not variant.uses]
    assert variants
    judge = VariantJudge(part, attempt.reference, attempt.student_answer, set())
    for case in cases:
        for variant in variants:
            remembered = attempt.case_answers.get(case.kwargs, ("variant", id(variant)), not_again)
            assert judge.same(remembered, judge.value_of(variant, case.kwargs))
