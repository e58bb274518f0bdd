"""Tests of reference/midterm.py: it reproduces every number in assignments/midterm.md, its
mistakes differ from the answers, its predicates judge filters by effect (and never raise), and
the harness it shares with the sandbox builds the very model and problems the reference uses.

Where a number can be checked by an independent computation (torch layers for shapes, a
brute-force walk for receptive fields, a hand-written numpy SGD for the training step, a
simulation for the preconditioned limits), it is.
"""

from __future__ import annotations

import importlib.util
import itertools
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
MIDTERM_PATH = REPO / "reference" / "midterm.py"
HARNESS_PATH = REPO / "reference" / "midterm_harness.py"
RUBRIC_PATH = REPO / "rubrics" / "midterm.yaml"
STARTER_PATH = REPO / "submissions_example" / "midterm" / "starter" / "midterm.py"


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


midterm = _load(MIDTERM_PATH, "reference_midterm")

GENERATORS = [
    "conv_shape_cases",
    "receptive_field_cases",
    "train_step_cases",
    "preconditioned_step_cases",
    "preconditioned_limit_cases",
]
PREDICATES = ["is_horizontal_edge_filter", "is_diagonal_edge_filter", "is_left_shift_filter"]
X = np.array([1.0, 0.1, 0.01])


def _cases(generator: str, count: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    return [getattr(midterm, generator)(rng) for _ in range(count)]


def _rubric_part(target: str, harness: str | None = None) -> dict[str, Any]:
    """The rubric's part for `target` (and, when two parts share it, the given harness)."""
    rubric = yaml.safe_load(RUBRIC_PATH.read_text(encoding="utf-8"))
    for question in rubric["questions"]:
        for part in question["parts"]:
            function = part.get("function", {})
            if part.get("target") == target and function.get("harness") == harness:
                return part
    raise KeyError(target)


# --- the module ------------------------------------------------------------------------------


def test_importing_the_module_does_not_import_torch() -> None:
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('midterm', {str(MIDTERM_PATH)!r})\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize("generator", GENERATORS)
def test_generators_are_deterministic_for_a_given_seed(generator: str) -> None:
    first, second = _cases(generator, 5, seed=7), _cases(generator, 5, seed=7)
    for one, two in zip(first, second, strict=True):
        assert one.keys() == two.keys()
        for key in one:
            np.testing.assert_array_equal(one[key], two[key])


@pytest.mark.parametrize("generator", GENERATORS)
def test_generators_give_different_cases_for_different_seeds(generator: str) -> None:
    first, second = _cases(generator, 3, seed=1), _cases(generator, 3, seed=2)
    assert repr(first) != repr(second)


@pytest.mark.parametrize("generator", GENERATORS)
def test_generators_return_float64_arrays_and_python_scalars(generator: str) -> None:
    for case in _cases(generator, 5):
        for value in case.values():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float64
            elif isinstance(value, list):
                assert all(type(item) is int for item in value)
            else:
                assert type(value) in (int, float)


# --- Q1(a) conv output shapes ----------------------------------------------------------------


def test_exam_conv_shapes_are_26_and_14() -> None:
    assert midterm.conv_shape_i() == [32, 128, 26, 26]
    assert midterm.conv_shape_ii() == [32, 128, 14, 14]


def test_exam_conv_shapes_without_the_plus_one_are_25_and_13() -> None:
    assert midterm.conv_shape_i_without_plus_one() == [32, 128, 25, 25]
    assert midterm.conv_shape_ii_without_plus_one() == [32, 128, 13, 13]


def test_conv_output_shape_matches_torch_on_random_layers() -> None:
    import torch

    stride_one = {
        "input_shape": [2, 3, 28, 28],
        "out_channels": 5,
        "kernel": 3,
        "padding": 0,
        "stride": 1,
    }
    for case in [*_cases("conv_shape_cases", 10), stride_one]:
        _, _, height, width = case["input_shape"]
        image = torch.zeros(1, 1, height, width)
        kernel = torch.zeros(1, 1, case["kernel"], case["kernel"])
        out = torch.nn.functional.conv2d(
            image, kernel, padding=case["padding"], stride=case["stride"]
        )
        expected = midterm.conv_output_shape(**case)
        assert expected[:2] == [case["input_shape"][0], case["out_channels"]]
        assert expected[2:] == list(out.shape[2:]), case


def test_every_conv_mistake_differs_from_the_answer_and_each_other_on_random_cases() -> None:
    for case in _cases("conv_shape_cases", 20):
        shapes = [tuple(midterm.conv_output_shape(**case))]
        shapes += [tuple(mistake(**case)) for mistake in midterm.CONV_SHAPE_MISTAKES]
        assert len(set(shapes)) == len(shapes), case


# --- Q1(b)-(d) filters --------------------------------------------------------------------------

SOBEL = [[1, 2, 1], [0, 0, 0], [-1, -2, -1]]
HORIZONTAL_RIGHT = {
    "exam": [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
    "negative": [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
    "scaled by 0.5": [[0.5, 0.5, 0.5], [0, 0, 0], [-0.5, -0.5, -0.5]],
    "scaled by -37": (np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]]) * -37.0).tolist(),
    "sobel": SOBEL,
    "negative sobel": (-np.array(SOBEL)).tolist(),
    "flipped sobel (convolution)": np.flip(np.array(SOBEL)).tolist(),
    "one-sided difference, bottom": [[0, 0, 0], [1, 1, 1], [-1, -1, -1]],
    "one-sided difference, top": [[1, 1, 1], [-1, -1, -1], [0, 0, 0]],
    "second derivative": [[1, 1, 1], [-2, -2, -2], [1, 1, 1]],
    "normalised sobel floats": [[0.25, 0.5, 0.25], [0, 0, 0], [-0.25, -0.5, -0.25]],
    "numpy array": np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]], dtype=np.float32),
    "tuple of tuples": ((1, 1, 1), (0, 0, 0), (-1, -1, -1)),
    "huge entries": [[1e308, 1e308, 1e308], [0, 0, 0], [-1e308, -1e308, -1e308]],
}
HORIZONTAL_WRONG = {
    "vertical": [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
    "vertical sobel": np.array(SOBEL).T.tolist(),
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "zeros": [[0, 0, 0], [0, 0, 0], [0, 0, 0]],
    "ones": [[1, 1, 1], [1, 1, 1], [1, 1, 1]],
    "laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "diagonal": [[1, 0, 0], [0, -1, 0], [0, 0, 0]],
    "almost, but the columns do not cancel": [[1, 1, 1], [0, 0, 0], [-1, -1, -0.9]],
    "2x2, not 3x3": [[1, 1], [-1, -1]],
}
DIAGONAL_RIGHT = {
    "exam roberts": [[0, 1], [-1, 0]],
    "other roberts": [[1, 0], [0, -1]],
    "negative": [[0, -1], [1, 0]],
    "scaled": [[0, 2.5], [-2.5, 0]],
    "flipped (convolution)": np.flip(np.array([[0, 1], [-1, 0]])).tolist(),
    "3x3 diagonal sobel": [[0, 1, 2], [-1, 0, 1], [-2, -1, 0]],
    "3x3 other diagonal sobel": [[2, 1, 0], [1, 0, -1], [0, -1, -2]],
    "roberts inside a 3x3": [[0, 0, 0], [0, 1, 0], [0, 0, -1]],
}
DIAGONAL_WRONG = {
    "horizontal 2x2": [[1, 1], [-1, -1]],
    "vertical 2x2": [[1, -1], [1, -1]],
    "horizontal sobel": SOBEL,
    "checkerboard": [[1, -1], [-1, 1]],
    "identity": [[1, 0], [0, 0]],
    "responds to flat": [[1, 0], [0, 1]],
    "zeros": [[0, 0], [0, 0]],
    "4x4": np.eye(4).tolist(),
}
SHIFT_RIGHT = {
    "exam": [[0, 0, 0], [0, 0, 1], [0, 0, 0]],
    "floats with negative zeros": [[-0.0, 0.0, 0.0], [0.0, -0.0, 1.0], [0.0, 0.0, -0.0]],
    "numpy array": np.array([[0, 0, 0], [0, 0, 1], [0, 0, 0]], dtype=np.int64),
}
SHIFT_WRONG = {
    "right shift (the convolution one)": [[0, 0, 0], [1, 0, 0], [0, 0, 0]],
    "up": [[0, 0, 0], [0, 0, 0], [0, 1, 0]],
    "down": [[0, 1, 0], [0, 0, 0], [0, 0, 0]],
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "left but twice as bright": [[0, 0, 0], [0, 0, 2], [0, 0, 0]],
    "half a shift": [[0, 0, 0], [0, 0.5, 0.5], [0, 0, 0]],
    "zeros": [[0, 0, 0], [0, 0, 0], [0, 0, 0]],
    "2x2": [[0, 1], [0, 0]],
}


def test_filters_are_applied_by_cross_correlation_like_torch_conv2d() -> None:
    import torch

    rng = np.random.default_rng(0)
    image, kernel = rng.standard_normal((6, 7)), rng.standard_normal((3, 3))
    expected = torch.nn.functional.conv2d(
        torch.tensor(image)[None, None], torch.tensor(kernel)[None, None]
    )[0, 0].numpy()
    np.testing.assert_allclose(midterm.correlate_valid(image, kernel), expected, atol=1e-12)


@pytest.mark.parametrize("name", HORIZONTAL_RIGHT)
def test_every_horizontal_edge_filter_passes(name: str) -> None:
    assert midterm.is_horizontal_edge_filter(HORIZONTAL_RIGHT[name]) == (True, "")


@pytest.mark.parametrize("name", HORIZONTAL_WRONG)
def test_filters_that_do_not_detect_horizontal_edges_fail(name: str) -> None:
    ok, feedback = midterm.is_horizontal_edge_filter(HORIZONTAL_WRONG[name])
    assert not ok and feedback


def test_a_vertical_edge_filter_is_told_it_detects_vertical_edges() -> None:
    _, feedback = midterm.is_horizontal_edge_filter(HORIZONTAL_WRONG["vertical"])
    assert "vertical-edge filter" in feedback


@pytest.mark.parametrize("name", DIAGONAL_RIGHT)
def test_every_diagonal_edge_filter_passes(name: str) -> None:
    assert midterm.is_diagonal_edge_filter(DIAGONAL_RIGHT[name]) == (True, "")


@pytest.mark.parametrize("name", DIAGONAL_WRONG)
def test_filters_that_do_not_detect_one_diagonal_fail(name: str) -> None:
    ok, feedback = midterm.is_diagonal_edge_filter(DIAGONAL_WRONG[name])
    assert not ok and feedback


@pytest.mark.parametrize("name", SHIFT_RIGHT)
def test_the_left_shift_filter_passes(name: str) -> None:
    assert midterm.is_left_shift_filter(SHIFT_RIGHT[name]) == (True, "")


@pytest.mark.parametrize("name", SHIFT_WRONG)
def test_filters_that_do_not_shift_left_by_one_pixel_fail(name: str) -> None:
    ok, feedback = midterm.is_left_shift_filter(SHIFT_WRONG[name])
    assert not ok and feedback


def test_the_flipped_shift_filter_is_told_about_the_convolution_convention() -> None:
    _, feedback = midterm.is_left_shift_filter(SHIFT_WRONG["right shift (the convolution one)"])
    assert "RIGHT" in feedback and "cross-correlation" in feedback


def test_a_scaled_shift_is_told_it_changes_the_values() -> None:
    _, feedback = midterm.is_left_shift_filter(SHIFT_WRONG["left but twice as bright"])
    assert "one pixel left" in feedback and "multiplies every value by 2" in feedback


def test_the_exam_filters_pass_their_own_predicates() -> None:
    assert midterm.is_horizontal_edge_filter(midterm.HORIZONTAL_EDGE_EXAMPLE)[0]
    assert midterm.is_diagonal_edge_filter(midterm.DIAGONAL_EDGE_EXAMPLE)[0]
    assert midterm.is_left_shift_filter(midterm.SHIFT_LEFT_EXAMPLE)[0]


class _Hostile:
    """An object whose every conversion raises, as a decoded student value never is, but a
    predicate called directly might see."""

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("no")

    def __len__(self) -> int:
        raise RuntimeError("no")


JUNK = {
    "None": None,
    "text": "[[1, 1, 1], [0, 0, 0], [-1, -1, -1]]",
    "bytes": b"abc",
    "bool": True,
    "int": 3,
    "float": 2.5,
    "nan": float("nan"),
    "empty list": [],
    "empty rows": [[]],
    "ragged": [[1, 2, 3], [4, 5], [6]],
    "text cells": [["a", "b", "c"]] * 3,
    "None cells": [[None] * 3] * 3,
    "nan cells": [[float("nan")] * 3] * 3,
    "inf cell": [[float("inf"), 0, 0], [0, 0, 0], [0, 0, 0]],
    "huge values": [[1e308, -1e308, 1e308]] * 3,
    "3x3x3": np.zeros((3, 3, 3)).tolist(),
    "flat list": [1, 0, -1],
    "complex": np.array([[1j, 0, 0], [0, 0, 0], [0, 0, 0]]),
    "dict": {"a": 1},
    "set": {1, 2},
    "big": np.ones((300, 300)),
    "hostile object": _Hostile(),
}


@pytest.mark.parametrize(("predicate", "junk"), list(itertools.product(PREDICATES, JUNK)))
def test_predicates_never_raise_on_junk(predicate: str, junk: str) -> None:
    ok, feedback = getattr(midterm, predicate)(JUNK[junk])
    assert ok is False
    assert isinstance(feedback, str) and feedback


# --- Q1(e)-(f) encoder-decoder -----------------------------------------------------------------

EXAM_ENCODER_DECODER = [
    [10, 16, 32, 32],
    [10, 32, 16, 16],
    [10, 128, 8, 8],
    [10, 16, 8, 8],
    [10, 8, 16, 16],
    [10, 1, 32, 32],
]


def _torch_layers() -> list[Any]:
    import torch

    layers, channels = [], midterm.ENCODER_DECODER_INPUT[1]
    for layer in midterm.ENCODER_DECODER:
        if layer.kind == "conv":
            layers.append(
                torch.nn.Conv2d(
                    channels,
                    layer.out_channels,
                    layer.kernel,
                    stride=layer.stride,
                    padding=layer.padding,
                )
            )
        else:
            layers.append(
                torch.nn.ConvTranspose2d(
                    channels,
                    layer.out_channels,
                    layer.kernel,
                    stride=layer.stride,
                    padding=layer.padding,
                    output_padding=layer.output_padding,
                )
            )
        channels = layer.out_channels
    return layers


def test_encoder_decoder_shapes_are_the_exams() -> None:
    assert midterm.encoder_decoder_shapes() == EXAM_ENCODER_DECODER
    assert midterm.ENCODER_DECODER_LABELS == ("a", "b", "c", "d", "e", "f")


def test_encoder_decoder_shapes_match_real_torch_layers() -> None:
    import torch

    out, shapes = torch.zeros(midterm.ENCODER_DECODER_INPUT), []
    with torch.no_grad():
        for layer in _torch_layers():
            out = layer(out)
            shapes.append(list(out.shape))
    assert shapes == midterm.encoder_decoder_shapes()


@pytest.mark.parametrize(
    "mistake",
    ["encoder_decoder_shapes_transposed_as_conv", "encoder_decoder_shapes_without_output_padding"],
)
def test_transposed_conv_mistakes_change_only_layers_e_and_f(mistake: str) -> None:
    wrong = getattr(midterm, mistake)()
    right = midterm.encoder_decoder_shapes()
    changed = [label for label, w, r in zip("abcdef", wrong, right, strict=True) if w != r]
    assert changed == ["e", "f"]


def test_skip_concatenation_adds_the_channels_like_torch_cat() -> None:
    import torch

    shapes = dict(zip("abcdef", midterm.encoder_decoder_shapes(), strict=True))
    joined = torch.cat([torch.zeros(shapes["e"]), torch.zeros(shapes["b"])], dim=1)
    assert midterm.skip_concat_shape() == list(joined.shape) == [10, 40, 16, 16]
    assert midterm.skip_concat_shape_kept_channels() == [10, 8, 16, 16]


# --- Q1(h) receptive fields --------------------------------------------------------------------


def _brute_force_receptive_fields(kernel_sizes: list[int], strides: list[int]) -> list[int]:
    """Follow one output unit back through the layers, position by position."""
    fields = []
    for depth in range(1, len(kernel_sizes) + 1):
        positions = {0}
        for kernel, stride in reversed(
            list(zip(kernel_sizes[:depth], strides[:depth], strict=True))
        ):
            positions = {p * stride + j for p in positions for j in range(kernel)}
        fields.append(max(positions) - min(positions) + 1)
    return fields


def test_exam_receptive_fields_are_3_7_15() -> None:
    assert midterm.exam_receptive_fields() == [3, 7, 15]


def test_exam_receptive_field_mistakes_are_3_5_7_and_5_13_29() -> None:
    assert midterm.exam_receptive_fields_ignoring_strides() == [3, 5, 7]
    assert midterm.exam_receptive_fields_current_stride() == [5, 13, 29]


def test_receptive_field_matches_a_brute_force_walk_on_random_stacks() -> None:
    for case in _cases("receptive_field_cases", 20):
        assert midterm.receptive_field(**case) == _brute_force_receptive_fields(**case), case


def test_receptive_field_mistakes_differ_on_every_random_stack() -> None:
    for case in _cases("receptive_field_cases", 20):
        answers = {
            tuple(midterm.receptive_field(**case)),
            tuple(midterm.receptive_field_ignoring_strides(**case)),
            tuple(midterm.receptive_field_current_stride(**case)),
        }
        assert len(answers) == 3, case


# --- Q2(a) learning rates ----------------------------------------------------------------------


def test_only_learning_rate_1_diverges() -> None:
    finals = {
        lr: midterm.loss_curve(lr)[-1] / midterm.loss_curve(lr)[0] for lr in midterm.LEARNING_RATES
    }
    assert finals[1.0] > 1e6
    assert all(ratio < 1 for lr, ratio in finals.items() if lr != 1.0)
    assert midterm.lr_too_high() == "1"


def test_the_too_low_mistake_is_the_smallest_learning_rate() -> None:
    assert midterm.lr_slowest() == "0.001"


def test_divergence_threshold_agrees_with_the_hessian() -> None:
    X, _ = midterm.lr_problem()
    largest = float(np.linalg.eigvalsh(2.0 / len(X) * X.T @ X)[-1])
    assert 0.1 < 2.0 / largest < 1.0  # 0.1 converges, 1 diverges


# --- Q2(b) the training step --------------------------------------------------------------------


def _numpy_two_steps(seed: int, lr: float, *, accumulate: bool) -> list[np.ndarray]:
    """Two SGD steps on the harness's problem, written out in numpy (no torch autograd)."""
    model, _, x, y = midterm.harness().make_training_problem(seed, lr)
    W = model.weight.detach().numpy().astype(float)
    b = model.bias.detach().numpy().astype(float)
    x, y = x.numpy().astype(float), y.numpy().astype(float)
    grad_W, grad_b = np.zeros_like(W), np.zeros_like(b)
    for _ in range(2):
        residual = 2.0 * (x @ W.T + b - y) / y.size  # d mean((xW^T + b - y)^2) / d output
        if not accumulate:
            grad_W, grad_b = np.zeros_like(W), np.zeros_like(b)
        grad_W, grad_b = grad_W + residual.T @ x, grad_b + residual.sum(axis=0)
        W, b = W - lr * grad_W, b - lr * grad_b
    return [W, b]


@pytest.mark.parametrize(("seed", "lr"), [(0, 0.1), (12345, 0.37)])
def test_two_training_steps_match_sgd_written_out_in_numpy(seed: int, lr: float) -> None:
    for got, want in zip(
        midterm.train_steps(seed, lr), _numpy_two_steps(seed, lr, accumulate=False), strict=True
    ):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_the_missing_zero_grad_mistake_accumulates_gradients() -> None:
    for got, want in zip(
        midterm.train_steps_without_zero_grad(0, 0.1),
        _numpy_two_steps(0, 0.1, accumulate=True),
        strict=True,
    ):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_the_missing_zero_grad_mistake_differs_beyond_the_tolerance_on_every_case() -> None:
    for case in [{"seed": 0, "lr": 0.1}, *_cases("train_step_cases", 5)]:
        right = midterm.train_steps(**case)
        wrong = midterm.train_steps_without_zero_grad(**case)
        for got, want in zip(wrong, right, strict=True):
            assert not np.allclose(got, want, rtol=1e-5, atol=1e-6), case


def test_zero_grad_between_backward_and_step_leaves_the_initial_parameters() -> None:
    model, *_ = midterm.harness().make_training_problem(3, 0.2)
    initial = [p.detach().numpy() for p in model.parameters()]
    for got, want in zip(midterm.train_steps_zero_grad_before_step(3, 0.2), initial, strict=True):
        np.testing.assert_array_equal(got, want)


def test_the_sandbox_runs_the_same_harness_as_the_reference() -> None:
    # The child runs the harness from its source text (exec, as child_main does); it must build
    # exactly the model and data the reference trains.
    namespace: dict[str, Any] = {"__name__": "grader_harness"}
    exec(compile(HARNESS_PATH.read_text(encoding="utf-8"), "harness.py", "exec"), namespace)
    theirs = namespace["make_training_problem"](42, 0.05)
    ours = midterm.harness().make_training_problem(42, 0.05)
    for a, b in zip(theirs[0].parameters(), ours[0].parameters(), strict=True):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    for a, b in zip(theirs[2:], ours[2:], strict=True):
        assert np.array_equal(a.numpy(), b.numpy())
    sandboxed = namespace["run_train_steps"](midterm.correct_train_step, 42, 0.05)
    for a, b in zip(sandboxed, midterm.train_steps(42, 0.05), strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize(
    "train_step",
    [
        midterm.correct_train_step,
        midterm.train_step_without_zero_grad,
        midterm.train_step_zero_grad_before_step,
    ],
)
@pytest.mark.parametrize(("seed", "lr"), [(0, 0.1), (7, 0.01), (2**31 - 2, 0.5)])
def test_the_trusted_plain_sgd_updates_exactly_as_torch_optim_sgd(
    train_step: Callable[..., None], seed: int, lr: float
) -> None:
    harness = midterm.harness()
    ours = harness.run_train_steps(train_step, seed, lr, midterm.PlainSGD)
    theirs = harness.run_train_steps(train_step, seed, lr)
    for a, b in zip(ours, theirs, strict=True):
        assert np.array_equal(a, b)


def test_the_training_step_reference_does_not_load_torchs_compiler_stack() -> None:
    # torch.optim's first use imports torch._dynamo and sympy (1 to 2 s per process); the
    # trusted side computes 2.b's answers and mistakes without it.
    program = (
        "import sys; sys.path.insert(0, sys.argv[1]); import reference.midterm as m; "
        "m.train_steps(0, 0.1); m.train_steps_without_zero_grad(1, 0.2); "
        "m.train_steps_zero_grad_before_step(2, 0.3); print('torch._dynamo' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, str(REPO)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"


def test_building_a_problem_does_not_change_the_global_torch_seed() -> None:
    import torch

    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    midterm.harness().make_training_problem(7, 0.1)
    assert torch.equal(torch.rand(3), expected)


def test_the_harness_holds_no_answers() -> None:
    source = HARNESS_PATH.read_text(encoding="utf-8")
    for answer in ("zero_grad", "mse_loss", "backward", "@ grad", "output_padding"):
        assert answer not in source, answer
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert not [line for line in imports if "midterm" in line or "reference" in line], imports


# --- Q3 select all --------------------------------------------------------------------------


def test_select_all_answer_is_computed_as_a_c_d_g() -> None:
    assert midterm.select_all_answer() == ["A", "C", "D", "G"]


def test_the_starter_lists_every_select_all_statement_word_for_word() -> None:
    starter = " ".join(re.sub(r"#", " ", STARTER_PATH.read_text(encoding="utf-8")).split())
    for letter, statement in midterm.SELECT_ALL_STATEMENTS.items():
        assert f"{letter}. {' '.join(statement.split())}" in starter, letter


# --- Q7 preconditioned SGD -------------------------------------------------------------------


def test_exam_limits_are_reproduced() -> None:
    np.testing.assert_allclose(midterm.limit_identity(), X / 1.0101, rtol=1e-12)
    np.testing.assert_allclose(
        midterm.limit_identity(), [0.990001, 0.0990001, 0.00990001], rtol=1e-6
    )
    np.testing.assert_allclose(midterm.limit_diag_abs(), np.ones(3) / 1.11, rtol=1e-12)
    np.testing.assert_allclose(midterm.limit_diag_abs(), [0.9009] * 3, rtol=1e-4)
    np.testing.assert_allclose(midterm.limit_rescaled(), np.array([1, 10, 100]) / 3, rtol=1e-12)


def test_rescaling_is_the_same_as_preconditioning_with_one_over_x_squared() -> None:
    np.testing.assert_allclose(
        midterm.limit_rescaled(), midterm._limit(X, 1.0, np.diag(1 / X**2)), rtol=1e-12
    )


def test_the_answer_sheet_mistake_differs_and_does_not_solve_the_equation() -> None:
    wrong = midterm.limit_rescaled_answer_sheet_mistake()
    np.testing.assert_allclose(wrong, np.array([1, 100, 1000]) / 3)
    assert not np.allclose(wrong, midterm.limit_rescaled(), rtol=1e-3)
    assert X @ wrong == pytest.approx(7.0)  # the rubric's feedback says so
    np.testing.assert_allclose(wrong[1:] / midterm.limit_rescaled()[1:], [10, 10])


def test_every_limit_solves_the_equation() -> None:
    for limit in (midterm.limit_identity(), midterm.limit_diag_abs(), midterm.limit_rescaled()):
        assert X @ limit == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("step", ["preconditioned_step", "preconditioned_step_without_factor_two"])
def test_simulating_the_rubrics_public_cases_reaches_the_closed_form(step: str) -> None:
    # The half-length step of a common mistake converges to the same limit, as the examples
    # test of the mistakes submission relies on.
    part = _rubric_part("preconditioned_step", harness="simulate_preconditioned_sgd")
    simulate = midterm.harness().simulate_preconditioned_sgd
    for case in part["function"]["public"]:
        case = {**case, "x": np.array(case["x"], float), "M": np.array(case["M"], float)}
        np.testing.assert_allclose(
            simulate(getattr(midterm, step), **case),
            midterm.preconditioned_limit(**case),
            rtol=1e-9,
            atol=1e-12,
        )


def test_the_three_public_simulations_are_the_three_exam_limits() -> None:
    part = _rubric_part("preconditioned_step", harness="simulate_preconditioned_sgd")
    limits = [
        midterm.preconditioned_limit(
            **{**case, "x": np.array(case["x"], float), "M": np.array(case["M"], float)}
        )
        for case in part["function"]["public"]
    ]
    for got, want in zip(
        limits,
        [midterm.limit_identity(), midterm.limit_diag_abs(), midterm.limit_rescaled()],
        strict=True,
    ):
        np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("step", ["preconditioned_step", "preconditioned_step_without_factor_two"])
def test_simulating_random_cases_reaches_the_closed_form(step: str) -> None:
    simulate = midterm.harness().simulate_preconditioned_sgd
    for case in _cases("preconditioned_limit_cases", 10):
        np.testing.assert_allclose(
            simulate(getattr(midterm, step), **case),
            midterm.preconditioned_limit(**case),
            rtol=1e-9,
            atol=1e-12,
        )


def test_ignoring_the_preconditioner_ends_elsewhere_on_every_random_case() -> None:
    simulate = midterm.harness().simulate_preconditioned_sgd
    for case in _cases("preconditioned_limit_cases", 10):
        plain = simulate(midterm.preconditioned_step_ignoring_M, **case)
        np.testing.assert_allclose(plain, midterm.min_norm_limit(**case), rtol=1e-9)
        assert not np.allclose(plain, midterm.preconditioned_limit(**case), rtol=1e-6)


def test_the_simulation_returns_what_a_broken_step_returned() -> None:
    simulate = midterm.harness().simulate_preconditioned_sgd
    case = _cases("preconditioned_limit_cases", 1)[0]
    assert simulate(lambda *args: None, **case) is None
    assert simulate(lambda *args: [1.0], **case) == [1.0]
    with np.errstate(over="ignore"):
        diverged = simulate(lambda theta, *args: theta * 10 + 1e300, **case)
    assert not np.all(np.isfinite(diverged))


@pytest.mark.parametrize(
    "mistake",
    [
        "preconditioned_step_without_factor_two",
        "preconditioned_step_ignoring_M",
        "preconditioned_step_ascent",
    ],
)
def test_every_step_mistake_differs_on_every_random_case(mistake: str) -> None:
    for case in _cases("preconditioned_step_cases", 10):
        assert not np.allclose(
            getattr(midterm, mistake)(**case), midterm.preconditioned_step(**case), rtol=1e-6
        ), case


def test_one_step_from_zero_with_diag_1_10_100_is_half_along_ones() -> None:
    step = midterm.preconditioned_step(np.zeros(3), X, 1.0, 0.25, np.diag([1.0, 10.0, 100.0]))
    np.testing.assert_allclose(step, [0.5, 0.5, 0.5])


def test_non_uniform_sampling_still_reaches_the_min_norm_solution() -> None:
    assert midterm.nonuniform_sampling_finds_min_norm() == "yes"


# --- speed ----------------------------------------------------------------------------------


def _slowest_call(function: Callable[..., Any], cases: list[dict[str, Any]]) -> float:
    function(**cases[0])  # warm up (imports torch once)
    slowest = 0.0
    for case in cases:
        started = time.perf_counter()
        function(**case)
        slowest = max(slowest, time.perf_counter() - started)
    return slowest


def test_every_reference_case_takes_under_100_ms() -> None:
    simulate = midterm.harness().simulate_preconditioned_sgd
    timings = {
        "train_steps": _slowest_call(midterm.train_steps, _cases("train_step_cases", 5)),
        "simulate": _slowest_call(
            lambda **case: simulate(midterm.preconditioned_step, **case),
            _cases("preconditioned_limit_cases", 5),
        ),
        "conv_shape_cases": _slowest_call(
            lambda seed: midterm.conv_shape_cases(np.random.default_rng(seed)),
            [{"seed": s} for s in range(20)],
        ),
    }
    for predicate in PREDICATES:
        timings[predicate] = _slowest_call(
            getattr(midterm, predicate), [{"value": v} for v in HORIZONTAL_RIGHT.values()]
        )
    assert max(timings.values()) < 0.1, timings
