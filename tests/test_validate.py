"""`grader validate` warnings: known mistakes that the rubric's own cases cannot detect."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader.rubric.model import load_rubric
from grader.trusted.validate import mistake_warnings

REPO = Path(__file__).parents[1]
GRADER = str(Path(sys.executable).parent / "grader")


def rubric_with(tmp_path: Path, hidden_case: str) -> Path:
    """HW2's rubric with another hidden case for 2.2.3, beside a copy of its reference."""
    text = (
        (REPO / "rubrics/hw2.yaml").read_text().replace("../reference/", f"{REPO / 'reference'}/")
    )
    current = (
        "            - {X: [[1, 2, 0, 1], [0, 1, 1, 0], [1, 0, 1, 2]], t: [1, -1, 2], "
        "w0: [0.5, 0, 0, 0]}"
    )
    assert current in text
    path = tmp_path / "hw2.yaml"
    path.write_text(text.replace(current, f"            - {hidden_case}"))
    return path


def test_the_shipped_eta_star_cases_all_detect_the_missing_n_over_2():
    warnings = mistake_warnings(load_rubric(REPO / "rubrics/hw2.yaml"))
    assert not any("eta-star-without-n-over-2" in warning for warning in warnings)


def test_a_hidden_case_with_n_2_is_flagged_for_the_missing_n_over_2(tmp_path):
    rubric = rubric_with(tmp_path, "{X: [[1, 2, 0], [0, 1, 1]], t: [1, -1], w0: [0.5, 0, 0]}")
    warnings = mistake_warnings(load_rubric(rubric))
    flagged = [w for w in warnings if "eta-star-without-n-over-2" in w]
    assert flagged and "1 hidden case" in flagged[0]


@pytest.mark.parametrize("name", ["hw2", "midterm"])
def test_no_shipped_hidden_case_lets_a_lurking_mutant_through(name):
    warnings = mistake_warnings(load_rubric(REPO / f"rubrics/{name}.yaml"))
    assert not any("automatic mutant" in warning for warning in warnings), warnings


def test_a_hidden_case_with_n_equal_to_d_is_flagged_for_the_mutant_that_swaps_them(tmp_path):
    square = "{X: [[1, 2, 0], [0, 1, 1], [1, 0, 1]], t: [1, -1, 2], w0: [0.5, 0, 0]}"
    warnings = mistake_warnings(load_rubric(rubric_with(tmp_path, square)))
    flagged = [w for w in warnings if "automatic mutant" in w]
    assert len(flagged) == 1 and "function.hidden[0]" in flagged[0], warnings
    assert "_xxta: line 5: 0 -> 1" in flagged[0]


def test_a_constant_mistake_equal_to_the_answer_can_never_be_recognised(tmp_path):
    text = (
        (REPO / "rubrics/hw2.yaml")
        .read_text()
        .replace("../reference/", f"{REPO / 'reference'}/")
        .replace("reference: adagrad_limit_is_min_norm_mistake", "reference: adagrad_limit")
    )
    (tmp_path / "hw2.yaml").write_text(text)
    warnings = mistake_warnings(load_rubric(tmp_path / "hw2.yaml"))
    assert any("adagrad-min-norm" in w and "can never be recognised" in w for w in warnings)


@pytest.mark.sandbox
def test_validate_prints_warnings_but_still_accepts_the_rubric(tmp_path):
    rubric = rubric_with(tmp_path, "{X: [[1, 2, 0], [0, 1, 1]], t: [1, -1], w0: [0.5, 0, 0]}")
    done = subprocess.run(
        [GRADER, "validate", str(rubric)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and "valid (15 questions" in done.stdout
    assert "warning:" in done.stderr and "eta-star-without-n-over-2" in done.stderr


OPTIMIZER_REFERENCE = """
def one_sgd_step():
    import torch

    weight = torch.nn.Parameter(torch.ones(2))
    optimizer = torch.optim.SGD([weight], lr=0.5)
    weight.sum().backward()
    optimizer.step()
    return float(weight.detach().sum())
"""


def _torch_rubric(tmp_path: Path, reference: str) -> Path:
    (tmp_path / "ref.py").write_text(reference)
    rubric = tmp_path / "rubric.yaml"
    rubric.write_text(
        "assignment: demo\ntitle: Demo\ntotal_points: 1\nseed: 1\nreference: ref.py\n"
        "submission: {entry: answers.py}\nquestions:\n"
        "  - {number: '1', title: One step, points: 1, parts: [{name: w, points: 1, "
        "target: W, answer: {reference: one_sgd_step}, check: {kind: numeric}}]}\n"
    )
    return rubric


def _validate_stderr(tmp_path: Path, reference: str) -> str:
    """`grader validate` of a one-part rubric whose answer `reference` computes: its warnings."""
    done = subprocess.run(
        [GRADER, "validate", str(_torch_rubric(tmp_path, reference))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


@pytest.mark.sandbox
def test_validate_warns_when_the_reference_loads_torchs_compiler_stack(tmp_path):
    warnings = _validate_stderr(tmp_path, OPTIMIZER_REFERENCE)
    assert "torch._dynamo" in warnings and "torch.optim" in warnings


@pytest.mark.sandbox
def test_validate_does_not_warn_when_the_reference_updates_weights_by_hand(tmp_path):
    by_hand = OPTIMIZER_REFERENCE.replace(
        "    optimizer = torch.optim.SGD([weight], lr=0.5)\n", ""
    ).replace(
        "    optimizer.step()\n",
        "    with torch.no_grad():\n        weight -= weight.grad / 2\n",
    )
    assert "optim" not in by_hand
    assert "torch._dynamo" not in _validate_stderr(tmp_path, by_hand)
