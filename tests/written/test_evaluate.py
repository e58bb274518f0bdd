"""The evaluator that runs a sheet's formula in the child: numpy semantics, order, bounds."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.written.evaluate import MAX_ELEMENTS, evaluate, formula_function
from grader.written.latex_math import parse_definition

ARGS = ("X", "t", "w0", "A", "v", "c", "k")


def _identity(tree: Any) -> Any:
    """The tree with the sheet's `I` as the evaluator's identity (formulas.py does this)."""
    if tree == ("sym", "I"):
        return ("eye",)
    return tuple(_identity(c) if isinstance(c, tuple) else c for c in tree)


def value(latex: str, **arguments: object) -> Any:
    return evaluate(_identity(parse_definition(latex, ARGS)), arguments)


RNG = np.random.default_rng(3)
X = RNG.normal(size=(3, 5))


def test_x_transpose_x_is_not_x_x_transpose() -> None:
    assert np.shape(value("X^T X", X=X)) == (5, 5)
    assert np.shape(value("X X^T", X=X)) == (3, 3)
    np.testing.assert_allclose(value("X^T X", X=X), X.T @ X)


def test_a_vector_argument_is_a_column_and_a_one_by_one_result_is_a_scalar() -> None:
    v = RNG.normal(size=3)
    result = value("v^T v", v=v)
    assert isinstance(result, float)
    assert result == pytest.approx(float(v @ v))


def test_a_column_result_comes_back_one_dimensional() -> None:
    v = RNG.normal(size=5)
    result = value("X v", X=X, v=v)
    assert isinstance(result, np.ndarray) and result.shape == (3,)


def test_the_identity_takes_the_size_of_what_it_meets() -> None:
    v = RNG.normal(size=3)
    got = value("(I - c X X^T) v", X=X, v=v, c=0.1)
    np.testing.assert_allclose(got, (np.eye(3) - 0.1 * X @ X.T) @ v)
    np.testing.assert_allclose(value("X^T X + 2 I", X=X), X.T @ X + 2 * np.eye(5))


def test_scaled_identities_combine_before_they_are_sized() -> None:
    v = RNG.normal(size=3)
    np.testing.assert_allclose(
        value("(2 I)(3 I) v - I^2 v + (I - 4 I)^{-1} v", v=v), (6 - 1 - 1 / 3) * v
    )


def test_a_lone_identity_has_no_size() -> None:
    with pytest.raises(ValueError, match="size"):
        value("2 I")


def test_a_one_element_array_acts_as_its_scalar() -> None:
    assert value("A + 1", A=np.array([[2.0]])) == 3.0
    assert value("c X", X=X, c=np.array([2.0])) == pytest.approx(2 * X)


def test_undefined_products_name_the_shapes() -> None:
    with pytest.raises(ValueError, match="the product is undefined: shapes 5x5 and 1x3"):
        evaluate(
            ("mul", ("mul", ("T", ("arg", "X")), ("arg", "X")), ("T", ("arg", "t"))),
            {"X": X, "t": np.ones(3)},
        )


def test_adding_a_scalar_to_a_matrix_is_undefined_not_broadcast() -> None:
    with pytest.raises(ValueError, match="sum is undefined: shapes 3x5 and scalar"):
        value("X + 1", X=X)


def test_powers_and_inverses_need_square_matrices() -> None:
    A = RNG.normal(size=(3, 3)) + 3 * np.eye(3)
    np.testing.assert_allclose(value("A^{-1} A", A=A), np.eye(3), atol=1e-12)
    np.testing.assert_allclose(value("A^3", A=A), A @ A @ A)
    np.testing.assert_allclose(value("A^k", A=A, k=2), A @ A)
    with pytest.raises(ValueError, match="square"):
        value("X^2", X=X)


def test_a_singular_inverse_says_so() -> None:
    with pytest.raises(ValueError, match="singular"):
        value("A^{-1}", A=np.ones((2, 2)))


def test_a_power_from_an_argument_is_bounded_too() -> None:
    with pytest.raises(ValueError, match="larger than 64"):
        value("A^k", A=np.eye(2), k=1000)


def test_norms_of_vectors_and_matrices() -> None:
    v = np.array([3.0, -4.0])
    assert value("\\|v\\|_2^2", v=v) == pytest.approx(25.0)
    assert value("\\|v\\|_1", v=v) == pytest.approx(7.0)
    assert value("\\|v\\|_\\infty", v=v) == pytest.approx(4.0)
    assert value("\\|X\\|_F", X=X) == pytest.approx(np.linalg.norm(X))
    assert value("\\|X\\|_2", X=X) == pytest.approx(np.linalg.norm(X, 2))


def test_abs_of_a_matrix_is_refused_as_ambiguous() -> None:
    with pytest.raises(ValueError, match="ambiguous"):
        value("|X|", X=X)


def test_functions_rows_cols_trace_and_matrix_literals() -> None:
    assert value("\\operatorname{rows}(X) + \\operatorname{cols}(X)", X=X) == 8.0
    assert value("\\operatorname{tr}(X X^T)", X=X) == pytest.approx(np.trace(X @ X.T))
    literal = value("\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}")
    np.testing.assert_array_equal(literal, [[1, 2], [3, 4]])


def test_results_over_the_bound_are_refused() -> None:
    big = np.ones(2_000)
    with pytest.raises(ValueError, match=f"at most {MAX_ELEMENTS}"):
        value("v v^T", v=big)


def test_a_formula_function_takes_its_arguments_by_position_or_name() -> None:
    program = {"args": ["X", "c"], "tree": parse_definition("c X^T X", ("X", "c")), "shown": "f"}
    function = formula_function(program)
    np.testing.assert_allclose(function(X, 2.0), 2 * X.T @ X)
    np.testing.assert_allclose(function(c=2.0, X=X), 2 * X.T @ X)
    with pytest.raises(TypeError, match="missing"):
        function(X)


def test_a_formula_functions_errors_name_the_reading() -> None:
    program = {"args": ["X"], "tree": parse_definition("X X", ("X",)), "shown": "A = X X"}
    with pytest.raises(ValueError, match=r"undefined: shapes 3x5 and 3x5 \(in A = X X\)"):
        formula_function(program)(X)


def test_a_program_survives_json_and_python_literals() -> None:
    program = {"args": ["X"], "tree": parse_definition("X^T X", ("X",)), "shown": "X^T X"}
    for copy in (json.loads(json.dumps(program)), ast.literal_eval(repr(program))):
        np.testing.assert_allclose(formula_function(copy)(X), X.T @ X)


def test_unknown_operations_are_value_errors() -> None:
    with pytest.raises(ValueError, match="unknown operation"):
        evaluate(("launch", ("num", 1)), {})


def test_the_evaluator_imports_only_numpy_and_the_standard_library() -> None:
    source = (Path(__file__).resolve().parents[2] / "grader/written/evaluate.py").read_text()
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module.split(".")[0])
    assert modules <= {"__future__", "math", "collections", "typing", "numpy"}
