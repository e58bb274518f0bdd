"""Evaluate a formula read from a written sheet, with numpy, in the sandboxed child.

A sheet's staged module is data only, e.g.

    from grader.written.evaluate import formula_function as _f
    eta_star = _f({"args": ["X", "t", "w0"], "tree": ("div", ...), "shown": "eta^* = ..."})

so the child runs the grader's fixed evaluator on a tree (see latex_math.py for the node
kinds), never anything the student wrote. This module imports only numpy and the standard
library: the sandbox installs it into the child by its source text (grader/sandbox/runner.py),
where no other grader module exists.

Values are scalars (Python floats) or 2-D arrays: a 1-D argument is a column vector, so `a^T b`
is 1 x 1, and a 1-element array acts as the scalar it holds. Products keep their order: `A B`
is `A @ B` unless one side is a scalar. `I` is sized by what it meets (`I - c X X^T`, `I v`).
A column or row result is returned 1-D, a 1 x 1 result as a float. Every failure (shapes that
do not fit, a singular inverse, a result over MAX_ELEMENTS) is a ValueError saying which
operation and which shapes, e.g. "the product X^T X a^T is undefined: shapes 5x5 and 1x3".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

MAX_ELEMENTS = 1_000_000
"""Largest intermediate result (a 1000 x 1000 matrix)."""
MAX_WORK = 200_000_000
"""Largest product, in multiply-adds (m x k x p), about 0.2 s."""
MAX_POWER = 64
"""Largest integer power of a matrix or exponent of any power (as the parser's bound)."""
MAX_DEPTH = 200
"""Deepest tree evaluated (the parser refuses deeper ones first)."""


class EvaluationError(ValueError):
    """A formula undefined on its arguments; `node` is the operation that failed, so the
    trusted side can name it in the student's notation."""

    def __init__(self, message: str, node: Sequence[Any]) -> None:
        super().__init__(message)
        self.node = node


class _Identity:
    """c I, whose size comes from the operand it meets."""

    def __init__(self, scale: float) -> None:
        self.scale = scale


Value = float | np.ndarray | _Identity


def _dims(value: Value) -> str:
    if isinstance(value, np.ndarray):
        return "x".join(map(str, value.shape))
    return "I" if isinstance(value, _Identity) else "scalar"


def _scalar(value: Value) -> float | None:
    if isinstance(value, float):
        return value
    if isinstance(value, np.ndarray) and value.size == 1:
        return float(value.reshape(()))
    return None


def _bounded(value: np.ndarray) -> np.ndarray:
    if value.size > MAX_ELEMENTS:
        raise ValueError(f"a result has {value.size} elements; at most {MAX_ELEMENTS}")
    return value


def _eye(size: int, scale: float) -> np.ndarray:
    if size * size > MAX_ELEMENTS:
        raise ValueError(f"I would be {size}x{size}; at most {MAX_ELEMENTS} elements")
    return scale * np.eye(size)


class _Evaluator:
    def __init__(self, args: Mapping[str, Value], symbols: Mapping[str, Value]) -> None:
        self.args = args
        self.symbols = symbols

    def run(self, node: Sequence[Any], depth: int = 0) -> Value:
        if depth > MAX_DEPTH:
            raise EvaluationError(f"the formula is nested more than {MAX_DEPTH} deep", node)
        kind = node[0]
        if kind == "num":
            return float(node[1])
        if kind == "arg":
            if node[1] not in self.args:
                raise EvaluationError(f"no argument named {node[1]}", node)
            return self.args[node[1]]
        if kind == "eye":
            return _Identity(1.0)
        if kind == "sym":
            if node[1] not in self.symbols:
                raise EvaluationError(f"the symbol {node[1]} has no value", node)
            return self.symbols[node[1]]
        if kind == "matrix":
            return self.matrix(node[1], depth)
        operands = [self.run(child, depth + 1) for child in node[1:] if _is_node(child)]
        handler = _OPERATIONS.get(kind)
        if handler is None:
            raise EvaluationError(f"unknown operation {kind!r}", node)
        try:
            return handler(node, *operands)
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as error:
            raise EvaluationError(str(error), node) from None

    def matrix(self, rows: Sequence[Sequence[Any]], depth: int) -> Value:
        entries = []
        for row in rows:
            values = []
            for entry in row:
                value = _scalar(self.run(entry, depth + 1))
                if value is None:
                    raise EvaluationError("a matrix's entries must be numbers", entry)
                values.append(value)
            entries.append(values)
        if not entries or len({len(row) for row in entries}) != 1:
            raise EvaluationError("a matrix's rows must have the same length", ("matrix", rows))
        return _collapse(np.array(entries, dtype=float))


def _is_node(child: Any) -> bool:
    return isinstance(child, (tuple, list)) and bool(child) and isinstance(child[0], str)


def _sized(identity: _Identity, other: np.ndarray, what: str) -> np.ndarray:
    if other.shape[0] != other.shape[1]:
        raise ValueError(f"I cannot be {what} a {_dims(other)} matrix")
    return _eye(other.shape[0], identity.scale)


def _add(node: Sequence[Any], left: Value, right: Value, sign: float = 1.0) -> Value:
    a, b = _scalar(left), _scalar(right)
    if a is not None and b is not None:
        return a + sign * b
    if isinstance(left, _Identity) and isinstance(right, _Identity):
        return _Identity(left.scale + sign * right.scale)
    if isinstance(left, _Identity) and isinstance(right, np.ndarray):
        left = _sized(left, right, "added to")
    if isinstance(right, _Identity) and isinstance(left, np.ndarray):
        right = _sized(right, left, "added to")
    if isinstance(left, np.ndarray) and isinstance(right, np.ndarray) and left.shape == right.shape:
        return left + sign * right
    verb = "sum" if sign > 0 else "difference"
    raise ValueError(f"the {verb} is undefined: shapes {_dims(left)} and {_dims(right)}")


def _sub(node: Sequence[Any], left: Value, right: Value) -> Value:
    return _add(node, left, right, -1.0)


def _neg(node: Sequence[Any], value: Value) -> Value:
    if isinstance(value, _Identity):
        return _Identity(-value.scale)
    return -value


def _mul(node: Sequence[Any], left: Value, right: Value) -> Value:
    a, b = _scalar(left), _scalar(right)
    if a is not None and b is not None:
        return a * b
    if a is not None:
        return _Identity(a * right.scale) if isinstance(right, _Identity) else a * right
    if b is not None:
        return _Identity(b * left.scale) if isinstance(left, _Identity) else left * b
    if isinstance(left, _Identity):
        if isinstance(right, _Identity):
            return _Identity(left.scale * right.scale)
        return left.scale * right
    if isinstance(right, _Identity):
        return right.scale * left
    assert isinstance(left, np.ndarray) and isinstance(right, np.ndarray)  # scalars went above
    if left.shape[1] != right.shape[0]:
        raise ValueError(f"the product is undefined: shapes {_dims(left)} and {_dims(right)}")
    rows, inner, cols = left.shape[0], left.shape[1], right.shape[1]
    if rows * cols > MAX_ELEMENTS:
        raise ValueError(
            f"the product of {_dims(left)} and {_dims(right)} would have {rows * cols} "
            f"elements; at most {MAX_ELEMENTS}"
        )
    if rows * inner * cols > MAX_WORK:
        raise ValueError(f"the product of {_dims(left)} and {_dims(right)} is too costly")
    return _collapse(left @ right)


def _collapse(value: np.ndarray) -> Value:
    return float(value.reshape(())) if value.size == 1 else value


def _div(node: Sequence[Any], left: Value, right: Value) -> Value:
    b = _scalar(right)
    if b is None:
        raise ValueError(f"division by a {_dims(right)} matrix is undefined")
    with np.errstate(all="ignore"):
        if isinstance(left, _Identity):
            return _Identity(left.scale / b if b else math.copysign(math.inf, left.scale))
        return np.divide(left, b) if isinstance(left, np.ndarray) else _fdiv(left, b)


def _fdiv(a: float, b: float) -> float:
    if b == 0.0:
        return math.nan if a == 0.0 else math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _square(value: Value, what: str) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.shape[0] != value.shape[1]:
        raise ValueError(f"{what} needs a square matrix, not {_dims(value)}")
    return value


def _pow(node: Sequence[Any], base: Value, exponent: Value) -> Value:
    power = _scalar(exponent)
    if power is None:
        raise ValueError(f"an exponent must be a number, not a {_dims(exponent)} matrix")
    if abs(power) > MAX_POWER:
        raise ValueError(f"the exponent {power:g} is larger than {MAX_POWER}")
    b = _scalar(base)
    if b is not None:
        with np.errstate(all="ignore"):
            return float(np.power(b, power)) if b >= 0 or power.is_integer() else math.nan
    if isinstance(base, _Identity):
        return _Identity(base.scale**power)
    matrix = _square(base, "a power")
    if not power.is_integer():
        raise ValueError("a matrix power must be an integer")
    if power < 0:
        matrix, power = _inverse(matrix), -power
    return _collapse(np.linalg.matrix_power(matrix, int(power)))


def _inverse(matrix: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(_square(matrix, "an inverse"))
    except np.linalg.LinAlgError:
        raise ValueError(f"the {_dims(matrix)} matrix is singular: it has no inverse") from None


def _inv(node: Sequence[Any], value: Value) -> Value:
    b = _scalar(value)
    if b is not None:
        return _fdiv(1.0, b)
    if isinstance(value, _Identity):
        return _Identity(1.0 / value.scale if value.scale else math.inf)
    return _inverse(_square(value, "an inverse"))


def _transpose(node: Sequence[Any], value: Value) -> Value:
    return value.T if isinstance(value, np.ndarray) else value


def _sqrt(node: Sequence[Any], value: Value) -> Value:
    b = _scalar(value)
    if b is None:
        raise ValueError(f"the square root of a {_dims(value)} matrix is not defined here")
    return math.sqrt(b) if b >= 0 else math.nan


def _abs(node: Sequence[Any], value: Value) -> Value:
    b = _scalar(value)
    if b is None:
        raise ValueError(f"|..| of a {_dims(value)} matrix is ambiguous: write \\|..\\| or \\det")
    return abs(b)


_MATRIX_NORMS: dict[str, Any] = {"2": 2, "1": 1, "inf": np.inf, "F": "fro"}
_VECTOR_NORMS: dict[str, Any] = {"2": 2, "1": 1, "inf": np.inf, "F": 2}


def _norm(node: Sequence[Any], value: Value) -> Value:
    """A vector's p-norm; a matrix's induced norm (`_2` the spectral norm, as `\\|A\\|` is
    read), or Frobenius with `_F`."""
    order = str(node[2])
    if order not in _MATRIX_NORMS:
        raise ValueError(f"unknown norm {order!r}")
    if isinstance(value, _Identity):
        raise ValueError("the norm of I needs a size")
    if isinstance(value, np.ndarray) and min(value.shape) > 1:
        return float(np.linalg.norm(value, _MATRIX_NORMS[order]))
    return float(np.linalg.norm(np.ravel(value), _VECTOR_NORMS[order]))


def _fn(node: Sequence[Any], value: Value) -> Value:
    name = str(node[1])
    if isinstance(value, _Identity):
        raise ValueError(f"{name}(I) needs the size of I")
    b = _scalar(value)
    if name in ("rows", "cols"):
        shape = value.shape if isinstance(value, np.ndarray) else (1, 1)
        return float(shape[0] if name == "rows" else shape[1])
    if name in ("exp", "log") and b is not None:
        with np.errstate(all="ignore"):
            return float(np.exp(b) if name == "exp" else np.log(b))
    if name == "exp" or name == "log":
        raise ValueError(f"{name} of a {_dims(value)} matrix is not defined here")
    if name == "tr":
        return b if b is not None else float(np.trace(_square(value, "a trace")))
    if name == "det":
        return b if b is not None else float(np.linalg.det(_square(value, "a determinant")))
    if name == "diag":
        if not isinstance(value, np.ndarray) or min(value.shape) != 1:
            raise ValueError(f"diag needs a vector, not {_dims(value)}")
        return _eye(value.size, 1.0) * value.ravel()
    raise ValueError(f"unknown function {name}")


_OPERATIONS: dict[str, Callable[..., Value]] = {
    "add": _add,
    "sub": _sub,
    "neg": _neg,
    "mul": _mul,
    "div": _div,
    "pow": _pow,
    "inv": _inv,
    "T": _transpose,
    "sqrt": _sqrt,
    "abs": _abs,
    "norm": _norm,
    "fn": _fn,
}


def as_value(argument: Any, name: str) -> Value:
    """An argument as the evaluator holds it: a float, or a 2-D array (vectors as columns)."""
    try:
        array = np.asarray(argument, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"the argument {name} is not a number or an array of numbers") from None
    if array.ndim == 0:
        return float(array)
    if array.ndim == 1:
        return _bounded(array.reshape(-1, 1))
    if array.ndim == 2:
        return _bounded(array)
    raise ValueError(f"the argument {name} has {array.ndim} dimensions; at most 2")


def as_result(value: Value) -> Any:
    """The value returned to the caller: a float, a 1-D array for a row or column, or 2-D."""
    if isinstance(value, _Identity):
        raise ValueError("the result is I, whose size nothing in the formula gives")
    if isinstance(value, float):
        return value
    if value.size == 1:
        return float(value.reshape(()))
    return value.ravel() if min(value.shape) == 1 else value


def evaluate_value(
    tree: Sequence[Any], arguments: Mapping[str, Value], symbols: Mapping[str, Value]
) -> Value:
    """The tree's value as the evaluator holds it (see `as_value`): `arguments` give the
    `arg` nodes, `symbols` the `sym` nodes (the trusted side evaluates a sheet's own
    notation this way, to name a failing step as the student wrote it)."""
    with np.errstate(all="ignore"):
        return _Evaluator(arguments, symbols).run(tree)


def evaluate(tree: Sequence[Any], arguments: Mapping[str, Any]) -> Any:
    """The tree's value on named arguments (numbers or arrays), as `as_result` returns it."""
    values = {name: as_value(value, name) for name, value in arguments.items()}
    return as_result(evaluate_value(tree, values, {}))


def formula_function(program: Mapping[str, Any]) -> Callable[..., Any]:
    """The function a sheet's formula defines: `program` is {"args": [names...], "tree": tree,
    "shown": how it was read}; the function takes those arguments (positionally or by name)
    and returns the formula's value, raising ValueError with the reading when it is undefined.
    """
    names = [str(name) for name in program["args"]]
    tree = program["tree"]
    shown = str(program.get("shown", ""))

    def formula(*args: Any, **kwargs: Any) -> Any:
        if len(args) > len(names):
            raise TypeError(f"the formula takes {len(names)} arguments, not {len(args)}")
        arguments = dict(zip(names, args, strict=False))
        arguments.update(kwargs)
        missing = [name for name in names if name not in arguments]
        if missing:
            raise TypeError(f"missing argument(s): {', '.join(missing)}")
        try:
            return evaluate(tree, arguments)
        except ValueError as error:
            raise ValueError(f"{error} (in {shown})" if shown else str(error)) from None

    formula.__name__ = "formula"
    formula.__doc__ = shown
    return formula
