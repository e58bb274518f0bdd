"""The lurking-mutant screening's work budget (trusted.line_budget): a mutant is judged by the
lines its code runs, never by the seconds it takes, so a screening gives the same mutants on any
machine under any load, and a mutant that never ends is stopped instead of hanging the grader."""

from __future__ import annotations

import signal
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.errors import ReferenceModuleError
from grader.grading.mutants import analyse
from grader.rubric.model import AutoPart, LoadedRubric, load_rubric
from grader.trusted import line_budget
from grader.trusted.line_budget import OverBudget, counted_call
from grader.trusted.mutant_cache import CACHE_ENV
from grader.trusted.mutation import lurking_mutants, mutants_of
from grader.trusted.reference import load_reference

REFERENCE = '''
def count_while(n):
    """Counts to n one step at a time (a loop a mutant may run longer, or forever)."""
    i = 0
    while i < n * 1:
        i += 1
    return min(i, 15000)


def count_for(n):
    """The same with a loop that always ends: what the clock once decided about is left."""
    i = 0
    for _ in range(n * 1):
        i += 1
    return min(i, 15000)


def draws(rng):
    return {"n": int(rng.integers(10000, 20000))}
'''

RUBRIC = """
assignment: budget-demo
title: Budget demo
total_points: 1
seed: 3
reference: ref.py
submission: {entry: answers.py}
questions:
  - number: "1"
    title: A loop
    points: 1
    parts:
      - name: count
        points: 1
        target: {name}
        function:
          args: [n]
          reference: {name}
          public: [{n: 3}]
          random: {generator: draws, count: 4}
        check: {kind: exact}
"""

NEVER_ENDS = "count_while: line 5: 1 -> 0"
"""`i += 0`: the loop never ends."""
TWICE_AS_LONG = "count_for: line 4: 1 -> 2"
"""`range(n * 2)`: twice the reference's loop, the same answer whenever n >= 7,500."""


@pytest.fixture(autouse=True)
def no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, "")


@contextmanager
def at_most(seconds: float) -> Iterator[None]:
    """Fails the test (a BaseException no mutant's `except Exception` swallows) past `seconds`."""

    def late(signum: int, frame: object) -> None:
        pytest.fail(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, late)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def course(folder: Path, function: str) -> tuple[LoadedRubric, AutoPart]:
    folder.mkdir(exist_ok=True)
    (folder / "ref.py").write_text(textwrap.dedent(REFERENCE))
    (folder / "budget.yaml").write_text(RUBRIC.replace("{name}", function))
    loaded = load_rubric(folder / "budget.yaml")
    part = loaded.rubric.questions[0].parts[0]
    assert isinstance(part, AutoPart)
    return loaded, part


def made(folder: Path, function: str) -> list[str]:
    loaded, _ = course(folder, function)
    reference = load_reference(loaded.reference_path)
    return [f"{where}: {change}" for where, change, _ in mutants_of(function, reference)]


def screened(folder: Path, function: str) -> list[str]:
    loaded, part = course(folder, function)
    return [mutant.label for mutant in lurking_mutants(part, load_reference(loaded.reference_path))]


def test_a_mutant_whose_loop_never_ends_is_left_out_in_bounded_time(tmp_path: Path) -> None:
    assert NEVER_ENDS in made(tmp_path, "count_while")
    with at_most(60):
        labels = screened(tmp_path, "count_while")
    assert NEVER_ENDS not in labels


def test_a_mutant_twice_as_slow_as_the_reference_is_kept(tmp_path: Path) -> None:
    with at_most(60):
        assert TWICE_AS_LONG in screened(tmp_path, "count_for")


def test_the_lurking_mutants_do_not_depend_on_the_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with at_most(60):
        on_a_quiet_machine = screened(tmp_path / "quiet", "count_for")
        real = time.perf_counter
        monkeypatch.setattr(time, "perf_counter", lambda: 100 * real())  # 100 times slower
        on_a_loaded_machine = screened(tmp_path / "loaded", "count_for")
    assert on_a_loaded_machine == on_a_quiet_machine


def test_grader_mutants_counts_a_mutant_that_never_ends_as_caught(tmp_path: Path) -> None:
    loaded, _ = course(tmp_path, "count_while")
    with at_most(120):
        report = analyse(loaded, load_reference(loaded.reference_path))
    [never_ends] = [r for r in report.results if f"{r.where}: {r.change}" == NEVER_ENDS]
    assert never_ends.credit == 0.0 and never_ends not in report.survivors


LOOP = "def loop(n):\n    i = 0\n    while i < n:\n        i = step(i)\n    return i\n"
STEP = "def step(i):\n    j = i + 1\n    return j\n"


def compiled() -> dict[str, Any]:
    """`loop` from the course's file "<course>", calling `step` from another ("<library>")."""
    namespace: dict[str, Any] = {}
    exec(compile(STEP, "<library>", "exec"), namespace)
    exec(compile(LOOP, "<course>", "exec"), namespace)
    return namespace


@given(n=st.integers(0, 300), limit=st.integers(0, 1000))
def test_a_call_is_stopped_exactly_when_its_lines_exceed_the_limit(n: int, limit: int) -> None:
    loop = compiled()["loop"]
    value, lines = counted_call(loop, {"n": n}, {"<course>"})
    assert value == n
    if lines > limit:
        with pytest.raises(OverBudget):
            counted_call(loop, {"n": n}, {"<course>"}, limit)
    else:
        assert counted_call(loop, {"n": n}, {"<course>"}, limit) == (n, lines)


def test_only_lines_of_the_given_files_are_counted() -> None:
    loop = compiled()["loop"]
    _, own = counted_call(loop, {"n": 50}, {"<course>"})
    _, with_step = counted_call(loop, {"n": 50}, {"<course>", "<library>"})
    assert with_step - own == 2 * 50  # step's two lines, run 50 times


def test_a_call_past_the_safety_cap_stops_the_screening_naming_the_function(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(line_budget, "SAFETY_SECONDS", 0.0)
    with pytest.raises(ReferenceModuleError, match="count_for"):
        screened(tmp_path, "count_for")
