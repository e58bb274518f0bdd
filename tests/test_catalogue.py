"""The mistake catalogue: every named mistake of both shipped rubrics, made on its own, is
recognised by the engine as that mistake and no other, earns the credit the rubric promises
for it, and is told the rubric's feedback.

Each mistake is graded as a student who makes exactly it would be: a function part gets the
mistake's reference function as the student's function (for a harness part, the wrong training
step or update rule that produces it), a constant gets the mistake's value. A mistake that
another one shadowed would be reported under the other's id; one the truth shadowed would
earn full credit.
"""

from __future__ import annotations

from typing import Any

import pytest
from corpus_support import course, judge_part, promised_credit

from grader.checks import compare
from grader.grading.engine import Attempt
from grader.rubric.budget import TimeBudget
from grader.rubric.model import AutoPart, Mistake
from grader.trusted.answers import constant_value, expected_constant
from grader.trusted.cases import typed_arguments

STUDENT_FORM = {
    "train_steps_without_zero_grad": "train_step_without_zero_grad",
    "train_steps_zero_grad_before_step": "train_step_zero_grad_before_step",
    "min_norm_limit": "preconditioned_step_ignoring_M",
}
"""For a harness part, the student's function that produces the mistake's reference answer."""


def catalogue(constants_only: bool = False) -> list[tuple[str, int, int, str]]:
    """(rubric, question index, part index, mistake id) of every mistake a student can make
    alone: not follow-through credit, nor a mistake that needs a convention."""
    found = []
    for name in ("hw2", "midterm"):
        for q_index, question in enumerate(course(name)[0].rubric.questions):
            for p_index, part in enumerate(question.parts):
                if not isinstance(part, AutoPart) or (constants_only and part.function):
                    continue
                for mistake in part.mistakes:
                    if not mistake.uses and mistake.convention is None:
                        found.append((name, q_index, p_index, mistake.id))
    return found


def made(name: str, part: AutoPart, mistake: Mistake) -> Any:
    """What a student who makes exactly this mistake hands in for the part."""
    reference = course(name)[1]
    if part.function is None:
        return constant_value(mistake, reference, field="mistake")
    assert mistake.reference is not None
    wrong = STUDENT_FORM.get(mistake.reference, mistake.reference)
    return reference.function(wrong, field="mistake")


def coinciding(name: str, part: AutoPart, mistake: Mistake) -> set[str]:
    """The other mistakes whose answer equals this one's on a listed case (public or hidden):
    there the two cannot be told apart, and a student may be told of both."""
    spec = part.function
    if spec is None:
        return set()
    reference = course(name)[1]
    found = set()
    for case in [*spec.public, *spec.hidden]:
        kwargs = typed_arguments(case, spec.array_args, spec.tensor_args)
        mine = reference.function(mistake.reference or "", field="m")(**kwargs)
        for other in part.mistakes:
            theirs = reference.function(other.reference or "", field="m")(**kwargs)
            if compare(part.check, theirs, mine, reveal=False).passed:
                found.add(other.id)
    return found


@pytest.mark.parametrize(("name", "q_index", "p_index", "mistake_id"), catalogue())
def test_a_mistake_made_alone_gets_its_id_its_credit_and_its_feedback(
    name: str, q_index: int, p_index: int, mistake_id: str
) -> None:
    loaded, reference, harness = course(name)
    part = loaded.rubric.questions[q_index].parts[p_index]
    assert isinstance(part, AutoPart)
    mistake = next(m for m in part.mistakes if m.id == mistake_id)
    value = made(name, part, mistake)
    attempt = Attempt(loaded, reference, None, None, seed=2026, budget=TimeBudget(600, 1))
    attempt._hidden_phase = True
    result = judge_part(attempt, q_index, p_index, value, harness)
    assert mistake_id in result.mistakes, result
    assert set(result.mistakes) <= {mistake_id} | coinciding(name, part, mistake), result
    assert result.credit == pytest.approx(promised_credit(name, part, mistake, value)), result
    assert any(mistake.feedback in text for text in result.feedback), result.feedback


@pytest.mark.parametrize(("name", "q_index", "p_index", "mistake_id"), catalogue(True))
def test_a_named_constant_mistake_is_not_the_canonical_answer(
    name: str, q_index: int, p_index: int, mistake_id: str
) -> None:
    loaded, reference, _ = course(name)
    part = loaded.rubric.questions[q_index].parts[p_index]
    assert isinstance(part, AutoPart)
    mistake = next(m for m in part.mistakes if m.id == mistake_id)
    truth = expected_constant(part, reference)
    assert not compare(part.check, made(name, part, mistake), truth, reveal=False).passed
