"""Answers computed once: validation's constants and listed answers reused by the engine in the
same process, and sent to a batch's workers as data only when they cross exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from run_facts import without_run_facts

from grader.grading.engine import Engine
from grader.outputs.gradescope_json import to_gradescope
from grader.rubric.model import AutoPart, load_rubric
from grader.submission.staged import open_submission
from grader.trusted import reference as reference_module
from grader.trusted.answers import ListedAnswers
from grader.trusted.cases import RANDOM, build_cases
from grader.trusted.mutant_cache import CACHE_ENV
from grader.trusted.mutation import lurking_mutants
from grader.trusted.reference import load_reference
from grader.trusted.shared_answers import adopt_answers, identical, shared_answers
from grader.trusted.validate import validate

REPO = Path(__file__).resolve().parents[1]
LOADED = load_rubric(REPO / "rubrics" / "hw2.yaml")

plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(plain)
def test_plain_data_crosses_to_a_worker_identical(value: Any) -> None:
    reference = load_reference(LOADED.reference_path)
    reference.adopt_constant("c", value)
    shared = json.loads(json.dumps(shared_answers(reference, {})))
    worker = load_reference(LOADED.reference_path)
    adopt_answers(shared, worker)
    assert identical(worker.computed_constants()["c"], value)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ([1, 2], (1, 2)),
        (1, 1.0),
        (True, 1),
        (np.zeros(3), np.zeros(3, dtype=np.float32)),
        (np.zeros((2, 3)), np.zeros((3, 2))),
        (np.float64(1.0), 1.0),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
        (0.0, -0.0),
    ],
)
def test_values_that_differ_in_type_dtype_shape_order_or_sign_are_not_identical(
    first: Any, second: Any
) -> None:
    assert not identical(first, second)


def test_a_value_that_does_not_cross_exactly_is_not_sent() -> None:
    reference = load_reference(LOADED.reference_path)
    reference.adopt_constant("numbers", {1, 2, 3})  # numbers' sets arrive as Members
    reference.adopt_constant("object", object())
    reference.adopt_constant("array", np.arange(6.0).reshape(2, 3))
    assert set(shared_answers(reference, {})["constants"]) == {"array"}


def validated() -> tuple[reference_module.ReferenceModule, ListedAnswers]:
    reference = load_reference(LOADED.reference_path)
    listed: ListedAnswers = {}
    assert validate(LOADED, reference, listed) == []
    return reference, listed


def test_validation_keeps_each_listed_case_answer_under_the_engine_key() -> None:
    _, listed = validated()
    reference = load_reference(LOADED.reference_path)
    expected = {}
    for q_index, question in enumerate(LOADED.rubric.questions):
        for p_index, part in enumerate(question.parts):
            if not isinstance(part, AutoPart) or part.function is None:
                continue
            spec = part.function
            if spec.reference is None:
                continue
            truth = reference.function(spec.reference, field="t")
            for case in build_cases(spec, reference, np.random.default_rng(1)):
                if case.kind != RANDOM:
                    expected[(q_index, p_index, case.kind, case.index)] = truth(**case.kwargs)
    assert listed.keys() == expected.keys()
    assert all(identical(listed[key], expected[key]) for key in expected)


def test_a_worker_given_the_answers_computes_none_of_those_it_received(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reference, listed = validated()
    shared = json.loads(json.dumps(shared_answers(reference, listed)))
    worker = load_reference(LOADED.reference_path)
    received = adopt_answers(shared, worker)
    computed = reference.computed_constants()
    assert len(shared["constants"]) > len(computed) / 2  # a set of tuples does not cross

    def no_call(name: str, *, field: str) -> Any:
        raise AssertionError(f"{name} was computed again")

    monkeypatch.setattr(worker, "function", no_call)
    for name in shared["constants"]:
        assert identical(worker.constant(name, field="t"), computed[name])
    assert all(identical(received[key], listed[key]) for key in received)


def test_validation_given_the_grading_reference_fills_its_constants() -> None:
    reference, _ = validated()
    constants = [p for _, p in LOADED.rubric.auto_parts() if p.answer and p.answer.reference]
    assert {p.answer.reference for p in constants if p.answer} <= set(
        reference.computed_constants()
    )


def graded(engine: Engine, example: str) -> Any:
    folder = REPO / "submissions_example" / "hw2" / example
    with open_submission(folder, LOADED.rubric.submission, submission_id=example) as staged:
        return without_run_facts(to_gradescope(engine.grade(staged)))


@pytest.mark.sandbox
@pytest.mark.parametrize("example", ["correct", "mistakes"])
def test_grades_replay_exactly_with_received_answers_and_cached_mutants(
    example: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, "")
    computed = graded(Engine(LOADED, load_reference(LOADED.reference_path)), example)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    reference, listed = validated()
    lurking_mutants_of_every_part(reference)  # fills the cache
    shared = json.loads(json.dumps(shared_answers(reference, listed)))
    worker = load_reference(LOADED.reference_path)
    received = adopt_answers(shared, worker)
    assert graded(Engine(LOADED, worker, listed_answers=received), example) == computed


def lurking_mutants_of_every_part(reference: reference_module.ReferenceModule) -> None:
    for _, part in LOADED.rubric.auto_parts():
        lurking_mutants(part, reference)
