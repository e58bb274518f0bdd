"""Tests of reference/hw2.py: it must reproduce every number in assignments/csc413-hw2.md."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

HW2_PATH = Path(__file__).parents[1] / "reference" / "hw2.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reference_hw2", HW2_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hw2 = _load()

GENERATORS = [
    "min_norm_cases",
    "sgd_cases",
    "gd_cases",
    "eta_star_cases",
    "second_derivative_cases",
    "loss_t_cases",
    "conv2d_cases",
    "receptive_field_cases",
]

HANDOUT_X = np.array([[2.0, 1.0]])
HANDOUT_T = np.array([2.0])


def _cases(generator: str, count: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    return [getattr(hw2, generator)(rng) for _ in range(count)]


# --- module ------------------------------------------------------------------------------------


def test_importing_the_module_does_not_import_torch() -> None:
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('hw2', {str(HW2_PATH)!r})\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize("generator", GENERATORS)
def test_generators_are_deterministic_for_a_given_seed(generator: str) -> None:
    first, second = _cases(generator, 5, seed=7), _cases(generator, 5, seed=7)
    for one, two in zip(first, second, strict=True):
        assert one.keys() == two.keys()
        for key in one:
            np.testing.assert_array_equal(one[key], two[key])


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


# --- 1.1 minimum-norm solution -----------------------------------------------------------------


def test_min_norm_solution_satisfies_the_property_on_random_problems() -> None:
    for case in _cases("min_norm_cases", 100):
        assert hw2.is_min_norm_solution(hw2.min_norm_solution(**case), **case) == (True, "")


def test_min_norm_solution_agrees_with_pinv_on_random_problems() -> None:
    for case in _cases("min_norm_cases", 50):
        expected = np.linalg.pinv(case["X"]) @ case["t"]
        np.testing.assert_allclose(hw2.min_norm_solution(**case), expected, atol=1e-10)


def test_predicate_accepts_a_column_vector() -> None:
    case = _cases("min_norm_cases", 1)[0]
    column = hw2.min_norm_solution(**case).reshape(-1, 1)
    assert hw2.is_min_norm_solution(column, **case) == (True, "")


def test_predicate_accepts_a_plain_list() -> None:
    case = _cases("min_norm_cases", 1)[0]
    assert hw2.is_min_norm_solution(hw2.min_norm_solution(**case).tolist(), **case)[0]


def test_predicate_says_a_solution_outside_the_row_space_is_not_min_norm() -> None:
    case = _cases("min_norm_cases", 1)[0]
    X = case["X"]
    null_direction = np.linalg.svd(X)[2][-1]  # orthogonal to every row of X
    shifted = hw2.min_norm_solution(**case) + null_direction
    ok, feedback = hw2.is_min_norm_solution(shifted, **case)
    assert not ok
    assert feedback.startswith("X w = t holds but w is not in the row space of X")


def test_predicate_reports_the_residual_when_x_w_is_not_t() -> None:
    case = _cases("min_norm_cases", 1)[0]
    ok, feedback = hw2.is_min_norm_solution(hw2.min_norm_solution(**case) * 1.1, **case)
    assert not ok
    assert feedback.startswith("X w does not reproduce t (relative residual ")


def test_predicate_feedback_does_not_reveal_the_expected_vector() -> None:
    case = _cases("min_norm_cases", 1)[0]
    expected = hw2.min_norm_solution(**case)
    for wrong in (expected * 1.1, expected + np.linalg.svd(case["X"])[2][-1], [0.0]):
        feedback = hw2.is_min_norm_solution(wrong, **case)[1]
        assert not any(f"{entry:.3f}" in feedback for entry in expected)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "a string",
        "1.0",
        [1.0, 2.0],
        [np.nan] * 5,
        [np.inf] * 5,
        [[1.0, 2.0], [3.0]],
        [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]] * 2,
        {"w": 1},
        [1 + 2j] * 5,
        [True] * 5,
        3.0,
        object(),
    ],
)
def test_predicate_returns_false_with_a_message_and_never_raises_on_malformed_values(
    value: object,
) -> None:
    rng = np.random.default_rng(0)
    X, t = rng.standard_normal((3, 5)), rng.standard_normal(3)
    ok, feedback = hw2.is_min_norm_solution(value, X, t)
    assert ok is False
    assert feedback


def test_sgd_cases_converge_to_the_min_norm_solution() -> None:
    # How fast is bounded by the epoch budget below, not by a wall-clock assertion that a
    # loaded machine fails.
    for case in _cases("sgd_cases", 100):
        w = hw2.sgd(**case)
        assert hw2.is_min_norm_solution(w, case["X"], case["t"]) == (True, "")
        fit, offspace = hw2._fit_and_offspace(w, case["X"], case["t"])
        assert fit < 1e-9 and offspace < 1e-9


def test_sgd_cases_keep_the_proven_epoch_budget() -> None:
    assert all(1 <= case["epochs"] <= 2000 for case in _cases("sgd_cases", 100))


def test_minibatch_sgd_finds_the_min_norm_solution() -> None:
    assert hw2.minibatch_finds_min_norm() == "yes"


# --- 1.2 AdaGrad and adaptive methods ----------------------------------------------------------


def test_adagrad_limit_is_two_thirds_two_thirds_with_norm_0_9428() -> None:
    limit = hw2.adagrad_limit()
    np.testing.assert_allclose(limit, [2 / 3, 2 / 3], atol=1e-6)
    assert round(float(np.linalg.norm(limit)), 4) == 0.9428


@pytest.mark.parametrize(("lr", "steps"), [(0.01, 40000), (0.1, 2000), (0.5, 2000)])
def test_adagrad_reaches_the_same_limit_for_every_handout_learning_rate(
    lr: float, steps: int
) -> None:
    np.testing.assert_allclose(
        hw2.adagrad(HANDOUT_X, HANDOUT_T, lr, steps), [2 / 3, 2 / 3], atol=1e-6
    )


def test_min_norm_solution_of_the_counterexample_is_0_8_0_4_with_norm_0_8944() -> None:
    mistake = hw2.adagrad_limit_is_min_norm_mistake()
    np.testing.assert_allclose(mistake, [0.8, 0.4], atol=1e-12)
    np.testing.assert_allclose(mistake, hw2.min_norm_solution(HANDOUT_X, HANDOUT_T))
    assert round(float(np.linalg.norm(mistake)), 4) == 0.8944


def test_adagrad_on_the_second_example_goes_to_one_one_not_the_min_norm() -> None:
    X, t = np.array([[1.0, 2.0]]), np.array([3.0])
    np.testing.assert_allclose(hw2.adagrad(X, t, 0.1, 2000), [1.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(hw2.min_norm_solution(X, t), [0.6, 1.2], atol=1e-12)


def test_adagrad_does_not_find_the_min_norm_solution() -> None:
    assert hw2.adagrad_finds_min_norm() == "no"


def test_rmsprop_solves_the_counterexample_outside_the_row_space() -> None:
    w = hw2._rmsprop(HANDOUT_X, HANDOUT_T, lr=0.01, steps=10000)
    fit, offspace = hw2._fit_and_offspace(w, HANDOUT_X, HANDOUT_T)
    assert fit < 1e-9 and offspace > 0.1
    assert hw2.adaptive_methods_find_min_norm() == "no"


# --- 2.1 computation graph and memory ----------------------------------------------------------


def test_graph_edges_are_the_eleven_handout_edges() -> None:
    assert hw2.graph_edges() == {
        ("w0", "L0"),
        ("w0", "g0"),
        ("g0", "w1"),
        ("w0", "w1"),
        ("eta", "w1"),
        ("w1", "L1"),
        ("w1", "g1"),
        ("g1", "w2"),
        ("w1", "w2"),
        ("eta", "w2"),
        ("w2", "L2"),
    }


def test_forward_memory_is_constant_and_backprop_memory_is_linear_in_t() -> None:
    assert hw2.forward_memory() == "O(1)"
    assert hw2.backprop_memory() == "O(t)"


def test_the_memory_simulation_computes_the_real_loss_and_hypergradient() -> None:
    for case in _cases("loss_t_cases", 20):
        eta, steps = case["eta"], case["steps"]
        loss = hw2._forward_loss(case["X"], case["t"], case["w0"], eta, steps)[0]
        assert loss == pytest.approx(hw2.loss_after_t_steps(**case), rel=1e-10)
        grad = hw2._hypergradient(case["X"], case["t"], case["w0"], eta, steps)[0]
        h = 1e-6 * eta
        plus = hw2.loss_after_t_steps(**{**case, "eta": eta + h})
        minus = hw2.loss_after_t_steps(**{**case, "eta": eta - h})
        assert grad == pytest.approx((plus - minus) / (2 * h), rel=1e-5, abs=1e-9)


# --- 2.2 one step and the optimal learning rate ------------------------------------------------


def test_loss_after_one_step_equals_the_closed_form() -> None:
    for case in _cases("gd_cases", 50):
        X, t, w0, eta = case["X"], case["t"], case["w0"], case["eta"]
        n = len(t)
        a = X @ w0 - t
        np.testing.assert_allclose(hw2.gd_step(**case), w0 - 2 * eta / n * X.T @ a)
        closed = np.sum((a - 2 * eta / n * X @ X.T @ a) ** 2) / n
        assert hw2.loss_after_one_step(**case) == pytest.approx(closed, rel=1e-12)


def test_second_derivative_matches_finite_differences() -> None:
    for case in _cases("second_derivative_cases", 30):
        h = 1e-2
        losses = [hw2.loss_after_one_step(**case, eta=eta) for eta in (0.1 - h, 0.1, 0.1 + h)]
        finite = (losses[0] - 2 * losses[1] + losses[2]) / h**2
        assert hw2.second_derivative_L1(**case) == pytest.approx(finite, rel=1e-6)


def test_l1_is_convex() -> None:
    assert hw2.l1_is_convex() == "yes"


def _line_search(loss: Any) -> float:
    """Golden-section search for the minimiser of a convex function of eta >= 0."""
    high = 1e-3
    while loss(high) <= loss(0.0):
        high *= 2.0
    low, ratio = 0.0, (np.sqrt(5.0) - 1.0) / 2.0
    for _ in range(200):
        left, right = high - ratio * (high - low), low + ratio * (high - low)
        if loss(left) < loss(right):
            high = right
        else:
            low = left
    return (low + high) / 2.0


def test_eta_star_matches_a_brute_force_line_search_on_random_problems() -> None:
    for case in _cases("eta_star_cases", 50):
        found = _line_search(lambda eta, case=case: hw2.loss_after_one_step(**case, eta=eta))
        assert hw2.eta_star(**case) == pytest.approx(found, rel=1e-6)


def test_eta_star_half_sse_minimises_the_official_conventions_step() -> None:
    for case in _cases("eta_star_cases", 20):

        def loss(eta: float, case: dict[str, Any] = case) -> float:
            w1 = hw2.gd_step_half_sse(**case, eta=eta)
            return float(np.sum((case["X"] @ w1 - case["t"]) ** 2))

        assert hw2.eta_star_half_sse(**case) == pytest.approx(_line_search(loss), rel=1e-6)


def test_eta_star_in_the_2d_case_is_0_1_and_gives_the_min_norm_step() -> None:
    w0 = np.zeros(2)
    assert hw2.eta_star(HANDOUT_X, HANDOUT_T, w0) == pytest.approx(0.1, rel=1e-12)
    w1 = hw2.gd_step(HANDOUT_X, HANDOUT_T, w0, 0.1)
    np.testing.assert_allclose(w1, [0.8, 0.4], atol=1e-12)
    np.testing.assert_allclose(w1, hw2.min_norm_solution(HANDOUT_X, HANDOUT_T), atol=1e-12)


def test_official_convention_gives_0_2_in_the_2d_case_with_the_same_step() -> None:
    w0 = np.zeros(2)
    assert hw2.eta_star_half_sse(HANDOUT_X, HANDOUT_T, w0) == pytest.approx(0.2, rel=1e-12)
    np.testing.assert_allclose(
        hw2.gd_step_half_sse(HANDOUT_X, HANDOUT_T, w0, 0.2), [0.8, 0.4], atol=1e-12
    )


# --- 2.3 loss after t steps --------------------------------------------------------------------


def test_loss_after_t_steps_matches_simulated_gd() -> None:
    for case in _cases("loss_t_cases", 50):
        w = case["w0"]
        for _ in range(case["steps"]):
            w = hw2.gd_step(case["X"], case["t"], w, case["eta"])
        simulated = np.mean((case["X"] @ w - case["t"]) ** 2)
        assert abs(hw2.loss_after_t_steps(**case) - simulated) <= 1e-12 * (1 + simulated)


def test_in_the_2d_case_eta_0_1_is_optimal_for_every_t() -> None:
    w0 = np.zeros(2)
    for steps in range(1, 6):
        assert hw2.loss_after_t_steps(HANDOUT_X, HANDOUT_T, w0, 0.1, steps) < 1e-28
        for eta in (0.09, 0.11):
            assert hw2.loss_after_t_steps(HANDOUT_X, HANDOUT_T, w0, eta, steps) > 1e-12


def test_power_mistake_equals_the_right_answer_at_one_step_and_differs_at_two() -> None:
    for case in _cases("gd_cases", 20):
        one = {**case, "steps": 1}
        assert hw2.loss_after_t_steps_power_mistake(**one) == pytest.approx(
            hw2.loss_after_t_steps(**one), rel=1e-12
        )
    case = {"X": HANDOUT_X, "t": HANDOUT_T, "w0": np.zeros(2), "eta": 0.05, "steps": 2}
    assert hw2.loss_after_t_steps_power_mistake(**case) != pytest.approx(
        hw2.loss_after_t_steps(**case), rel=1e-3
    )


def test_loss_t_cases_separate_the_power_mistake_from_the_right_answer() -> None:
    for case in _cases("loss_t_cases", 500):
        assert 2 <= case["steps"] <= 6
        right = hw2.loss_after_t_steps(**case)
        wrong = hw2.loss_after_t_steps_power_mistake(**case)
        assert abs(wrong - right) > 1e-3 * abs(right)


# --- 3.1 convolution ---------------------------------------------------------------------------


def test_conv_i_j_is_the_handout_matrix() -> None:
    expected = [
        [-1, 2, 2, -2, 0],
        [-2, 1, 0, 2, -1],
        [3, 0, 0, 1, -1],
        [-2, 2, 0, 2, -1],
        [0, -2, 3, -2, 0],
    ]
    np.testing.assert_array_equal(hw2.conv_I_J(), expected)


def test_j_is_rotation_symmetric_so_cross_correlation_equals_convolution_on_i() -> None:
    J = hw2.kernel_J()
    np.testing.assert_array_equal(J, J[::-1, ::-1])
    np.testing.assert_array_equal(hw2.conv2d_cross_correlation(hw2.image_I(), J), hw2.conv_I_J())


def test_the_valid_and_transposed_mistakes_on_i_and_j() -> None:
    np.testing.assert_array_equal(hw2.conv_I_J_valid(), hw2.conv_I_J()[1:-1, 1:-1])
    np.testing.assert_array_equal(hw2.conv_I_J_transposed(), hw2.conv_I_J().T)


def _torch_conv(image: np.ndarray, kernel: np.ndarray, padding: int) -> np.ndarray:
    import torch

    out = torch.nn.functional.conv2d(
        torch.from_numpy(image)[None, None],
        torch.from_numpy(kernel.copy())[None, None],
        padding=padding,
    )
    return out[0, 0].numpy()


def test_conv2d_equals_torch_conv2d_with_a_flipped_kernel_on_random_cases() -> None:
    for case in _cases("conv2d_cases", 50):
        image, kernel = case["image"], case["kernel"]
        flipped = kernel[::-1, ::-1]
        np.testing.assert_allclose(hw2.conv2d(**case), _torch_conv(image, flipped, 1))
        np.testing.assert_allclose(hw2.conv2d_valid(**case), _torch_conv(image, flipped, 0))
        np.testing.assert_allclose(
            hw2.conv2d_cross_correlation(**case), _torch_conv(image, kernel, 1)
        )


def test_conv2d_cases_distinguish_convolution_from_cross_correlation() -> None:
    for case in _cases("conv2d_cases", 200):
        image, kernel = case["image"], case["kernel"]
        assert 4 <= image.shape[0] <= 8 and 4 <= image.shape[1] <= 8
        assert kernel.shape == (3, 3)
        for array in (image, kernel):
            assert np.array_equal(array, np.round(array)) and np.abs(array).max() <= 3
        assert not np.array_equal(kernel, kernel[::-1, ::-1])
        assert not np.allclose(hw2.conv2d(**case), hw2.conv2d_cross_correlation(**case))


def test_kernel_j_detects_edges() -> None:
    assert hw2.kernel_j_detects() == "edges"


# --- 3.2 size of the ConvNet -------------------------------------------------------------------


def test_layer_names_follow_the_network() -> None:
    assert len(hw2.LAYER_NAMES) == len(hw2.NETWORK) - 1 == 9
    for name, layer in zip(hw2.LAYER_NAMES, hw2.NETWORK[1:], strict=True):
        assert name.lower().startswith(layer.kind if layer.kind != "pool" else "maxpool")


def test_params_per_layer_and_total_match_the_table() -> None:
    assert hw2.params_per_layer() == [1792, 0, 73856, 0, 295168, 590080, 0, 51381248, 102500]
    assert hw2.total_params() == 52_444_644


def _torch_layers() -> list[Any]:
    """One torch module per NETWORK layer, on the meta device (shapes only, no memory)."""
    from torch import nn

    source, *layers = hw2.NETWORK
    channels, side, features = source.channels, source.size, 0
    modules: list[Any] = []
    for layer in layers:
        if layer.kind == "conv":
            modules.append(
                nn.Conv2d(
                    channels, layer.channels, layer.kernel, padding=layer.kernel // 2, device="meta"
                )
            )
            channels = layer.channels
        elif layer.kind == "pool":
            modules.append(nn.MaxPool2d(layer.kernel, layer.stride))
            side //= layer.stride
        else:
            fan_in = features or channels * side * side
            modules.append(
                nn.Sequential(nn.Flatten(), nn.Linear(fan_in, layer.channels, device="meta"))
            )
            features = layer.channels
    return modules


def test_params_match_a_real_torch_model_built_from_network() -> None:
    modules = _torch_layers()
    counts = [sum(p.numel() for p in module.parameters()) for module in modules]
    assert counts == hw2.params_per_layer()
    assert sum(counts) == hw2.total_params()


def test_neurons_match_the_output_sizes_of_a_real_torch_model() -> None:
    import torch

    source = hw2.NETWORK[0]
    x = torch.empty(1, source.channels, source.size, source.size, device="meta")
    sizes = []
    for module in _torch_layers():
        x = module(x)
        sizes.append(x[0].numel())
    assert sizes == hw2.neurons_per_layer()


def test_neurons_per_layer_and_total_match_the_table() -> None:
    assert hw2.neurons_per_layer() == [
        802816,
        200704,
        401408,
        100352,
        200704,
        200704,
        50176,
        1024,
        100,
    ]
    assert hw2.total_neurons() == 1_957_988


def test_connections_per_layer_and_total_match_the_table() -> None:
    assert hw2.connections_per_layer() == [
        21676032,
        802816,
        231211008,
        401408,
        231211008,
        462422016,
        200704,
        51380224,
        102400,
    ]
    assert hw2.total_connections() == 999_407_616


def test_the_other_connection_conventions_match_the_handout_totals() -> None:
    assert hw2.total_connections_with_bias() == 1_001_014_372
    assert sum(hw2.connections_per_layer_with_bias()) == 1_001_014_372
    assert hw2.total_connections_conv_fc_only() == 998_002_688
    assert sum(hw2.connections_conv_fc_only()) == 998_002_688
    assert [
        c
        for c, name in zip(hw2.connections_conv_fc_only(), hw2.LAYER_NAMES, strict=True)
        if name == "MaxPool"
    ] == [0, 0, 0]


def test_parameter_mistakes_match_the_handout() -> None:
    without_biases = hw2.params_per_layer_without_biases()
    assert without_biases[0] == 1728
    assert without_biases == [1728, 0, 73728, 0, 294912, 589824, 0, 51380224, 102400]
    no_spatial = hw2.params_per_layer_fc_without_spatial()
    assert no_spatial[7] == 263_168
    assert no_spatial[:7] + no_spatial[8:] == (
        hw2.params_per_layer()[:7] + hw2.params_per_layer()[8:]
    )


def test_total_params_from_layers_sums_the_students_own_list() -> None:
    slip = hw2.params_per_layer()
    slip[4] = 296_168
    assert hw2.total_params_from_layers(PARAMS_PER_LAYER=slip) == 52_445_644
    assert hw2.total_params_from_layers(PARAMS_PER_LAYER=np.array(slip)) == 52_445_644
    assert hw2.total_params_from_layers(PARAMS_PER_LAYER=[1.5, 2]) == 3.5


@pytest.mark.parametrize(
    "value", [None, "52444644", [], [1, "2"], [[1, 2]], [1, float("nan")], [True, 1], 5, {1: 2}]
)
def test_total_params_from_layers_returns_none_on_junk(value: object) -> None:
    assert hw2.total_params_from_layers(PARAMS_PER_LAYER=value) is None


# --- 3.3 receptive fields ----------------------------------------------------------------------


def test_receptive_fields_of_the_network_match_the_handout() -> None:
    assert hw2.receptive_fields_of_network() == [3, 4, 8, 10, 18, 26, 30]


def test_receptive_field_of_three_stride_two_3x3_layers_is_3_7_15() -> None:
    assert hw2.receptive_field([3, 3, 3], [2, 2, 2]) == [3, 7, 15]


def test_receptive_field_matches_a_brute_force_pixel_count() -> None:
    for case in _cases("receptive_field_cases", 50):
        layers = list(zip(case["kernel_sizes"], case["strides"], strict=True))
        fields = []
        for depth in range(1, len(layers) + 1):
            reach = {0}  # input positions seen by output position 0, walking back layer by layer
            for kernel, stride in reversed(layers[:depth]):
                reach = {p * stride + offset for p in reach for offset in range(kernel)}
            fields.append(max(reach) - min(reach) + 1)
        assert hw2.receptive_field(**case) == fields


def test_half_sse_loss_after_one_step_matches_its_closed_form():
    X, t, w0 = np.array([[2.0, 1.0]]), np.array([2.0]), np.zeros(2)
    a = X @ w0 - t
    closed = 0.5 * np.sum((a - 0.1 * X @ X.T @ a) ** 2)
    assert np.isclose(hw2.loss_after_one_step_half_sse(X, t, w0, 0.1), closed)
