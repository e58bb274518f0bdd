"""Finding a part's formula in a section of a sheet, and when the reading is sure."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.written.evaluate import formula_function
from grader.written.formulas import (
    MAX_CANDIDATES,
    MAX_EQUATIONS,
    MAX_EXCERPT_CHARS,
    MAX_SECTION_CHARS,
    find_formula,
    read_symbols,
)
from grader.written.latex_math import FormulaError

SYMBOLS = {"X": "X", "t": "t", "w_0": "w0", "a": "X w_0 - t", "n": "\\operatorname{rows}(X)"}
ARGS = ["X", "t", "w0"]
RNG = np.random.default_rng(5)
SAMPLE: dict[str, Any] = {
    "X": RNG.normal(size=(3, 5)),
    "t": RNG.normal(size=3),
    "w0": RNG.normal(size=5),
}


def eta_star(X: np.ndarray, t: np.ndarray, w0: np.ndarray) -> float:
    a = X @ w0 - t
    return X.shape[0] / 2 * float(np.sum((X.T @ a) ** 2) / np.sum((X @ X.T @ a) ** 2))


def find(text: str, names: tuple[str, ...] = ("eta^*",), sample: Any = SAMPLE) -> Any:
    return find_formula(text, list(names), SYMBOLS, ARGS, sample)


RIGHT = "\\frac{n \\|X^T a\\|_2^2}{2 \\|X X^T a\\|_2^2}"
SAME_AGAIN = "\\frac{n}{2} \\frac{(XX^Ta)^T (Xw_0 - t)}{(XX^Ta)^T (XX^Ta)}"


def test_the_formula_is_found_read_and_evaluated_from_the_program() -> None:
    found = find(f"Some prose.\n\n$$\\eta^* = {RIGHT}$$\n")
    assert found.sure and found.line == 2
    assert found.shown == "eta^* = n ||X^T a||^2 / (2 ||X X^T a||^2)"
    assert formula_function(found.program)(**SAMPLE) == pytest.approx(eta_star(**SAMPLE))


def test_the_program_is_plain_data() -> None:
    program = find(f"$\\eta^* = {RIGHT}$").program
    assert json.loads(json.dumps(program))["args"] == ARGS


def test_no_statement_with_an_accepted_name_is_none() -> None:
    assert find("$$L_1 = 2$$ and $\\eta$ alone") is None


def test_the_last_side_of_a_chain_that_evaluates_is_the_answer() -> None:
    found = find(f"$$\\eta^* = \\frac{{n}}{{2}} \\cdot 7 = {RIGHT}$$")
    assert found.sure
    assert found.shown.endswith("n ||X^T a||^2 / (2 ||X X^T a||^2)")


def test_an_earlier_undefined_step_is_a_note_not_a_doubt() -> None:
    text = f"$$\\eta^* = \\frac{{X^T X a^T (X w_0 - t)}}{{1}} = {RIGHT}$$"
    found = find(text)
    assert found.sure
    assert found.notes == ("the product X^T X a^T is undefined: shapes 5x5 and 1x3",)


def test_a_chain_continues_over_display_blocks_that_start_with_equals() -> None:
    text = f"$$\\eta^* = \\frac{{n}}{{2}} q \\tag{{1}}$$\n\n$$= {RIGHT} \\tag{{2}}$$"
    found = find(text)
    assert found.sure and found.line == 0
    assert "\\tag{2}" in found.excerpt


def test_a_block_without_equals_ends_a_chain() -> None:
    text = f"$$\\eta^* = {RIGHT}$$\n\n$$x \\le y$$\n\n$$= \\frac{{b}}{{2}}$$"
    found = find(text)
    assert found.sure and found.shown.endswith("(2 ||X X^T a||^2)")


def test_an_align_environment_is_one_chain() -> None:
    text = f"\\begin{{align*}}\n\\eta^* &= \\frac{{n}}{{2}} q \\\\\n&= {RIGHT}\n\\end{{align*}}"
    assert find(text).shown.endswith("(2 ||X X^T a||^2)")


def test_each_row_of_an_align_with_several_equations_is_its_own_statement() -> None:
    text = f"\\begin{{align}} a &= X w_0 - t \\\\ \\eta^* &= {RIGHT} \\end{{align}}"
    assert find(text).sure


def test_a_new_equation_on_a_new_line_of_a_block_is_its_own_statement() -> None:
    text = f"$$q = \\frac{{n}}{{2}} X\n\\eta^* = {RIGHT}\n= {SAME_AGAIN}$$"
    found = find(text)
    assert found.sure and found.line == 1
    assert found.shown.startswith("eta^* = (n / 2)")


def test_a_line_that_continues_an_expression_stays_in_its_statement() -> None:
    text = "$$\\eta^* = \\frac{n \\|X^T a\\|^2}{2 \\|X X^T a\\|^2} +\nb = c$$"
    found = find(text)
    assert found.shown == "eta^* = c" and not found.sure  # one chain: eta^* = ... + b = c


def test_bracket_display_math_is_read() -> None:
    assert find(f"\\[ \\eta^{{*}} = {RIGHT} \\]").sure


def test_a_statement_after_an_implication_is_its_own_candidate() -> None:
    found = find(f"$$\\|X^T a\\|^2 = \\frac{{2\\eta^*}}{{n}} q \\implies \\eta^* = {RIGHT}$$")
    assert found.sure


def test_an_unknown_symbol_in_the_last_step_makes_the_reading_unsure() -> None:
    found = find(f"$$\\eta^* = {RIGHT} = \\frac{{b}}{{2}}$$")
    assert not found.sure
    assert "b, which this part does not define" in found.reason
    assert found.program is not None


def test_ocr_look_alikes_are_read_as_the_declared_symbol_but_unsure() -> None:
    found = find("$$\\eta^* = \\frac{n \\|\\chi^T a\\|^2}{2 \\|\\chi \\chi^T a\\|^2}$$")
    assert found.shown == "eta^* = n ||X^T a||^2 / (2 ||X X^T a||^2)"
    assert not found.sure and "read chi as X" in found.reason
    assert formula_function(found.program)(**SAMPLE) == pytest.approx(eta_star(**SAMPLE))


def test_a_formula_using_only_unknown_symbols_has_no_program() -> None:
    found = find("$$\\eta^* = \\frac{\\|b\\|}{q}$$")
    assert not found.sure and found.program is None
    assert found.shown == "eta^* = ||b|| / q"
    assert "b, q" in found.reason


def test_two_formulas_that_differ_on_the_sample_are_unsure() -> None:
    found = find(
        f"$$\\eta^* = {RIGHT}$$\n\nso\n\n$$\\eta^* = \\frac{{\\|X^T a\\|^2}}{{\\|XX^Ta\\|^2}}$$"
    )
    assert not found.sure
    assert "2 different formulas for eta^* (lines 1, 5)" in found.reason


def test_the_same_formula_repeated_or_rewritten_equivalently_is_sure() -> None:
    assert find(f"$\\eta^* = {RIGHT}$ and again $\\eta^* = {RIGHT}$").sure
    assert find(f"$\\eta^* = {RIGHT}$ that is $\\eta^* = {SAME_AGAIN}$").sure


def test_without_a_sample_two_different_readings_are_unsure() -> None:
    assert not find(f"$\\eta^* = {RIGHT}$ and $\\eta^* = {SAME_AGAIN}$", sample=None).sure
    assert find(f"$\\eta^* = {RIGHT}$", sample=None).sure


def test_an_unusable_candidate_next_to_a_usable_one_is_unsure() -> None:
    found = find(f"$\\eta^* = \\nabla q$ and $\\eta^* = {RIGHT}$")
    assert not found.sure and "could not be used" in found.reason


def test_accepted_names_are_normalised() -> None:
    text = "$$\\mathcal{L}_1(\\eta) = \\frac{1}{n} \\|a - \\frac{2\\eta}{n} X X^T a\\|_2^2$$"
    found = find_formula(
        text,
        ["L_1", "L_1(eta)"],
        {**SYMBOLS, "\\eta": "eta"},
        [*ARGS, "eta"],
        {**SAMPLE, "eta": 0.1},
    )
    assert found is not None and found.sure
    assert found.shown.startswith("L_1(eta) = (1 / n) ||a - (2 eta / n) X X^T a||^2")


def test_the_identity_is_sized_by_context_in_a_found_formula() -> None:
    text = "$$w_1 = (I - \\frac{2}{n} X^T X) w_0$$"
    found = find(text, names=("w_1",))
    X, w0 = SAMPLE["X"], SAMPLE["w0"]
    expected = (np.eye(5) - 2 / 3 * X.T @ X) @ w0
    np.testing.assert_allclose(formula_function(found.program)(**SAMPLE), expected)


def test_the_excerpt_is_bounded() -> None:
    found = find(f"$$\\eta^* = {RIGHT} " + "+ 0 " * 1000 + "$$")
    assert len(found.excerpt) <= MAX_EXCERPT_CHARS


def test_a_section_over_the_bound_is_a_formula_error() -> None:
    with pytest.raises(FormulaError, match="characters long"):
        find("x" * (MAX_SECTION_CHARS + 1))


def test_a_section_of_too_many_equations_is_refused_fast() -> None:
    start = time.perf_counter()
    with pytest.raises(FormulaError, match=f"more than {MAX_EQUATIONS} equations"):
        find("$a = b$\n" * (MAX_SECTION_CHARS // 8))
    assert time.perf_counter() - start < 5.0


def test_blocks_of_many_lines_are_read_in_linear_time() -> None:
    text = ("$$" + "\nx =" * 2_400 + "$$\n") * 40
    start = time.perf_counter()
    assert find(text) is None
    assert time.perf_counter() - start < 5.0


def test_a_section_full_of_candidates_is_read_within_its_budget() -> None:
    block = "$$\\eta^* = " + " + ".join(["X^T a"] * 100) + "$$\n"
    text = block * (MAX_SECTION_CHARS // len(block))
    start = time.perf_counter()
    found = find(text)
    assert time.perf_counter() - start < 5.0
    assert not found.sure and f"only the last {MAX_CANDIDATES} were read" in found.reason


def test_an_unreadable_block_is_skipped_not_raised() -> None:
    found = find("$$\\frac{1}{2$$\n$" + "{" * 100 + "$\n" + f"$$\\eta^* = {RIGHT}$$")
    assert found.sure and found.line == 2


def test_an_open_brace_in_the_answer_is_told_with_its_column() -> None:
    found = find("$$\\eta^* = \\frac{n}{2 \\|X^T a\\|^2$$")
    assert found.program is None and not found.sure
    assert "unbalanced braces: '{' at column 18 is never closed" in found.reason


def test_a_chain_that_continues_a_broken_block_is_still_read() -> None:
    found = find(f"$$\\eta^* = \\frac{{n}}{{2$$\n\n$$= {RIGHT}$$")
    assert found.sure and found.shown.endswith("(2 ||X X^T a||^2)")


@pytest.mark.parametrize(
    ("symbols", "message"),
    [
        ({"a": "X w_0 - t"}, "symbol a: w_0 is neither an argument nor a symbol"),
        ({"a": "b", "b": "a"}, "refers back to itself"),
        ({"a": "\\frac{X"}, "symbol a: unbalanced braces"),
    ],
)
def test_a_rubric_symbol_that_cannot_be_read_is_named(
    symbols: dict[str, str], message: str
) -> None:
    with pytest.raises(FormulaError, match=message):
        read_symbols(symbols, ARGS)


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        ({"X": SAMPLE["X"], "t": SAMPLE["t"]}, "symbol w_0 is undefined .*no argument named w0"),
        ({**SAMPLE, "t": np.ones(4)}, "symbol a is undefined on the sample"),
        ({**SAMPLE, "X": np.ones((2, 2, 2))}, "the sample case cannot be used"),
    ],
)
def test_a_sample_that_does_not_fit_the_symbols_is_a_formula_error(
    sample: dict[str, Any], message: str
) -> None:
    with pytest.raises(FormulaError, match=message):
        find(f"$\\eta^* = {RIGHT}$", sample=sample)


def test_symbols_refer_to_arguments_and_to_other_symbols() -> None:
    trees = read_symbols(SYMBOLS, ARGS)
    assert trees["a"] == ("sub", ("mul", ("arg", "X"), ("arg", "w0")), ("arg", "t"))
    assert trees["n"] == ("fn", "rows", ("arg", "X"))


SECTION_TOKENS = [
    "$", "$$", "\\[", "\\]", "\\begin{align}", "\\end{align}", "\n", " = ", "&=", "\\\\",
    "\\eta^*", "\\eta", "X^T a", "X X^T", "w_0", "a", "t", "n", "\\frac{", "}{", "}", "{", "(",
    ")", "\\|", "|", "^2", "^{-1}", "I", "\\implies", ",", "\\tag{1}", "\\nabla", "b", "2",
]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(SECTION_TOKENS), max_size=60).map("".join), st.booleans())
def test_any_section_gives_a_reading_none_or_a_formula_error(text: str, with_sample: bool) -> None:
    try:
        found = find(text, sample=SAMPLE if with_sample else None)
    except FormulaError:
        return
    assert found is None or found.sure == (found.reason == "")
    if found is not None and found.sure and with_sample:
        formula_function(found.program)(**SAMPLE)
