"""The credit rule, generated from the shipped rubrics: reproducing the public cases earns nothing.

For every function part of both rubrics, a "student" whose function hard-codes the public cases'
expected outputs (right on every public case, and returning the first public output for any other
input) is judged by the engine; it must earn 0 on that part. No sandbox is started: the replies
are what such a function would send, so the test runs in the fast tier.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from grader.grading.engine import Attempt, PartRun
from grader.rubric.budget import TimeBudget
from grader.rubric.model import AutoPart, load_rubric
from grader.sandbox.runner import Reply
from grader.trusted.cases import build_cases, part_rng
from grader.trusted.reference import load_reference

REPO = Path(__file__).resolve().parents[1]
RUBRICS = ["hw2", "midterm"]


def function_parts(name: str) -> list[tuple[str, int, int, AutoPart]]:
    loaded = load_rubric(REPO / "rubrics" / f"{name}.yaml")
    return [
        (name, q_index, p_index, part)
        for q_index, question in enumerate(loaded.rubric.questions)
        for p_index, part in enumerate(question.parts)
        if isinstance(part, AutoPart) and part.function is not None and part.function.public
    ]


PARTS = [entry for name in RUBRICS for entry in function_parts(name)]


@functools.cache
def attempt_for(name: str) -> Attempt:
    loaded = load_rubric(REPO / "rubrics" / f"{name}.yaml")
    reference = load_reference(loaded.reference_path)
    return Attempt(loaded, reference, None, None, seed=413, budget=TimeBudget(600, 1))


def truth(attempt: Attempt, part: AutoPart, kwargs: dict[str, Any]) -> Any:
    """The canonical output: the part's reference function, or for a property check the
    reference function named like the target."""
    spec = part.function
    assert spec is not None
    name = spec.reference or part.target
    return attempt.reference.function(name, field="test")(**kwargs)


def test_every_shipped_rubric_has_function_parts_with_public_cases() -> None:
    assert {name for name, *_ in PARTS} == set(RUBRICS) and len(PARTS) >= 8


@pytest.mark.parametrize(
    ("name", "q_index", "p_index", "part"),
    PARTS,
    ids=[f"{name}:{part.target}:{q}.{p}" for name, q, p, part in PARTS],
)
def test_a_function_hard_coding_the_public_outputs_earns_nothing(
    name: str, q_index: int, p_index: int, part: AutoPart
) -> None:
    attempt = attempt_for(name)
    spec = part.function
    assert spec is not None
    run = PartRun(q_index, p_index, part)
    rng = part_rng(attempt.seed, q_index, p_index)
    run.cases = build_cases(spec, attempt.reference, rng, blind=attempt.blind_to(part))
    public = [truth(attempt, part, case.kwargs) for case in run.cases if case.reveal]
    run.replies = [
        Reply("ok", public[case.index] if case.reveal else public[0]) for case in run.cases
    ]
    result = attempt.judge_function(run)
    assert result.credit == 0, result.feedback
    assert result.cases_passed >= len(public)  # it does pass the public cases
