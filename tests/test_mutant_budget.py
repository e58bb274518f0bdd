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

import pytest

from grader.grading.mutants import analyse
from grader.rubric.model import AutoPart, LoadedRubric, load_rubric
from grader.trusted.mutant_cache import CACHE_ENV
from grader.trusted.mutation import lurking_mutants, mutants_of
from grader.trusted.reference import load_reference

REFERENCE = '''
def capped_count(n):
    """Counts to n one step at a time (a loop a mutant may run longer, or forever)."""
    i = 0
    while i < n * 1:
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
        target: capped_count
        function:
          args: [n]
          reference: capped_count
          public: [{n: 3}]
          random: {generator: draws, count: 4}
        check: {kind: exact}
"""

NEVER_ENDS = "capped_count: line 5: 1 -> 0"
"""`i += 0`: the loop never ends."""
TWICE_AS_LONG = "capped_count: line 4: 1 -> 2"
"""`while i < n * 2`: twice the reference's loop, the same answer whenever n >= 7,500."""


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


def course(folder: Path) -> tuple[LoadedRubric, AutoPart]:
    folder.mkdir(exist_ok=True)
    (folder / "ref.py").write_text(textwrap.dedent(REFERENCE))
    (folder / "budget.yaml").write_text(RUBRIC)
    loaded = load_rubric(folder / "budget.yaml")
    part = loaded.rubric.questions[0].parts[0]
    assert isinstance(part, AutoPart)
    return loaded, part


def made(folder: Path) -> list[str]:
    loaded, _ = course(folder)
    reference = load_reference(loaded.reference_path)
    return [f"{where}: {change}" for where, change, _ in mutants_of("capped_count", reference)]


def screened(folder: Path) -> list[str]:
    loaded, part = course(folder)
    return [mutant.label for mutant in lurking_mutants(part, load_reference(loaded.reference_path))]


def test_a_mutant_whose_loop_never_ends_is_left_out_in_bounded_time(tmp_path: Path) -> None:
    assert NEVER_ENDS in made(tmp_path)
    with at_most(60):
        labels = screened(tmp_path)
    assert NEVER_ENDS not in labels


def test_a_mutant_twice_as_slow_as_the_reference_is_kept(tmp_path: Path) -> None:
    with at_most(60):
        assert TWICE_AS_LONG in screened(tmp_path)


def test_the_lurking_mutants_do_not_depend_on_the_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with at_most(60):
        on_a_quiet_machine = screened(tmp_path / "quiet")
        real = time.perf_counter
        monkeypatch.setattr(time, "perf_counter", lambda: 100 * real())  # 100 times slower
        on_a_loaded_machine = screened(tmp_path / "loaded")
    assert on_a_loaded_machine == on_a_quiet_machine


def test_grader_mutants_counts_a_mutant_that_never_ends_as_caught(tmp_path: Path) -> None:
    loaded, _ = course(tmp_path)
    with at_most(120):
        report = analyse(loaded, load_reference(loaded.reference_path))
    [never_ends] = [r for r in report.results if f"{r.where}: {r.change}" == NEVER_ENDS]
    assert never_ends.credit == 0.0 and never_ends not in report.survivors
