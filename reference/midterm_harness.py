"""Public harness for the midterm: code that runs INSIDE the sandbox, around student functions.

Some midterm answers are functions that act on objects which cannot cross the sandbox boundary
as data (a torch model and its optimizer), or that must be run thousands of times (an update
rule whose limit is the question). The grader sends this file's source to the student's process
and calls `harness(student_function, *case_args)`; each harness builds what it needs, calls the
student's function and returns plain data (numbers and numpy arrays) for the trusted side to
judge against reference/midterm.py.

This file is shown to students' code, so it holds no answers: only how a problem is built. The
reference imports it by path to build exactly the same model, data and starting point.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

TRAIN_STEPS = 2
"""How many times run_train_steps calls the student's train_step: some bugs in a training step
only show from the second step on, so one step is not enough."""

BATCH, IN_FEATURES, OUT_FEATURES = 8, 3, 2
"""The tiny regression problem run_train_steps trains on: nn.Linear(3, 2) on 8 examples."""


def _torch() -> Any:
    """torch, imported on first use (about a second) with one thread, so results do not depend
    on the machine's core count."""
    import torch

    torch.set_num_threads(1)
    return torch


def make_training_problem(
    seed: int, lr: float, optimizer_class: Any = None
) -> tuple[Any, Any, Any, Any]:
    """(model, optimizer, x, y): nn.Linear(3, 2) initialised from `seed`, plain SGD with
    learning rate `lr` (`optimizer_class`, torch.optim.SGD unless given), and 8 seeded
    examples x (8 x 3) with targets y (8 x 2).

    The global torch RNG is forked, so building a problem never changes the caller's random
    state (the trusted reference calls this too).
    """
    torch = _torch()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        model = torch.nn.Linear(IN_FEATURES, OUT_FEATURES)
        x = torch.randn(BATCH, IN_FEATURES)
        y = torch.randn(BATCH, OUT_FEATURES)
    optimizer = (optimizer_class or torch.optim.SGD)(model.parameters(), lr=float(lr))
    return model, optimizer, x, y


def run_train_steps(
    train_step: Callable[..., Any], seed: int, lr: float, optimizer_class: Any = None
) -> list[np.ndarray]:
    """Call train_step(model, optimizer, x, y) TRAIN_STEPS times on a fresh seeded problem and
    return the final parameters [weight (2 x 3), bias (2,)] as float32 numpy arrays.

    x and y are passed as fresh copies each step, so a step that modifies its inputs in place
    cannot change what the next step sees.
    """
    model, optimizer, x, y = make_training_problem(seed, lr, optimizer_class)
    for _ in range(TRAIN_STEPS):
        train_step(model, optimizer, x.clone(), y.clone())
    return [parameter.detach().numpy().copy() for parameter in model.parameters()]


def simulate_preconditioned_sgd(
    step: Callable[..., Any], x: Any, y: float, alpha: float, M: Any, steps: int
) -> Any:
    """Run theta_{t+1} = step(theta_t, x, y, alpha, M) from theta_0 = 0 for `steps` steps and
    return the last theta (a float64 array).

    The student's step gets copies, so it may modify its arguments. If a step returns something
    that is not an array of theta's shape, that value is returned as it is, so the grader can
    tell the student what their function returned; a non-finite theta stops the run early
    (divergence) and is returned.
    """
    x = np.array(x, dtype=float)
    M = np.array(M, dtype=float)
    theta = np.zeros_like(x)
    for _ in range(int(steps)):
        new = step(theta.copy(), x.copy(), float(y), float(alpha), M.copy())
        try:
            array = np.asarray(new, dtype=float)
        except Exception:  # None, text, ragged lists, a tensor that still requires grad
            return new
        if array.shape != theta.shape:
            return new
        theta = array
        if not np.all(np.isfinite(theta)):
            break
    return theta
