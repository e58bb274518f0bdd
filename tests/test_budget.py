"""The whole-submission time budget: every part gets a share, grading ends in time."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from grader.errors import RubricError
from grader.grading.engine import NOT_REACHED, OUT_OF_TIME, Attempt, Engine
from grader.rubric.budget import RESERVE, TimeBudget
from grader.rubric.model import load_rubric
from grader.submission.staged import open_submission
from grader.trusted.reference import load_reference


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_each_part_gets_an_equal_share_of_what_is_left():
    clock = FakeClock()
    budget = TimeBudget(100, units=4, clock=clock)
    budget.start_unit()
    assert budget.timeout(1000) == pytest.approx(100 * (1 - RESERVE) / 4)


def test_time_a_fast_part_leaves_flows_to_the_next_parts():
    clock = FakeClock()
    budget = TimeBudget(100, units=4, clock=clock)
    budget.start_unit()
    clock.now = 1.0
    budget.start_unit()
    assert budget.timeout(1000) == pytest.approx((80 - 1) / 3)


def test_a_request_never_gets_more_than_it_asks_for():
    budget = TimeBudget(100, units=1, clock=FakeClock())
    budget.start_unit()
    assert budget.timeout(5) == 5


def test_an_overrun_leaves_nothing_for_the_rest():
    clock = FakeClock()
    budget = TimeBudget(100, units=2, clock=clock)
    budget.start_unit()
    clock.now = 85.0
    budget.start_unit()
    assert budget.exhausted and budget.timeout(5) == 0


RUBRIC = """
assignment: budget
title: Budget
total_points: 3
seed: 1
reference: ref.py
submission: {entry: answers.py}
limits: {call_timeout: 30, total_seconds: 5, import_timeout: 1}
questions:
  - number: "1"
    title: slow
    points: 1
    parts:
      - name: slow
        points: 1
        target: slow
        function: {args: [x], reference: same, public: [{x: 1}], hidden: [{x: 2}]}
        check: {kind: numeric}
  - number: "2"
    title: fast
    points: 1
    parts:
      - {name: fast, points: 1, target: FAST, answer: {value: 1}, check: {kind: numeric}}
  - number: "3"
    title: fast too
    points: 1
    parts:
      - {name: fast2, points: 1, target: FAST, answer: {value: 1}, check: {kind: numeric}}
"""


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    (tmp_path / "rubric.yaml").write_text(RUBRIC)
    (tmp_path / "ref.py").write_text("def same(x):\n    return x\n")
    loaded = load_rubric(tmp_path / "rubric.yaml")
    return Engine(loaded, load_reference(loaded.reference_path))


def submit(tmp_path: Path, source: str) -> Path:
    folder = tmp_path / "student"
    folder.mkdir(exist_ok=True)
    (folder / "answers.py").write_text(textwrap.dedent(source))
    return folder


@pytest.mark.sandbox
def test_a_hanging_function_cannot_push_grading_past_the_limit(engine, tmp_path):
    folder = submit(
        tmp_path,
        """
        FAST = 1
        def slow(x):
            while True:
                pass
    """,
    )
    began = time.monotonic()
    with open_submission(folder, engine.loaded.rubric.submission) as submission:
        result = engine.grade(submission)
    assert time.monotonic() - began < 5
    scores = {q.number: q.score for q in result.questions}
    assert scores == {"1": 0, "2": 1, "3": 1}


@pytest.mark.sandbox
def test_progress_reports_a_complete_result_after_every_question(engine, tmp_path):
    folder = submit(tmp_path, "FAST = 1\ndef slow(x):\n    return x\n")
    seen = []
    with open_submission(folder, engine.loaded.rubric.submission) as submission:
        engine.grade(submission, on_progress=seen.append)
    assert len(seen) == 4  # before the first question, then after each of the three
    assert [len(r.questions) for r in seen] == [3, 3, 3, 3]
    assert NOT_REACHED in seen[1].questions[1].feedback_text()
    assert seen[-1].score == 3


def test_parts_after_the_budget_is_spent_are_not_graded_and_say_so(engine):
    clock = FakeClock()
    budget = TimeBudget(10, units=3, clock=clock)
    clock.now = 9.0  # an earlier part overran: nothing is left
    attempt = Attempt(
        engine.loaded, engine.reference, session=None, hidden=None, seed=0, budget=budget
    )
    question = attempt.grade(lambda done: None)[1]
    assert question.score == 0 and OUT_OF_TIME in question.feedback_text()


def test_an_import_limit_beyond_the_reserve_is_rejected(tmp_path):
    (tmp_path / "rubric.yaml").write_text(
        RUBRIC.replace(
            "total_seconds: 5, import_timeout: 1", "total_seconds: 100, import_timeout: 30"
        )
    )
    with pytest.raises(RubricError, match="limits: import_timeout"):
        load_rubric(tmp_path / "rubric.yaml")
