"""Lurking mutants: automatic mutants of a reference that are right on some cases and wrong on
others, and the random cases the engine redraws until they tell them from the truth."""

from __future__ import annotations

import numpy as np
from corpus_support import course

from grader.grading.engine import Attempt
from grader.rubric.budget import TimeBudget
from grader.rubric.model import AutoPart
from grader.trusted.cases import RANDOM, build_cases, part_rng
from grader.trusted.mutation import lurking_mutants

SWAPPED_N = "_xxta: line 5: 0 -> 1"
"""eta* with d (X.shape[1]) where n (X.shape[0]) belongs: right exactly when n = d."""


def eta_star_part() -> tuple[int, int, AutoPart]:
    loaded = course("hw2")[0]
    for q_index, question in enumerate(loaded.rubric.questions):
        for p_index, part in enumerate(question.parts):
            if isinstance(part, AutoPart) and part.target == "eta_star":
                return q_index, p_index, part
    raise AssertionError("no eta_star part")


def random_cases(blind: bool, seeds: int = 20) -> list[dict[str, np.ndarray]]:
    loaded, reference, _ = course("hw2")
    q_index, p_index, part = eta_star_part()
    assert part.function is not None
    drawn = []
    for seed in range(seeds):
        attempt = Attempt(loaded, reference, None, None, seed, TimeBudget(600, 1))
        rng = part_rng(seed, q_index, p_index)
        cases = build_cases(
            part.function, reference, rng, blind=attempt.blind_to(part) if blind else None
        )
        drawn += [case.kwargs for case in cases if case.kind == RANDOM]
    return drawn


def test_the_mutant_that_swaps_n_and_d_lurks_in_eta_star() -> None:
    _, _, part = eta_star_part()
    labels = [mutant.label for mutant in lurking_mutants(part, course("hw2")[1])]
    assert any(label.endswith(SWAPPED_N) for label in labels), labels


def test_a_mutant_wrong_on_every_case_does_not_lurk() -> None:
    _, _, part = eta_star_part()
    labels = [mutant.label for mutant in lurking_mutants(part, course("hw2")[1])]
    assert not any("negated the result" in label for label in labels), labels


def test_the_generator_alone_draws_square_problems_that_hide_the_swap() -> None:
    assert any(case["X"].shape[0] == case["X"].shape[1] for case in random_cases(blind=False))


def test_redrawn_cases_tell_every_lurking_mutant_from_the_truth() -> None:
    _, _, part = eta_star_part()
    reference = course("hw2")[1]
    truth = reference.function("eta_star", field="t")
    lurking = lurking_mutants(part, reference)
    for case in random_cases(blind=True):
        expected = truth(**case)
        assert not any(mutant.agrees(part, case, expected) for mutant in lurking), case


def test_redrawing_replays_exactly() -> None:
    first, second = random_cases(blind=True, seeds=3), random_cases(blind=True, seeds=3)
    assert all(
        np.array_equal(a["X"], b["X"]) and np.array_equal(a["w0"], b["w0"])
        for a, b in zip(first, second, strict=True)
    )


def test_a_part_without_random_cases_has_no_lurking_mutants() -> None:
    loaded, reference, _ = course("hw2")
    constants = [part for _, part in loaded.rubric.auto_parts() if part.function is None]
    assert constants and all(not lurking_mutants(part, reference) for part in constants)
