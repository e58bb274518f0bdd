"""Trusted reference for CSC413/2516 Homework 2 (optimization, hyper-gradients, ConvNets).

The grader imports this module in its trusted process to grade the homework described in
assignments/csc413-hw2.md. Every canonical answer is computed here from the handout's input data
(the matrices I and J, the 3.2 network, the AdaGrad counterexample), never typed in, so the module
doubles as an executable check of the answer key. It provides:

- answer functions (no arguments) returning the canonical value of a constant the student defines;
- reference functions with exactly the student's signature, plus the classic wrong variants so
  the grader can recognise a mistake and say which one it is;
- generators `*_cases(rng)` returning one keyword-argument case for a function check;
- predicates `predicate(value, **case) -> (ok, feedback)` for answers that are not unique; they
  never raise and never reveal the expected value.

Loss convention (the handout's): L(w) = (1/n) ||X w - t||^2, per-example loss for SGD
L_i(w) = (x_i^T w - t_i)^2 with gradient 2 x_i (x_i^T w - t_i).

Only numpy is imported at module level, so importing the module stays fast.
"""

from __future__ import annotations

import math
import numbers
import weakref
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

_FIT_TOL = 1e-6
"""Relative tolerance of the minimum-norm predicate, both for X w = t and for the row space."""

# ---------------------------------------------------------------------------------------------
# Section 1: optimization and the minimum-norm solution
# ---------------------------------------------------------------------------------------------

_ADAGRAD_X = ((2.0, 1.0),)
_ADAGRAD_T = (2.0,)
"""The handout's counterexample: one example x1 = [2, 1] with target t = [2], start w0 = 0."""


def _adagrad_problem() -> tuple[np.ndarray, np.ndarray]:
    """Fresh arrays for the handout's 2-D counterexample, so callers may mutate them."""
    return np.array(_ADAGRAD_X), np.array(_ADAGRAD_T)


def min_norm_solution(X: np.ndarray, t: np.ndarray) -> np.ndarray:
    """w* = X^T (X X^T)^{-1} t, the solution of X w = t with the smallest norm (d > n)."""
    X = np.asarray(X, dtype=float)
    return X.T @ np.linalg.solve(X @ X.T, np.asarray(t, dtype=float))


def _fit_and_offspace(w: np.ndarray, X: np.ndarray, t: np.ndarray) -> tuple[float, float]:
    """Relative residual of X w = t, and relative size of w's part orthogonal to X's row space."""
    with np.errstate(all="ignore"):
        fit = np.linalg.norm(X @ w - t) / (1.0 + np.linalg.norm(t))
        offspace = w - X.T @ np.linalg.solve(X @ X.T, X @ w)
        off = np.linalg.norm(offspace) / (1.0 + np.linalg.norm(w))
    return float(fit), float(off)


def is_min_norm_solution(value: Any, X: np.ndarray, t: np.ndarray) -> tuple[bool, str]:
    """Predicate: `value` solves X w = t and lies in the row space of X (so it is w*).

    Judged by the two properties rather than against one vector, so any correct route (closed
    form, SGD from zero, lstsq...) passes, and the feedback names the property that fails.
    """
    X = np.asarray(X, dtype=float)
    t = np.asarray(t, dtype=float)
    d = X.shape[1]
    try:
        w = np.asarray(value)
        if w.dtype.kind not in "iuf":
            return False, f"expected a vector of {d} real numbers, got {type(value).__name__}"
        w = w.astype(float)
    except Exception:  # any object numpy cannot turn into a numeric array
        return False, f"expected a vector of {d} real numbers, got {type(value).__name__}"
    if w.size != d or w.ndim == 0:
        return False, f"expected a vector with {d} entries, got shape {w.shape}"
    w = w.ravel()
    if not np.all(np.isfinite(w)):
        return False, "the vector contains NaN or infinite entries"
    fit, off = _fit_and_offspace(w, X, t)
    if not fit <= _FIT_TOL:
        return False, f"X w does not reproduce t (relative residual {fit:.1e})"
    if not off <= _FIT_TOL:
        return False, (
            "X w = t holds but w is not in the row space of X, so it is not the minimum-norm "
            "solution (is it (XᵀX)⁻¹Xᵀt, or did SGD start away from w0 = 0?)"
        )
    return True, ""


def sgd(X: np.ndarray, t: np.ndarray, lr: float, epochs: int) -> np.ndarray:
    """Plain SGD from w0 = 0, rows visited in order, w <- w - lr * 2 x_i (x_i^T w - t_i)."""
    X = np.asarray(X, dtype=float)
    t = np.asarray(t, dtype=float)
    w = np.zeros(X.shape[1])
    for _ in range(epochs):
        for row, target in zip(X, t, strict=True):
            w -= lr * 2.0 * (row @ w - target) * row
    return w


def sgd_reaches_min_norm(
    value: Any, X: np.ndarray, t: np.ndarray, lr: float, epochs: int
) -> tuple[bool, str]:
    """Predicate for the student's sgd: its result must be the minimum-norm solution."""
    return is_min_norm_solution(value, X, t)


def min_norm_cases(rng: np.random.Generator) -> dict[str, Any]:
    """A random under-determined least-squares problem (n in [2, 4], d in [n+2, n+5])."""
    n = int(rng.integers(2, 5))
    d = int(rng.integers(n + 2, n + 6))
    return {"X": rng.standard_normal((n, d)), "t": rng.standard_normal(n)}


_SGD_TARGET = 1e-12
"""Relative residual the reference sgd is proven to reach on every sgd case."""
_SGD_MAX_EPOCHS = 2000


def _sgd_epochs_needed(X: np.ndarray, t: np.ndarray, lr: float) -> int | None:
    """Epochs after which in-order SGD from 0 provably has residual <= _SGD_TARGET (None: too many).

    The error w_k - w* stays in the row space, where one epoch multiplies it by
    M = prod_i (I - 2 lr x_i x_i^T); so ||X (w_E - w*)|| <= ||X|| ||M||^E ||w*||.
    """
    d = X.shape[1]
    epoch_map = np.eye(d)
    for row in X:
        epoch_map = (np.eye(d) - 2.0 * lr * np.outer(row, row)) @ epoch_map
    basis, _ = np.linalg.qr(X.T)
    contraction = np.linalg.norm(basis.T @ epoch_map @ basis, 2)
    start_error = np.linalg.norm(X, 2) * np.linalg.norm(min_norm_solution(X, t))
    wanted = _SGD_TARGET * (1.0 + np.linalg.norm(t))
    if contraction >= 1.0:
        return None
    epochs = max(1, math.ceil(math.log(wanted / start_error) / math.log(contraction)))
    return epochs if epochs <= _SGD_MAX_EPOCHS else None


def sgd_cases(rng: np.random.Generator) -> dict[str, Any]:
    """A small problem on which the reference sgd provably reaches w* (residual < 1e-12).

    lr = 0.25 / max ||x_i||^2 keeps every step a contraction; problems whose rows are so nearly
    dependent that more than 2000 epochs would be needed are drawn again.
    """
    while True:
        n = int(rng.integers(2, 4))
        d = int(rng.integers(n + 2, n + 5))
        X = rng.standard_normal((n, d))
        t = rng.standard_normal(n)
        lr = 0.25 / float(np.max(np.sum(X * X, axis=1)))
        epochs = _sgd_epochs_needed(X, t, lr)
        if epochs is not None:
            return {"X": X, "t": t, "lr": lr, "epochs": epochs}


def _minibatch_sgd(X: np.ndarray, t: np.ndarray, lr: float, epochs: int, batch: int) -> np.ndarray:
    """Mini-batch SGD from 0 on the mean per-example loss of consecutive batches of rows."""
    w = np.zeros(X.shape[1])
    for _ in range(epochs):
        for start in range(0, len(t), batch):
            rows, targets = X[start : start + batch], t[start : start + batch]
            w -= lr * 2.0 / len(targets) * rows.T @ (rows @ w - targets)
    return w


def minibatch_finds_min_norm() -> str:
    """'yes' when mini-batch SGD (batches of 2 rows) from 0 ends at w* on a fixed problem."""
    rng = np.random.default_rng(413)
    X = rng.standard_normal((4, 7))
    t = rng.standard_normal(4)
    lr = 0.25 / float(np.max(np.sum(X * X, axis=1)))
    w = _minibatch_sgd(X, t, lr, epochs=3000, batch=2)
    return "yes" if is_min_norm_solution(w, X, t)[0] else "no"


def adagrad(X: np.ndarray, t: np.ndarray, lr: float, steps: int, eps: float = 1e-8) -> np.ndarray:
    """Full-batch AdaGrad on (1/n)||Xw - t||^2 from 0: G += g*g; w -= lr * g / sqrt(G + eps)."""
    X = np.asarray(X, dtype=float)
    t = np.asarray(t, dtype=float)
    n, d = X.shape
    w = np.zeros(d)
    accumulated = np.zeros(d)
    for _ in range(steps):
        grad = 2.0 / n * X.T @ (X @ w - t)
        accumulated += grad * grad
        w -= lr * grad / np.sqrt(accumulated + eps)
    return w


def adagrad_limit() -> np.ndarray:
    """Where AdaGrad from 0 converges on x1 = [2, 1], t = [2]: [2/3, 2/3], not w*."""
    X, t = _adagrad_problem()
    return adagrad(X, t, lr=0.1, steps=2000)


def adagrad_limit_is_min_norm_mistake() -> np.ndarray:
    """The answer of a student who assumes AdaGrad finds w*: w* itself, [0.8, 0.4]."""
    return min_norm_solution(*_adagrad_problem())


def adagrad_finds_min_norm() -> str:
    """'no': AdaGrad's limit on the handout's counterexample is not the minimum-norm solution."""
    X, t = _adagrad_problem()
    return "yes" if is_min_norm_solution(adagrad_limit(), X, t)[0] else "no"


def _rmsprop(
    X: np.ndarray, t: np.ndarray, lr: float, steps: int, decay: float = 0.9, eps: float = 1e-8
) -> np.ndarray:
    """RMSprop from 0 with an exponentially decaying step size, so it settles instead of hovering.

    With a constant step RMSprop keeps moving by about lr near the optimum (the gradient is
    divided by its own running scale); lr * 0.999^k shrinks that to nothing.
    """
    n, d = X.shape
    w = np.zeros(d)
    mean_square = np.zeros(d)
    for step in range(steps):
        grad = 2.0 / n * X.T @ (X @ w - t)
        mean_square = decay * mean_square + (1.0 - decay) * grad * grad
        w -= lr * 0.999**step * grad / (np.sqrt(mean_square) + eps)
    return w


def adaptive_methods_find_min_norm() -> str:
    """'no': RMSprop rescales coordinates like AdaGrad and also leaves the row space."""
    X, t = _adagrad_problem()
    w = _rmsprop(X, t, lr=0.01, steps=10000)
    return "yes" if is_min_norm_solution(w, X, t)[0] else "no"


# ---------------------------------------------------------------------------------------------
# Section 2: gradient-based hyper-parameter optimization
# ---------------------------------------------------------------------------------------------


def graph_edges() -> set[tuple[str, str]]:
    """Directed edges of the computation graph of 2 GD steps (g_k = grad of L_k w.r.t. w_k)."""
    steps = 2
    edges: set[tuple[str, str]] = set()
    for k in range(steps):
        w, nxt = f"w{k}", f"w{k + 1}"
        edges |= {(w, f"L{k}"), (w, f"g{k}"), (f"g{k}", nxt), (w, nxt), ("eta", nxt)}
    edges.add((f"w{steps}", f"L{steps}"))
    return edges


def _loss(X: np.ndarray, t: np.ndarray, w: np.ndarray) -> float:
    """L(w) = (1/n) ||X w - t||^2."""
    residual = X @ w - t
    return float(residual @ residual) / len(t)


def gd_step(X: np.ndarray, t: np.ndarray, w0: np.ndarray, eta: float) -> np.ndarray:
    """One GD step on (1/n)||Xw - t||^2: w1 = w0 - (2 eta / n) X^T (X w0 - t)."""
    X = np.asarray(X, dtype=float)
    t = np.asarray(t, dtype=float)
    return w0 - 2.0 * eta / len(t) * X.T @ (X @ w0 - t)


def _run_gd(
    X: np.ndarray, t: np.ndarray, w0: np.ndarray, eta: float, steps: int, keep_tape: bool
) -> tuple[list[np.ndarray], int]:
    """Run GD; return the stored iterates and the peak number of weight vectors alive at once.

    Liveness is measured with weak references, so the count is what the run really holds: only
    the current iterate in a forward pass, every w_tau when they are kept for backprop.
    """
    w = np.array(w0, dtype=float)  # a private copy, so only this run can keep it alive
    tape = [w]
    refs = [weakref.ref(w)]
    peak = 1
    for _ in range(steps):
        w = gd_step(X, t, w, eta)
        tape = [*tape, w] if keep_tape else [w]
        refs.append(weakref.ref(w))
        peak = max(peak, sum(ref() is not None for ref in refs))
    return tape, peak


def _forward_loss(
    X: np.ndarray, t: np.ndarray, w0: np.ndarray, eta: float, steps: int
) -> tuple[float, int]:
    """L_steps by a forward pass, and the peak number of weight vectors it kept alive."""
    tape, peak = _run_gd(X, t, w0, eta, steps, keep_tape=False)
    return _loss(X, t, tape[-1]), peak


def _hypergradient(
    X: np.ndarray, t: np.ndarray, w0: np.ndarray, eta: float, steps: int
) -> tuple[float, int]:
    """dL_steps/d eta by reverse mode through the unrolled GD, and the peak live weight vectors.

    The backward sweep needs grad L(w_tau) at every tau, hence the stored iterates.
    """
    tape, peak = _run_gd(X, t, w0, eta, steps, keep_tape=True)
    n = len(t)
    hessian = 2.0 / n * X.T @ X
    w_bar = 2.0 / n * X.T @ (X @ tape[-1] - t)
    eta_bar = 0.0
    for w in reversed(tape[:-1]):
        eta_bar -= float(w_bar @ (2.0 / n * X.T @ (X @ w - t)))
        w_bar = w_bar - eta * hessian @ w_bar
    return eta_bar, peak


def _growth_in_steps(measure: Callable[[int], int]) -> str:
    """Classify measure(steps) over steps = 1..16 as constant, 'O(1)', or linear, 'O(t)'."""
    counts = np.array([measure(steps) for steps in range(1, 17)])
    increments = np.unique(np.diff(counts))
    if increments.tolist() == [0]:
        return "O(1)"
    if len(increments) == 1 and increments[0] > 0:
        return "O(t)"
    raise ValueError(f"memory grows neither constantly nor linearly: {counts.tolist()}")


def _memory_problem() -> dict[str, Any]:
    """A fixed GD problem for measuring memory."""
    return gd_cases(np.random.default_rng(0))


def forward_memory() -> str:
    """Memory of the forward pass computing L_t, as a function of t: 'O(1)'."""
    case = _memory_problem()
    return _growth_in_steps(lambda steps: _forward_loss(**case, steps=steps)[1])


def backprop_memory() -> str:
    """Memory of backprop through t unrolled GD steps for grad_eta L_t: 'O(t)'."""
    case = _memory_problem()
    return _growth_in_steps(lambda steps: _hypergradient(**case, steps=steps)[1])


def loss_after_one_step(X: np.ndarray, t: np.ndarray, w0: np.ndarray, eta: float) -> float:
    """L1(eta) = (1/n) ||a - (2 eta / n) X X^T a||^2 with a = X w0 - t."""
    return _loss(np.asarray(X, dtype=float), np.asarray(t, dtype=float), gd_step(X, t, w0, eta))


def gd_step_half_sse(X: np.ndarray, t: np.ndarray, w0: np.ndarray, eta: float) -> np.ndarray:
    """The official 2020 solution's step, on 1/2 ||Xw - t||^2: w1 = w0 - eta X^T a."""
    X = np.asarray(X, dtype=float)
    return w0 - eta * X.T @ (X @ w0 - np.asarray(t, dtype=float))


def loss_after_one_step_half_sse(X: np.ndarray, t: np.ndarray, w0: np.ndarray, eta: float) -> float:
    """L1(eta) in the official convention: 1/2 ||X w1 - t||^2 after gd_step_half_sse."""
    X = np.asarray(X, dtype=float)
    residual = X @ gd_step_half_sse(X, t, w0, eta) - np.asarray(t, dtype=float)
    return 0.5 * float(residual @ residual)


def loss_after_one_step_at_w0(X: np.ndarray, t: np.ndarray, w0: np.ndarray, eta: float) -> float:
    """The 'L1 evaluated at w0' mistake: (1/n)||X w0 - t||^2, the loss before the step."""
    return _loss(
        np.asarray(X, dtype=float), np.asarray(t, dtype=float), np.asarray(w0, dtype=float)
    )


def loss_after_one_step_rms(X: np.ndarray, t: np.ndarray, w0: np.ndarray, eta: float) -> float:
    """The 'RMS instead of MSE' mistake: sqrt((1/n)||X w1 - t||^2), right step, wrong loss."""
    return math.sqrt(loss_after_one_step(X, t, w0, eta))


def _xxta(X: np.ndarray, t: np.ndarray, w0: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """X^T a, X X^T a with a = X w0 - t, and n: the pieces of the closed forms in 2.2."""
    X = np.asarray(X, dtype=float)
    xta = X.T @ (X @ w0 - np.asarray(t, dtype=float))
    return xta, X @ xta, X.shape[0]


def second_derivative_L1(X: np.ndarray, t: np.ndarray, w0: np.ndarray) -> float:
    """d^2 L1 / d eta^2 = (8 / n^3) ||X X^T a||^2 (constant: L1 is quadratic in eta)."""
    _, xxta, n = _xxta(X, t, w0)
    return 8.0 / n**3 * float(xxta @ xxta)


def second_derivative_L1_half_sse(X: np.ndarray, t: np.ndarray, w0: np.ndarray) -> float:
    """The official convention's L1''(eta): L1 = 1/2 ||a - eta X X^T a||^2, so ||X X^T a||^2."""
    _, xxta, _ = _xxta(X, t, w0)
    return float(xxta @ xxta)


def gd_step_without_one_over_n(
    X: np.ndarray, t: np.ndarray, w0: np.ndarray, eta: float
) -> np.ndarray:
    """The 'forgot the 1/n' mistake: w1 = w0 - 2 eta X^T a (the sum, not the mean, of losses)."""
    X = np.asarray(X, dtype=float)
    return w0 - 2.0 * eta * X.T @ (X @ w0 - np.asarray(t, dtype=float))


def gd_step_without_two(X: np.ndarray, t: np.ndarray, w0: np.ndarray, eta: float) -> np.ndarray:
    """The 'forgot the 2 of the square's derivative' mistake: w1 = w0 - (eta / n) X^T a. With
    n = 1 it equals the official convention's step, which one case must not establish."""
    X = np.asarray(X, dtype=float)
    return w0 - eta / X.shape[0] * X.T @ (X @ w0 - np.asarray(t, dtype=float))


def gd_cases(rng: np.random.Generator) -> dict[str, Any]:
    """A random linear-regression GD problem: n in [2, 5], d in [2, 6], eta in [0.01, 0.2]."""
    n = int(rng.integers(2, 6))
    d = int(rng.integers(2, 7))
    return {
        "X": rng.standard_normal((n, d)),
        "t": rng.standard_normal(n),
        "w0": rng.standard_normal(d),
        "eta": float(rng.uniform(0.01, 0.2)),
    }


def l1_is_convex() -> str:
    """'yes' when L1''(eta) >= 0 on 100 seeded random problems."""
    rng = np.random.default_rng(2020)
    convex = all(second_derivative_L1(**second_derivative_cases(rng)) >= 0 for _ in range(100))
    return "yes" if convex else "no"


def eta_star(X: np.ndarray, t: np.ndarray, w0: np.ndarray) -> float:
    """The eta minimising L1: (n/2) ||X^T a||^2 / ||X X^T a||^2."""
    xta, xxta, n = _xxta(X, t, w0)
    return n / 2.0 * float(xta @ xta) / float(xxta @ xxta)


def eta_star_half_sse(X: np.ndarray, t: np.ndarray, w0: np.ndarray) -> float:
    """The official convention's ||X^T a||^2 / ||X X^T a||^2 (also the 'forgot n/2' mistake)."""
    xta, xxta, _ = _xxta(X, t, w0)
    return float(xta @ xta) / float(xxta @ xxta)


def eta_star_inverted(X: np.ndarray, t: np.ndarray, w0: np.ndarray) -> float:
    """The 'fraction upside down' mistake: (2/n) ||X X^T a||^2 / ||X^T a||^2, that is 1/eta*."""
    return 1.0 / eta_star(X, t, w0)


def _line_search_cases(rng: np.random.Generator) -> dict[str, Any]:
    """X, t, w0 with X X^T a clearly non-zero, so L1 has a unique minimiser."""
    while True:
        case = gd_cases(rng)
        del case["eta"]
        xta, xxta, _ = _xxta(**case)
        if np.linalg.norm(xxta) > 1e-3 * (1.0 + np.linalg.norm(xta)):
            return case


def eta_star_cases(rng: np.random.Generator) -> dict[str, Any]:
    """A random problem (X, t, w0) for the optimal learning rate, with n != 2.

    With n = 2 the factor n/2 is 1, so the common mistake of dropping it would go unnoticed.
    """
    while True:
        case = _line_search_cases(rng)
        if len(case["t"]) != 2:
            return case


def second_derivative_cases(rng: np.random.Generator) -> dict[str, Any]:
    """A random problem (X, t, w0) for L1''(eta)."""
    return _line_search_cases(rng)


def _step_matrix(X: np.ndarray, eta: float) -> np.ndarray:
    """(2 eta / n) X X^T, the part of one GD step that acts on the residual a."""
    X = np.asarray(X, dtype=float)
    return 2.0 * eta / X.shape[0] * X @ X.T


def loss_after_t_steps(
    X: np.ndarray, t: np.ndarray, w0: np.ndarray, eta: float, steps: int
) -> float:
    """L_t = (1/n) ||(I - (2 eta / n) X X^T)^t a||^2."""
    a = np.asarray(X, dtype=float) @ w0 - np.asarray(t, dtype=float)
    shrink = np.eye(len(a)) - _step_matrix(X, eta)
    residual = np.linalg.matrix_power(shrink, steps) @ a
    return float(residual @ residual) / len(a)


def loss_after_t_steps_half_sse(
    X: np.ndarray, t: np.ndarray, w0: np.ndarray, eta: float, steps: int
) -> float:
    """L_t in the official convention: 1/2 ||(I - eta X X^T)^t a||^2."""
    X = np.asarray(X, dtype=float)
    a = X @ w0 - np.asarray(t, dtype=float)
    shrink = np.eye(len(a)) - eta * X @ X.T
    residual = np.linalg.matrix_power(shrink, steps) @ a
    return 0.5 * float(residual @ residual)


def uses_half_sse(step: Callable[..., Any]) -> bool:
    """Whether a gd_step follows the official 1/2-SSE convention: judged on a fixed problem with
    n = 3, where the two conventions' steps differ by the factor 2/n (no coincidence at n = 1)."""
    case = _convention_probe()
    try:
        got = np.asarray(step(case["X"], case["t"], case["w0"], case["eta"]), dtype=float)
        return bool(
            got.shape == case["w0"].shape
            and np.allclose(got, gd_step_half_sse(**case), rtol=1e-6, atol=1e-9)
            and not np.allclose(got, gd_step(**case), rtol=1e-6, atol=1e-9)
        )
    except Exception:  # the student's step fails or returns junk: not the convention
        return False


def _convention_probe() -> dict[str, Any]:
    return {
        "X": np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.0]]),
        "t": np.array([1.0, 0.0, -1.0]),
        "w0": np.array([0.25, -0.5]),
        "eta": 0.05,
    }


def optimal_eta_2d(half_sse: bool) -> float:
    """In the 2-D case (X = [[2, 1]], t = [2], w0 = 0) eta = 0.1 minimises L_t for every t; in the
    official convention (step eta, not 2 eta / n with n = 1) the same step is eta = 0.2."""
    return 0.2 if half_sse else 0.1


def loss_after_t_steps_power_mistake(
    X: np.ndarray, t: np.ndarray, w0: np.ndarray, eta: float, steps: int
) -> float:
    """A real wrong answer, (1/n) ||a - ((2 eta / n) X X^T)^t a||^2 (right only for t = 1)."""
    a = np.asarray(X, dtype=float) @ w0 - np.asarray(t, dtype=float)
    residual = a - np.linalg.matrix_power(_step_matrix(X, eta), steps) @ a
    return float(residual @ residual) / len(a)


def loss_after_t_steps_one_step_more(
    X: np.ndarray, t: np.ndarray, w0: np.ndarray, eta: float, steps: int
) -> float:
    """The off-by-one mistake 'a loop over range(t + 1)': the loss after t + 1 steps."""
    return loss_after_t_steps(X, t, w0, eta, steps + 1)


def loss_after_t_steps_one_step_fewer(
    X: np.ndarray, t: np.ndarray, w0: np.ndarray, eta: float, steps: int
) -> float:
    """The off-by-one mistake 'a loop over range(1, t)': the loss after t - 1 steps."""
    return loss_after_t_steps(X, t, w0, eta, steps - 1)


def loss_after_t_steps_elementwise_power(
    X: np.ndarray, t: np.ndarray, w0: np.ndarray, eta: float, steps: int
) -> float:
    """The '** is not the matrix power' mistake: (I - (2 eta / n) X X^T) ** t entry by entry."""
    a = np.asarray(X, dtype=float) @ w0 - np.asarray(t, dtype=float)
    shrink = np.eye(len(a)) - _step_matrix(X, eta)
    residual = (shrink**steps) @ a
    return float(residual @ residual) / len(a)


def loss_t_cases(rng: np.random.Generator) -> dict[str, Any]:
    """A problem with steps in [2, 6] and a stable eta on which the power mistake is visible.

    eta = u * n / lambda_max(X X^T) with u in [0.05, 0.4] keeps every factor of
    I - (2 eta / n) X X^T in [0.2, 1]; cases where the mistake is within 1e-3 (relative) of the
    right answer are drawn again.
    """
    while True:
        case = gd_cases(rng)
        X = case["X"]
        n = X.shape[0]
        case["eta"] = float(rng.uniform(0.05, 0.4)) * n / float(np.linalg.eigvalsh(X @ X.T)[-1])
        case["steps"] = int(rng.integers(2, 7))
        right = loss_after_t_steps(**case)
        wrong = loss_after_t_steps_power_mistake(**case)
        if abs(wrong - right) > 1e-3 * abs(right):
            return case


# ---------------------------------------------------------------------------------------------
# Section 3.1: convolution
# ---------------------------------------------------------------------------------------------

_IMAGE_I = (
    (0, 1, 1, 0, 0),
    (0, 1, 1, 1, 0),
    (1, 1, 1, 1, 0),
    (0, 1, 1, 1, 0),
    (0, 0, 1, 0, 0),
)
_KERNEL_J = ((0, -1, 0), (-1, 4, -1), (0, -1, 0))


def image_I() -> np.ndarray:
    """The handout's 5x5 image I."""
    return np.array(_IMAGE_I, dtype=float)


def kernel_J() -> np.ndarray:
    """The handout's 3x3 kernel J (a negative discrete Laplacian)."""
    return np.array(_KERNEL_J, dtype=float)


def _correlate(image: np.ndarray, kernel: np.ndarray, pad: tuple[int, int]) -> np.ndarray:
    """Cross-correlation (kernel not flipped) with zero padding `pad` = (rows, cols), stride 1."""
    padded = np.pad(np.asarray(image, dtype=float), ((pad[0],) * 2, (pad[1],) * 2))
    kernel = np.asarray(kernel, dtype=float)
    windows = np.lib.stride_tricks.sliding_window_view(padded, kernel.shape)
    return np.einsum("ijkl,kl->ij", windows, kernel)


def _same_padding(kernel: np.ndarray) -> tuple[int, int]:
    """Zero padding that keeps the image's shape for an odd-sized kernel."""
    rows, cols = np.shape(kernel)
    return (rows - 1) // 2, (cols - 1) // 2


def conv2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """True 2-D convolution (kernel rotated 180 degrees), 'same' zero padding, stride 1."""
    flipped = np.asarray(kernel, dtype=float)[::-1, ::-1]
    return _correlate(image, flipped, _same_padding(kernel))


def conv2d_cross_correlation(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The 'kernel not flipped' mistake: cross-correlation with 'same' padding."""
    return _correlate(image, kernel, _same_padding(kernel))


def conv2d_valid(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The 'no padding' mistake: true convolution, output (H - k + 1, W - k + 1)."""
    return _correlate(image, np.asarray(kernel, dtype=float)[::-1, ::-1], (0, 0))


def conv2d_transposed_output(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The 'transposed output' mistake."""
    return conv2d(image, kernel).T


def conv2d_flipped_rows_only(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The 'half a flip' mistake: the kernel's rows reversed (kernel[::-1]) but not its columns."""
    return conv2d_cross_correlation(image, np.asarray(kernel, dtype=float)[::-1, :])


def conv2d_flipped_columns_only(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The other half flip: the kernel's columns reversed (np.fliplr) but not its rows."""
    return conv2d_cross_correlation(image, np.asarray(kernel, dtype=float)[:, ::-1])


def conv_I_J() -> np.ndarray:
    """I * J, 5x5."""
    return conv2d(image_I(), kernel_J())


def conv_I_J_valid() -> np.ndarray:
    """I * J without padding (3x3), a classic mistake."""
    return conv2d_valid(image_I(), kernel_J())


def conv_I_J_transposed() -> np.ndarray:
    """I * J transposed, a classic mistake."""
    return conv2d_transposed_output(image_I(), kernel_J())


def conv2d_cases(rng: np.random.Generator) -> dict[str, Any]:
    """An integer image (H, W in [4, 8]) and a 3x3 kernel on which flipping matters.

    The kernel is not symmetric under a 180-degree rotation and the case is redrawn until
    convolution and cross-correlation really differ on it, so the flip mistake is caught.
    """
    while True:
        height, width = (int(side) for side in rng.integers(4, 9, size=2))
        image = rng.integers(-3, 4, size=(height, width)).astype(float)
        kernel = rng.integers(-3, 4, size=(3, 3)).astype(float)
        if np.array_equal(kernel, kernel[::-1, ::-1]):
            continue
        if not np.allclose(conv2d(image, kernel), conv2d_cross_correlation(image, kernel)):
            return {"image": image, "kernel": kernel}


def kernel_j_detects() -> str:
    """'edges': J answers 0 on a flat image and non-zero along a step edge."""
    flat = np.full((6, 6), 7.0)
    step = np.repeat([[0.0, 0.0, 0.0, 1.0, 1.0, 1.0]], 6, axis=0)
    silent_on_flat = np.allclose(conv2d_valid(flat, kernel_J()), 0.0)
    fires_on_edge = not np.allclose(conv2d_valid(step, kernel_J()), 0.0)
    return "edges" if silent_on_flat and fires_on_edge else "not edges"


# ---------------------------------------------------------------------------------------------
# Section 3.2 and 3.3: size and receptive fields of a ConvNet
# ---------------------------------------------------------------------------------------------


class Layer(NamedTuple):
    """One entry of NETWORK.

    kind is "input", "conv" (3x3 'same' padding, stride 1), "pool" (max pool) or "fc".
    channels: input channels, conv output channels, or fc units (pools keep their input's).
    size: the input's height and width (input only).
    """

    kind: str
    channels: int = 0
    kernel: int = 1
    stride: int = 1
    size: int = 0


NETWORK: tuple[Layer, ...] = (
    Layer("input", channels=3, size=112),
    Layer("conv", channels=64, kernel=3),
    Layer("pool", kernel=2, stride=2),
    Layer("conv", channels=128, kernel=3),
    Layer("pool", kernel=2, stride=2),
    Layer("conv", channels=256, kernel=3),
    Layer("conv", channels=256, kernel=3),
    Layer("pool", kernel=2, stride=2),
    Layer("fc", channels=1024),
    Layer("fc", channels=100),
)
"""The 3.2 network: RGB 112x112x3 input, then the layers (softmax has no size and is omitted)."""

LAYER_NAMES: tuple[str, ...] = (
    "Conv3-64",
    "MaxPool",
    "Conv3-128",
    "MaxPool",
    "Conv3-256",
    "Conv3-256",
    "MaxPool",
    "FC-1024",
    "FC-100",
)
"""Names of NETWORK[1:], in the handout's notation."""


class _Shaped(NamedTuple):
    """A layer with its input and output shapes (height, width, channels); fc outputs 1x1xunits."""

    layer: Layer
    inputs: tuple[int, int, int]
    outputs: tuple[int, int, int]


def _shaped_layers() -> list[_Shaped]:
    """Walk NETWORK and attach shapes to every layer after the input."""
    source, *layers = NETWORK
    shape = (source.size, source.size, source.channels)
    shaped = []
    for layer in layers:
        height, width, channels = shape
        if layer.kind == "conv":
            out = (height, width, layer.channels)
        elif layer.kind == "pool":
            out = (height // layer.stride, width // layer.stride, channels)
        else:
            out = (1, 1, layer.channels)
        shaped.append(_Shaped(layer, shape, out))
        shape = out
    return shaped


def _units(shape: tuple[int, int, int]) -> int:
    """Number of values in a height x width x channels block."""
    return shape[0] * shape[1] * shape[2]


def _weights(item: _Shaped, spatial: bool = True) -> int:
    """Weights (no biases) of a layer; spatial=False forgets the fc input's height and width."""
    layer, inputs, outputs = item
    if layer.kind == "conv":
        return layer.kernel**2 * inputs[2] * outputs[2]
    if layer.kind == "fc":
        fan_in = _units(inputs) if spatial else inputs[2]
        return fan_in * outputs[2]
    return 0


def _biases(item: _Shaped) -> int:
    """One bias per output channel (conv) or unit (fc); pools have none."""
    return item.outputs[2] if item.layer.kind in ("conv", "fc") else 0


def params_per_layer() -> list[int]:
    """Parameters (weights + biases) of each layer in LAYER_NAMES order."""
    return [_weights(item) + _biases(item) for item in _shaped_layers()]


def total_params() -> int:
    """Total parameters of the 3.2 network."""
    return sum(params_per_layer())


def params_per_layer_without_biases() -> list[int]:
    """The 'forgot the biases' mistake (1728 for the first conv instead of 1792)."""
    return [_weights(item) for item in _shaped_layers()]


def params_per_layer_fc_without_spatial() -> list[int]:
    """The 'FC-1024 sees only 256 inputs' mistake ((256 + 1) * 1024 = 263168)."""
    return [_weights(item, spatial=False) + _biases(item) for item in _shaped_layers()]


def params_per_layer_without_input_channels() -> list[int]:
    """The 'a filter is only k x k' mistake: conv weights 3 * 3 * C_out (1792 -> 640)."""
    return [
        (item.layer.kernel**2 * item.outputs[2] if item.layer.kind == "conv" else _weights(item))
        + _biases(item)
        for item in _shaped_layers()
    ]


def params_per_layer_without_kernel_size() -> list[int]:
    """The 'forgot the 3 x 3' mistake: conv weights C_in * C_out (1792 -> 256)."""
    return [
        (item.inputs[2] * item.outputs[2] if item.layer.kind == "conv" else _weights(item))
        + _biases(item)
        for item in _shaped_layers()
    ]


def params_per_layer_one_bias_per_layer() -> list[int]:
    """The 'one bias per layer' mistake: weights + 1 instead of weights + C_out (1792 -> 1729)."""
    return [_weights(item) + (1 if _biases(item) else 0) for item in _shaped_layers()]


def total_params_from_layers(PARAMS_PER_LAYER: Any) -> int | float | None:
    """Follow-through total: the sum of the student's own per-layer numbers.

    Returns None when the student's value is not a non-empty flat list (tuple or 1-D array) of
    finite real numbers, so the grader can fall back to the canonical total.
    """
    values = PARAMS_PER_LAYER
    if isinstance(values, np.ndarray):
        values = values.tolist()
    if not isinstance(values, (list, tuple)) or not values:
        return None
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
        return None
    total = sum(values)
    if isinstance(total, numbers.Integral):
        return int(total)
    total = float(total)
    return total if math.isfinite(total) else None


def neurons_per_layer() -> list[int]:
    """Output values (neurons) of each layer."""
    return [_units(item.outputs) for item in _shaped_layers()]


def total_neurons() -> int:
    """Total neurons, excluding the input and the softmax."""
    return sum(neurons_per_layer())


def _connections(item: _Shaped) -> int:
    """Input connections (weights convention): each output value's fan-in; pools k*k."""
    if item.layer.kind == "pool":
        return _units(item.outputs) * item.layer.kernel**2
    fan_in = _weights(item) // item.outputs[2]
    return _units(item.outputs) * fan_in


def connections_per_layer() -> list[int]:
    """Input connections per layer, weights only (pool units count their k*k inputs)."""
    return [_connections(item) for item in _shaped_layers()]


def total_connections() -> int:
    """Total input connections, weights-only convention."""
    return sum(connections_per_layer())


def connections_per_layer_with_bias() -> list[int]:
    """Convention with one extra bias connection per conv/fc unit."""
    return [
        _connections(item) + (_units(item.outputs) if _biases(item) else 0)
        for item in _shaped_layers()
    ]


def total_connections_with_bias() -> int:
    """Total connections with a bias connection per conv/fc unit."""
    return sum(connections_per_layer_with_bias())


def connections_conv_fc_only() -> list[int]:
    """Convention where pooling layers have no connections (they have no weights)."""
    return [0 if item.layer.kind == "pool" else _connections(item) for item in _shaped_layers()]


def total_connections_conv_fc_only() -> int:
    """Total connections when pools count 0."""
    return sum(connections_conv_fc_only())


def receptive_field(kernel_sizes: Sequence[int], strides: Sequence[int]) -> list[int]:
    """Receptive field after each layer: r_L = r_{L-1} + (k_L - 1) * prod_{i<L} s_i, r_0 = 1."""
    fields = []
    field, jump = 1, 1
    for kernel, stride in zip(kernel_sizes, strides, strict=True):
        field += (kernel - 1) * jump
        jump *= stride
        fields.append(field)
    return fields


def receptive_fields_of_network() -> list[int]:
    """Receptive field after each conv and pool layer of the 3.2 network."""
    spatial = [layer for layer in NETWORK if layer.kind in ("conv", "pool")]
    return receptive_field([layer.kernel for layer in spatial], [layer.stride for layer in spatial])


def receptive_field_cases(rng: np.random.Generator) -> dict[str, Any]:
    """2 to 6 layers with kernels in [1, 7] and strides in [1, 3], as Python ints."""
    layers = int(rng.integers(2, 7))
    return {
        "kernel_sizes": [int(k) for k in rng.integers(1, 8, size=layers)],
        "strides": [int(s) for s in rng.integers(1, 4, size=layers)],
    }
