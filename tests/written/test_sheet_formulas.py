"""The formulas of two typed real sheets, read and evaluated against the reference.

data/sheet000_2.2.md and data/sheet002_2.2.md are section 2.2 of the shared sheets 000 and 002
exactly as handed in (lines 50-84 and 89-146; no names in them).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from grader.written.evaluate import formula_function
from grader.written.formulas import FormulaFound, find_formula

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
SYMBOLS = {"X": "X", "t": "t", "w_0": "w0", "a": "X w_0 - t", "n": "\\operatorname{rows}(X)"}
ARGS = ["X", "t", "w0"]
SHEETS = {"000": DATA / "sheet000_2.2.md", "002": DATA / "sheet002_2.2.md"}


def _reference() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hw2_reference", REPO / "reference" / "hw2.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REFERENCE = _reference()


def _cases(count: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    return [REFERENCE.eta_star_cases(rng) for _ in range(count)]


def _eta_star(sheet: str) -> FormulaFound:
    text = SHEETS[sheet].read_text()
    found = find_formula(text, ["eta^*"], SYMBOLS, ARGS, _cases(1, 0)[0])
    assert found is not None
    return found


@pytest.mark.parametrize("sheet", sorted(SHEETS))
def test_a_typed_sheets_eta_star_equals_the_reference_on_random_cases(sheet: str) -> None:
    found = _eta_star(sheet)
    assert found.sure, found.reason
    function = formula_function(found.program or {})
    for case in _cases(20, 1):
        assert function(**case) == pytest.approx(REFERENCE.eta_star(**case), rel=1e-12)


def test_sheet_002s_eta_star_is_read_as_written_on_its_line() -> None:
    found = _eta_star("002")
    assert found.shown == "eta^* = n ||X^T a||^2 / (2 ||X X^T a||^2)"
    assert "\\tag{2.17}" in found.excerpt
    text = SHEETS["002"].read_text().splitlines()
    assert "\\eta^* = \\frac{n" in text[found.line]


def test_sheet_000s_eta_star_keeps_its_equivalent_form() -> None:
    found = _eta_star("000")
    assert found.shown.startswith("eta^* = (n / 2) ((X X^T a)^T (X w_0 - t)")


def test_eta_star_without_n_over_2_is_the_half_sse_value_not_the_reference() -> None:
    text = "$$\\eta^* = \\frac{\\|X^T a\\|_2^2}{\\|X X^T a\\|_2^2}$$"
    found = find_formula(text, ["eta^*"], SYMBOLS, ARGS, _cases(1, 0)[0])
    assert found is not None and found.sure
    function = formula_function(found.program or {})
    for case in _cases(10, 2):
        assert function(**case) == pytest.approx(REFERENCE.eta_star_half_sse(**case), rel=1e-12)
        assert function(**case) != pytest.approx(REFERENCE.eta_star(**case), rel=1e-3)


GD_SYMBOLS = {**SYMBOLS, "\\eta": "eta"}
GD_ARGS = [*ARGS, "eta"]


@pytest.mark.parametrize("sheet", sorted(SHEETS))
@pytest.mark.parametrize(
    ("names", "reference"),
    [(["w_1"], "gd_step"), (["L_1", "L_1(eta)"], "loss_after_one_step")],
)
def test_a_typed_sheets_one_step_answers_equal_the_reference(
    sheet: str, names: list[str], reference: str
) -> None:
    rng = np.random.default_rng(4)
    found = find_formula(
        SHEETS[sheet].read_text(), names, GD_SYMBOLS, GD_ARGS, REFERENCE.gd_cases(rng)
    )
    assert found is not None and found.sure, found and found.reason
    function = formula_function(found.program or {})
    for _ in range(20):
        case = REFERENCE.gd_cases(rng)
        np.testing.assert_allclose(
            function(**case), getattr(REFERENCE, reference)(**case), rtol=1e-12
        )


def test_l_t_with_the_identity_and_a_power_from_an_argument_equals_the_reference() -> None:
    text = (
        "$$\\mathcal{L}_t = \\frac{1}{n}\\left\\| "
        "\\left(I - \\frac{2\\eta}{n} X X^\\top\\right)^{t} \\mathbf{a} \\right\\|_2^2$$"
    )
    rng = np.random.default_rng(6)
    symbols = {**GD_SYMBOLS, "t": "steps", "a": "X w_0 - target"}
    args = ["X", "target", "w0", "eta", "steps"]
    case = REFERENCE.loss_t_cases(rng)
    renamed = {"X": case["X"], "target": case["t"], "w0": case["w0"], "eta": case["eta"]}
    found = find_formula(text, ["L_t"], symbols, args, {**renamed, "steps": case["steps"]})
    assert found is not None and found.sure, found and found.reason
    function = formula_function(found.program or {})
    for _ in range(10):
        case = REFERENCE.loss_t_cases(rng)
        got = function(case["X"], case["t"], case["w0"], case["eta"], case["steps"])
        assert got == pytest.approx(REFERENCE.loss_after_t_steps(**case), rel=1e-12)


def test_sheet_000s_second_derivative_is_read_on_its_own_line_with_the_slip_as_a_note() -> None:
    rng = np.random.default_rng(8)
    found = find_formula(
        SHEETS["000"].read_text(), ["L_1''"], SYMBOLS, ARGS, REFERENCE.second_derivative_cases(rng)
    )
    assert found is not None and found.sure, found and found.reason
    assert found.shown == "L_1'' = (8 / n^3) (X X^T a)^T X X^T a"
    assert len(found.notes) == 1 and "X^T X a^T is undefined" in found.notes[0]
    function = formula_function(found.program or {})
    for _ in range(10):
        case = REFERENCE.second_derivative_cases(rng)
        expected = REFERENCE.second_derivative_L1(**case)
        assert function(**case) == pytest.approx(expected, rel=1e-12)
