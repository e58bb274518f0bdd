"""An answer computed end to end in float32 is right: its tolerance comes from its dtype."""

from __future__ import annotations

import numpy as np
import pytest
from corpus_support import REPO, grade_in_process, load_answers

from grader.checks import compare
from grader.checks.array import ArrayCheck
from grader.checks.numeric import NumericCheck

F = np.float32


def gd_step(X, t, w0, eta):
    X, t, w0 = (np.asarray(v, F) for v in (X, t, w0))
    return w0 - F(2) * F(eta) / F(len(t)) * X.T @ (X @ w0 - t)


def loss_after_one_step(X, t, w0, eta):
    X, t = np.asarray(X, F), np.asarray(t, F)
    r = X @ gd_step(X, t, w0, eta) - t
    return (r @ r) / F(len(t))


def second_derivative_L1(X, t, w0):
    X, t, w0 = (np.asarray(v, F) for v in (X, t, w0))
    v = X @ X.T @ (X @ w0 - t)
    return F(8) / F(len(t)) ** 3 * (v @ v)


def eta_star(X, t, w0):
    X, t, w0 = (np.asarray(v, F) for v in (X, t, w0))
    xta = X.T @ (X @ w0 - t)
    xxta = X @ xta
    return F(len(t)) / F(2) * (xta @ xta) / (xxta @ xxta)


def loss_after_t_steps(X, t, w0, eta, steps):
    X, t, w0 = (np.asarray(v, F) for v in (X, t, w0))
    n = len(t)
    shrink = np.eye(n, dtype=F) - F(2) * F(eta) / F(n) * X @ X.T
    r = np.linalg.matrix_power(shrink, int(steps)) @ (X @ w0 - t)
    return (r @ r) / F(n)


def conv2d(image, kernel):
    image, kernel = np.asarray(image, F), np.asarray(kernel, F)[::-1, ::-1]
    padded = np.pad(image, 1)
    out = np.zeros_like(image)
    for i in range(image.shape[0]):
        for j in range(image.shape[1]):
            out[i, j] = np.sum(padded[i : i + 3, j : j + 3] * kernel)
    return out


FLOAT32 = {
    "gd_step": gd_step,
    "loss_after_one_step": loss_after_one_step,
    "second_derivative_L1": second_derivative_L1,
    "eta_star": eta_star,
    "loss_after_t_steps": loss_after_t_steps,
    "conv2d": conv2d,
}


@pytest.mark.parametrize("seed", [413, 1, 2, 3, 4, 5])
def test_hw2_functions_computed_in_float32_earn_full_credit(seed: int) -> None:
    answers = load_answers(REPO / "submissions_example" / "hw2" / "correct" / "hw2.py")
    answers.update(FLOAT32)
    credits = grade_in_process("hw2", answers, seed=seed)
    assert all(credit == 1.0 for credit in credits.values()), {
        k: v for k, v in credits.items() if v < 1
    }


def test_a_float32_number_gets_a_tolerance_from_its_dtype() -> None:
    check = NumericCheck(kind="numeric", rtol=1e-6, atol=1e-12)
    assert compare(check, np.float32(1.0 + 6e-7), 1.0, reveal=False).passed


def test_a_float64_number_keeps_the_rubric_tolerance() -> None:
    check = NumericCheck(kind="numeric", rtol=1e-6, atol=1e-12)
    assert not compare(check, 1.0 + 6e-6, 1.0, reveal=False).passed


def test_a_float32_array_is_still_wrong_by_a_factor() -> None:
    check = ArrayCheck(kind="array", rtol=1e-6, atol=1e-9)
    wrong = np.array([1.0, 2.0], dtype=F) * F(1.001)
    assert not compare(check, wrong, [1.0, 2.0], reveal=False).passed
