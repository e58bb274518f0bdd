"""Mutation analysis: automatic mutants of the reference, graded as submissions would be."""

from __future__ import annotations

import functools
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader.grading.mutants import MutationReport, analyse, render
from grader.rubric.model import load_rubric
from grader.trusted.mutation import function_mutants
from grader.trusted.reference import load_reference

REPO = Path(__file__).resolve().parents[1]


@functools.cache
def report_for(name: str) -> MutationReport:
    loaded = load_rubric(REPO / "rubrics" / f"{name}.yaml")
    return analyse(loaded, load_reference(loaded.reference_path))


def sample(X, t, n):
    """A docstring is never mutated."""
    return 2.0 / n * X.T @ (X - t)


def test_mutants_include_the_factor_two_a_transpose_and_a_sign() -> None:
    changes = [change for change, _ in function_mutants(sample)]
    text = "\n".join(changes)
    assert "2.0 -> 4.0" in text and "2.0 -> 1.0" in text
    assert "dropped a transpose" in text and "Sub -> Add" in text
    assert "Div -> FloorDiv" in text and "negated the result" in text


def test_the_docstring_is_not_mutated() -> None:
    assert all("A docstring is never mutated." in source for _, source in function_mutants(sample))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["hw2", "midterm"])
def test_the_shipped_rubric_lets_no_mutant_through(name: str) -> None:
    report = report_for(name)
    assert len(report.judged) >= 300
    assert not report.survivors, render(report)


def write_weak_rubric(tmp_path: Path) -> Path:
    """A rubric whose only case, x = 0, cannot tell 2x from any multiple of x."""
    (tmp_path / "ref.py").write_text(
        textwrap.dedent("""
            def scale(x):
                return 2 * x
        """)
    )
    (tmp_path / "r.yaml").write_text(
        textwrap.dedent("""
            assignment: weak
            title: Weak
            total_points: 1
            seed: 1
            reference: ref.py
            submission: {entry: a.py}
            questions:
              - number: "1"
                title: scale
                points: 1
                parts:
                  - name: scale
                    points: 1
                    target: scale
                    function: {args: [x], reference: scale, hidden: [{x: 0}]}
                    check: {kind: numeric}
        """)
    )
    return tmp_path / "r.yaml"


def test_a_rubric_with_only_a_degenerate_case_lets_mutants_through(tmp_path) -> None:
    loaded = load_rubric(write_weak_rubric(tmp_path))
    report = analyse(loaded, load_reference(loaded.reference_path))
    assert report.survivors and "a hidden case" in render(report)


def test_grader_mutants_exits_1_and_names_the_survivors(tmp_path) -> None:
    rubric = write_weak_rubric(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "grader", "mutants", str(rubric)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "SURVIVED 1 scale" in done.stdout and "mutation score" in done.stdout
