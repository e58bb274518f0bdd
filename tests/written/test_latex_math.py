"""Reading LaTeX math: each notation students use, its one plain rendering, and its bounds."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.written.evaluate import as_result, evaluate_value
from grader.written.latex_math import (
    MAX_CHARS,
    MAX_POWER,
    FormulaError,
    parse_equation,
    parse_expression,
    read_statement,
    shown,
    split_statements,
)


def read(latex: str) -> str:
    return shown(parse_expression(latex))


@pytest.mark.parametrize(
    ("latex", "expected"),
    [
        ("XX^T a", "X X^T a"),
        ("2\\eta", "2 eta"),
        ("X \\cdot Y", "X Y"),
        ("2 \\times 3", "2 * 3"),
        ("X^\\top", "X^T"),
        ("X^{\\mathrm{T}}", "X^T"),
        ("X^{\\mathsf{T}}", "X^T"),
        ("X^{T}", "X^T"),
        ("X^{-1}", "X^-1"),
        ("X^{-T}", "(X^T)^-1"),
        ("x^2 + x^{3}", "x^2 + x^3"),
        ("\\frac{a}{b} + \\dfrac{c}{d} + \\tfrac{e}{f}", "a / b + c / d + e / f"),
        ("\\frac12", "1 / 2"),
        ("\\sqrt{x}", "sqrt(x)"),
        ("\\sqrt[3]{x}", "x^(1 / 3)"),
        ("\\|x\\|", "||x||"),
        ("\\|x\\|_2", "||x||"),
        ("\\|x\\|_2^2", "||x||^2"),
        ("\\|x\\|_1 + \\|x\\|_\\infty + \\|A\\|_F", "||x||_1 + ||x||_inf + ||A||_F"),
        ("\\lVert x\\rVert", "||x||"),
        ("\\left\\| x \\right\\|_2^2", "||x||^2"),
        ("||x||^2", "||x||^2"),
        ("|x|", "|x|"),
        ("|a| |b|", "|a| |b|"),
        ("\\left( a + b \\right) c", "(a + b) c"),
        ("\\bigl( a + b \\bigr) c", "(a + b) c"),
        ("\\Big[ a + b \\Big] c", "(a + b) c"),
        ("\\left[ a + b \\right] c", "(a + b) c"),
        ("\\mathbf{X}^T \\boldsymbol{a}", "X^T a"),
        ("\\hat{w} + \\widehat{v} + \\bar{x} + \\mathrm{y}", "w + v + x + y"),
        ("w_0 + w_{0} + L_1", "w_0 + w_0 + L_1"),
        ("\\mathbf{w}_{10}", "w_10"),
        ("\\eta^* + \\eta^{*} + \\eta^\\ast", "eta^* + eta^* + eta^*"),
        ("\\alpha \\lambda \\Sigma", "alpha lambda Sigma"),
        ("2 + 0.5 + 1/2", "2 + 0.5 + 1 / 2"),
        ("\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}", "[[1, 2], [3, 4]]"),
        ("\\begin{pmatrix} a \\\\ b \\end{pmatrix}", "[[a], [b]]"),
        ("\\left[\\begin{array}{cc} 1 & 0 \\end{array}\\right]", "[[1, 0]]"),
        ("I - \\frac{2\\eta}{n} X X^T", "I - (2 eta / n) X X^T"),
        ("\\operatorname{tr}(X^T X) + \\mathrm{tr}(A)", "tr(X^T X) + tr(A)"),
        ("\\det A + \\log n + \\ln n + \\exp(x)", "det(A) + log(n) + log(n) + exp(x)"),
        ("\\operatorname{rows}(X) \\operatorname{cols}(X)", "rows(X) cols(X)"),
        ("a \\, b \\! c \\quad d", "a b c d"),
        ("−η ∗ Xᵀ · ‖x‖ × 2", "-eta X^T ||x|| * 2"),
        ("a - (b - c) - d", "a - (b - c) - d"),
        ("-(a + b)", "-(a + b)"),
        ("\\frac{n}{2} \\frac{a}{b}", "(n / 2) (a / b)"),
        ("\\frac{n \\|X^T a\\|_2^2}{2 \\|X X^T a\\|_2^2}", "n ||X^T a||^2 / (2 ||X X^T a||^2)"),
    ],
)
def test_each_notation_is_read_into_one_plain_form(latex: str, expected: str) -> None:
    assert read(latex) == expected


def test_products_keep_their_order() -> None:
    assert parse_expression("X^T X") != parse_expression("X X^T")
    assert parse_expression("X^T X") == ("mul", ("T", ("sym", "X")), ("sym", "X"))


def test_equal_trees_render_equally_whatever_the_notation() -> None:
    forms = [
        "\\frac{n}{2}\\|X^T a\\|^2",
        "\\tfrac{n}{2} \\left\\lVert X^{\\top} a \\right\\rVert_2^2",
    ]
    assert len({read(form) for form in forms}) == 1


def test_an_equation_gives_its_normalised_name_and_sides_in_order() -> None:
    equation = parse_equation("\\eta^{*} = \\frac{a}{b} = c \\tag{2.17}")
    assert equation.name == "eta^*"
    assert [shown(side.tree) for side in equation.sides if side.tree] == ["a / b", "c"]


@pytest.mark.parametrize(
    ("latex", "name"),
    [
        ("\\mathcal{L}_1 = x", "L_1"),
        ("\\mathcal{L}_1(\\eta) = x", "L_1(eta)"),
        ("\\mathbf{w}_{1} = x", "w_1"),
        ("\\frac{d}{d\\eta} L_1 = x", "L_1'"),
        ("\\frac{d^2}{d\\eta^2} L_1 = x", "L_1''"),
        ("\\frac{d^{2}}{d \\eta^{2}} \\mathcal{L}_1(\\eta) = x", "L_1''"),
        ("\\frac{\\partial^2 L_1}{\\partial \\eta^2} = x", "L_1''"),
        ("\\frac{\\mathrm{d}^2}{\\mathrm{d}\\eta^2} L_1 = x", "L_1''"),
        ("L_1''(\\eta) = x", "L_1''"),
        ("L_1^{\\prime\\prime} = x", "L_1''"),
        ("\\frac{d}{d\\eta} (L_1 + 2) = x", ""),
        ("\\|X^T a\\|^2 = x", ""),
    ],
)
def test_an_equations_left_side_is_named_in_the_normalised_notation(latex: str, name: str) -> None:
    assert parse_equation(latex).name == name


def test_an_unreadable_side_keeps_its_reason_and_the_others_are_read() -> None:
    equation = parse_equation("w_1 = w_0 - \\eta \\nabla_{w} L = w_0 - \\eta g")
    first, second = equation.sides
    assert first.tree is None and "\\nabla" in first.error
    assert second.tree is not None


def test_a_chain_is_split_at_implications_commas_and_text() -> None:
    statements = split_statements(
        "w_1 = w_0 - a, \\quad a = Xw_0 - t \\implies b = c \\text{ where } d = e"
    )
    assert [s[0] for s in statements] == ["w_1", "a", "b", "d"]


def test_aligned_lines_continue_one_chain() -> None:
    statements = split_statements("L &= a \\\\ &= b \\\\ &= c")
    assert statements == [["L", "a", "b", "c"]]


def test_a_block_starting_with_equals_continues_an_earlier_statement() -> None:
    assert split_statements("= \\frac{1}{n} x \\tag{2.4}") == [["", "\\frac{1}{n} x"]]


@pytest.mark.parametrize(
    ("latex", "message"),
    [
        ("", "empty formula"),
        ("\\frac{1}{2", "unbalanced braces: '{' at column 9 is never closed"),
        ("x}", "unbalanced braces: '}' at column 2 closes nothing"),
        ("Xᵀ {a", "unbalanced braces: '{' at column 4 is never closed"),
        ("x + ", "ends too early"),
        ("\\nabla_w L", "cannot read \\nabla"),
        ("X^{1000000}", f"larger than {MAX_POWER}"),
        ("X^{-100}", f"larger than {MAX_POWER}"),
        ("1" * 40, "longer than 30 digits"),
        ("\\begin{pmatrix} 1 & 2 \\\\ 3 \\end{pmatrix}", "different lengths"),
        ("\\begin{vmatrix} 1 & 2 \\\\ 3 & 4 \\end{vmatrix}", "\\det"),
        ("(X + Y)^*", "can only follow a name"),
        ("(X + Y)_2", "can only follow a name or a norm"),
        ("\\|x\\|_7", "norm's subscript"),
        ("a = b", "not a single expression"),
    ],
)
def test_unreadable_input_says_what_to_fix(latex: str, message: str) -> None:
    with pytest.raises(FormulaError, match=None) as raised:
        parse_expression(latex)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    "latex",
    [
        "{" * 100_000 + "x" + "}" * 100_000,
        "{" * 5_000 + "x" + "}" * 5_000,
        "\\frac{" * 1_000 + "1" + "}{2}" * 1_000,
        "-" * 9_000 + "x",
        "+".join(["x"] * 5_000),
        "\\begin{bmatrix}" + " & ".join(["1"] * 1_000_000) + "\\end{bmatrix}",
        "\\begin{bmatrix}" + " & ".join(["1"] * 3_000) + "\\end{bmatrix}",
        "|" * 9_999,
        "x" + "^{2" * 45 + "}" * 45,
    ],
    ids=["1e5-deep braces", "5e3-deep braces", "deep fractions", "long negation", "long sum",
         "1e6-entry matrix", "3e3-entry matrix", "1e4 bars", "power tower"],
)  # fmt: skip
def test_oversized_input_is_refused_fast_with_a_formula_error(latex: str) -> None:
    start = time.perf_counter()
    with pytest.raises(FormulaError):
        parse_expression(latex)
    assert time.perf_counter() - start < 2.0


# ---------------------------------------------------------------------------------------------
# Property: random expressions over shaped matrices, written in LaTeX in any of the notations
# students use, read back and evaluated, equal numpy's value computed from the same expression.

SHAPES = {"A": (3, 4), "B": (4, 3), "C": (3, 3), "v": (4, 1), "u_1": (3, 1), "eta": ()}
LATEX_NAMES = {
    "A": ["A", "\\mathbf{A}"],
    "B": ["B", "\\boldsymbol{B}"],
    "C": ["C"],
    "v": ["v", "\\mathbf{v}", "\\vec{v}"],
    "u_1": ["u_1", "u_{1}", "\\mathbf{u}_1"],
    "eta": ["\\eta", "η"],
}
Shape = tuple[int, ...]
Expr = tuple[str, Callable[[dict[str, Any]], Any]]
OPEN_CLOSE = [("(", ")"), ("\\left(", "\\right)"), ("\\bigl(", "\\bigr)"), ("\\left[", "\\right]")]


def _paren(draw: st.DrawFn, latex: str) -> str:
    """Brackets of any kind around an operand; none around a bare name or number, sometimes."""
    bare = re.fullmatch(r"[\\\w{}.]+", latex) is not None
    left, right = draw(st.sampled_from(OPEN_CLOSE + [("", "")] * bare))
    return f"{left} {latex} {right}"


def _leaves(shape: Shape) -> list[str]:
    return [name for name, s in SHAPES.items() if s == shape]


@st.composite
def _leaf(draw: st.DrawFn, shape: Shape) -> Expr:
    """A name or number of this shape, else a transposed name, else a product of two names."""
    if shape == () and draw(st.booleans()):
        number = draw(st.sampled_from([2, 3, 0.5, 1.25]))
        return str(number), lambda env, n=number: float(n)
    if _leaves(shape):
        name = draw(st.sampled_from(_leaves(shape)))
        return draw(st.sampled_from(LATEX_NAMES[name])), lambda env, n=name: env[n]
    if _leaves(shape[::-1]):
        name = draw(st.sampled_from(_leaves(shape[::-1])))
        return f"{LATEX_NAMES[name][0]}^T", lambda env, n=name: env[n].T
    left, right = next(
        (a, b)
        for a in SHAPES
        for b in SHAPES
        if SHAPES[a][:1] == shape[:1]
        and SHAPES[b][1:] == shape[1:]
        and SHAPES[a][1:] == SHAPES[b][:1]
    )
    return f"{left} {right}", lambda env: env[left] @ env[right]


@st.composite
def _square(draw: st.DrawFn, kind: str, depth: int) -> Expr:
    """A 3x3 matrix power, a shift by the identity, or an inverse that is well conditioned."""
    if kind == "power":
        base, power = draw(expressions((3, 3), depth + 1)), draw(st.integers(0, 3))
        text = _paren(draw, base[0]) + draw(st.sampled_from([f"^{power}", f"^{{{power}}}"]))
        return text, lambda env: np.linalg.matrix_power(base[1](env), power)
    if kind == "shift":
        other = draw(expressions((3, 3), depth + 1))
        return f"I - {_paren(draw, other[0])}", lambda env: np.eye(3) - other[1](env)
    factor = draw(expressions((3, draw(st.sampled_from([3, 4]))), depth + 1))
    text = f"\\left( {_paren(draw, factor[0])} {_paren(draw, factor[0])}^T + I \\right)^{{-1}}"
    return text, lambda env: np.linalg.inv(factor[1](env) @ factor[1](env).T + np.eye(3))


@st.composite
def expressions(draw: st.DrawFn, shape: Shape, depth: int = 0) -> Expr:
    if depth >= 3 or draw(st.integers(0, 3)) == 0:
        return draw(_leaf(shape))
    kinds = ["mul", "add", "sub", "T", "scale", "neg", "div", "norm", "power", "shift", "inverse"]
    kind = draw(st.sampled_from(kinds))
    if kind in ("power", "shift", "inverse") and shape == (3, 3):
        return draw(_square(kind, depth))
    if kind == "mul" and shape != ():
        inner = draw(st.sampled_from([3, 4]))
        left = draw(expressions((shape[0], inner), depth + 1))
        right = draw(expressions((inner, shape[1]), depth + 1))
        op = draw(st.sampled_from([" ", " \\cdot "]))
        text = _paren(draw, left[0]) + op + _paren(draw, right[0])
        return text, lambda env: left[1](env) @ right[1](env)
    if kind in ("add", "sub"):
        left, right = draw(expressions(shape, depth + 1)), draw(expressions(shape, depth + 1))
        sign = 1.0 if kind == "add" else -1.0
        text = f"{left[0]} {'+' if kind == 'add' else '-'} {_paren(draw, right[0])}"
        return text, lambda env: left[1](env) + sign * right[1](env)
    if kind == "T" and shape != ():
        inner_expr = draw(expressions(shape[::-1], depth + 1))
        sup = draw(st.sampled_from(["^T", "^\\top", "^{\\mathrm{T}}", "^{\\mathsf{T}}", "^{T}"]))
        return _paren(draw, inner_expr[0]) + sup, lambda env: inner_expr[1](env).T
    if kind == "scale":
        scalar, other = draw(expressions((), depth + 1)), draw(expressions(shape, depth + 1))
        text = _paren(draw, scalar[0]) + " " + _paren(draw, other[0])
        return text, lambda env: scalar[1](env) * other[1](env)
    if kind == "div":
        top = draw(expressions(shape, depth + 1))
        bottom = draw(expressions((), depth + 1))
        text = f"\\frac{{{top[0]}}}{{1 + {_paren(draw, bottom[0])}^2}}"
        return text, lambda env: top[1](env) / (1 + bottom[1](env) ** 2)
    if kind == "norm" and shape == ():
        vector = draw(expressions(draw(st.sampled_from([(4, 1), (3, 1)])), depth + 1))
        left, right = draw(
            st.sampled_from([("\\|", "\\|_2"), ("\\lVert", "\\rVert"), ("\\left\\|", "\\right\\|")])
        )
        squared = draw(st.booleans())
        text = f"{left} {vector[0]} {right}" + ("^2" if squared else "")
        return text, lambda env: float(np.linalg.norm(vector[1](env))) ** (2 if squared else 1)
    operand = draw(expressions(shape, depth + 1))
    return f"-{_paren(draw, operand[0])}", lambda env: -operand[1](env)


def _with_identity(tree: Any) -> Any:
    """The sheet's `I` as the evaluator's identity (formulas.py substitutes it the same way)."""
    if tree == ("sym", "I"):
        return ("eye",)
    return tuple(_with_identity(c) if isinstance(c, tuple) else c for c in tree)


def _environment(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    env: dict[str, Any] = {name: rng.normal(size=shape) for name, shape in SHAPES.items() if shape}
    env["eta"] = float(rng.uniform(0.5, 2.0))
    return env


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([(), (3, 1), (4, 1), (3, 3), (3, 3), (3, 4)]).flatmap(expressions),
    st.integers(0, 2**31),
)
def test_random_expressions_read_back_evaluate_as_numpy_does(expr: Expr, seed: int) -> None:
    latex, compute = expr
    env = _environment(seed)
    expected = np.asarray(compute(env), dtype=float)
    tree = _with_identity(parse_expression(latex))
    got = np.asarray(as_result(evaluate_value(tree, {}, env)), dtype=float)
    assert got.size == expected.size, latex
    assert np.allclose(got.ravel(), expected.ravel(), rtol=1e-9, atol=1e-9), latex


# ---------------------------------------------------------------------------------------------
# Property: whatever a sheet holds, reading fails only with FormulaError and evaluating only with
# ValueError, never with anything else (IndexError, RecursionError, LarkError, ...).

TOKENS = [
    "x", "X", "a", "I", "T", "2", "0.5", "10", " ", "+", "-", "*", "/", "=", ",", "^", "_", "{",
    "}", "(", ")", "[", "]", "|", "\\|", "&", "\\\\", "'", "!", "\\frac", "\\sqrt", "\\left(",
    "\\right)", "\\left.", "\\cdot", "\\times", "\\top", "\\ast", "\\eta", "\\mathbf", "\\hat",
    "\\mathrm{T}", "\\operatorname{tr}", "\\lVert", "\\rVert", "\\begin{bmatrix}",
    "\\end{bmatrix}", "\\begin{vmatrix}", "\\implies", "\\text{ so }", "\\tag{1}", "\\infty",
    "\\argref{X}", "\\word{", "\\unsupported{", "ᵀ", "‖", "−", "⁻¹", "\\nabla", "\\", "%", "$",
]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
def test_any_text_is_read_or_refused_with_a_formula_error(text: str) -> None:
    try:
        tree = parse_expression(text)
    except FormulaError:
        return
    shown(tree)
    symbols = {"x": 2.0, "X": np.arange(6.0).reshape(2, 3), "a": np.ones((2, 1)), "T": 1.0}
    with contextlib.suppress(ValueError):
        as_result(evaluate_value(tree, {}, {**symbols, "I": 1.0, "eta": 0.5}))


def test_a_side_longer_than_the_bound_is_refused_before_parsing() -> None:
    # a side reaches the parser without `normalise` when its statement already broke a bound
    long_side = "(" * MAX_CHARS + "x" + ")" * MAX_CHARS
    side = read_statement(["y", long_side]).sides[0]
    assert side.tree is None and f"at most {MAX_CHARS}" in (side.error or "")
