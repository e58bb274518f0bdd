"""A sheet's staged module, data plus the grader's evaluator, graded through the real engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.grading.engine import Engine
from grader.rubric.model import load_rubric
from grader.submission.staged import open_submission
from grader.trusted.reference import load_reference
from grader.written.formulas import find_formula

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).resolve().parents[2]
SYMBOLS = {"X": "X", "t": "t", "w_0": "w0", "a": "X w_0 - t", "n": "\\operatorname{rows}(X)"}

RUBRIC = f"""
assignment: sheet-formula
title: A formula read from a sheet
total_points: 1
seed: 11
reference: {REPO / "reference" / "hw2.py"}
submission: {{entry: hw2.py}}
questions:
  - number: "2.2.3"
    title: Optimal learning rate
    points: 1
    parts:
      - name: eta star
        points: 1
        target: eta_star
        function:
          args: [X, t, w0]
          array_args: [X, t, w0]
          reference: eta_star
          public:
            - {{X: [[2, 1]], t: [2], w0: [0, 0]}}
          random: {{generator: eta_star_cases, count: 10}}
        check: {{kind: numeric, rtol: 1e-6, atol: 1e-12}}
        mistakes:
          - id: eta-star-without-n-over-2
            reference: eta_star_half_sse
            credit: 0.5
            feedback: This is eta* without the n/2 factor.
"""


def _grade(tmp_path: Path, formula: str) -> tuple[float, list[str]]:
    found = find_formula(formula, ["eta^*"], SYMBOLS, ["X", "t", "w0"], None)
    assert found is not None and found.program is not None
    (tmp_path / "rubric.yaml").write_text(RUBRIC)
    loaded = load_rubric(tmp_path / "rubric.yaml")
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "hw2.py").write_text(
        "from grader.written.evaluate import formula_function as _f\n"
        f"eta_star = _f({dict(found.program)!r})\n"
    )
    with open_submission(folder, loaded.rubric.submission) as submission:
        result = Engine(loaded, load_reference(loaded.reference_path)).grade(submission)
    part = result.questions[0].parts[0]
    return part.score, list(part.feedback)


def test_a_staged_sheet_module_imports_the_evaluator_in_the_sandbox(tmp_path: Path) -> None:
    formula = r"$$\eta^* = \frac{n \left\| X^T \mathbf{a} \right\|_2^2}{2 \| X X^T a \|_2^2}$$"
    score, feedback = _grade(tmp_path, formula)
    assert score == 1, feedback


def test_a_staged_formula_without_n_over_2_earns_the_mistakes_credit(tmp_path: Path) -> None:
    score, feedback = _grade(tmp_path, r"$\eta^* = \|X^T a\|^2 / \|X X^T a\|^2$")
    assert score == 0.5
    assert any("without the n/2 factor" in line for line in feedback)
