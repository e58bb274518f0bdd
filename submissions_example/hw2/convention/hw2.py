"""Correct answers in the official 2020 solution's convention: loss 1/2 ||Xw - t||^2."""

import numpy as np


def min_norm_solution(X, t):
    X = np.asarray(X, dtype=float)
    return X.T @ np.linalg.solve(X @ X.T, np.asarray(t, dtype=float))


def sgd(X, t, lr, epochs):
    X = np.asarray(X, dtype=float)
    t = np.asarray(t, dtype=float)
    w = np.zeros(X.shape[1])
    for _ in range(int(epochs)):
        for x_i, t_i in zip(X, t):
            w = w - lr * 2 * x_i * (x_i @ w - t_i)
    return w


MINIBATCH_FINDS_MIN_NORM = "yes"
ADAGRAD_FINDS_MIN_NORM = "no"
ADAGRAD_LIMIT = [2 / 3, 2 / 3]
ADAPTIVE_METHODS_FIND_MIN_NORM = "No"

GRAPH_EDGES = {
    ("w0", "L0"), ("w0", "g0"), ("g0", "w1"), ("w0", "w1"), ("eta", "w1"),
    ("w1", "L1"), ("w1", "g1"), ("g1", "w2"), ("w1", "w2"), ("eta", "w2"),
    ("w2", "L2"),
}

FORWARD_MEMORY = "O(1)"
BACKPROP_MEMORY = r"$\mathcal{O}(t)$"
POTENTIAL_PROBLEM = ("Backprop has to store every intermediate w_tau, so memory grows "
                     "linearly with the number of iterations.")


def _residual(X, t, w0):
    return np.asarray(X, float) @ np.asarray(w0, float) - np.asarray(t, float)


def gd_step(X, t, w0, eta):
    X = np.asarray(X, float)
    n = X.shape[0]
    return np.asarray(w0, float) - eta * X.T @ _residual(X, t, w0)


def loss_after_one_step(X, t, w0, eta):
    X = np.asarray(X, float)
    a = _residual(X, t, w0)
    n = X.shape[0]
    r = a - eta * X @ X.T @ a
    return float(0.5 * r @ r)


def second_derivative_L1(X, t, w0):
    # L1(eta) = 1/2 ||a - eta X X^T a||^2, quadratic in eta
    X = np.asarray(X, float)
    v = X @ X.T @ _residual(X, t, w0)
    return float(v @ v)


L1_IS_CONVEX = True


def eta_star(X, t, w0):
    X = np.asarray(X, float)
    n = X.shape[0]
    a = _residual(X, t, w0)
    xta = X.T @ a
    xxta = X @ xta
    return float((xta @ xta) / (xxta @ xxta))


def loss_after_t_steps(X, t, w0, eta, steps):
    X = np.asarray(X, float)
    n = X.shape[0]
    step = np.eye(n) - eta * X @ X.T
    r = np.linalg.matrix_power(step, int(steps)) @ _residual(X, t, w0)
    return float(0.5 * r @ r)


I_CONV_J = [
    [-1, 2, 2, -2, 0],
    [-2, 1, 0, 2, -1],
    [3, 0, 0, 1, -1],
    [-2, 2, 0, 2, -1],
    [0, -2, 3, -2, 0],
]
J_DETECTS = "Edges (it is a discrete Laplacian)"


def conv2d(image, kernel):
    image = np.asarray(image, float)
    kernel = np.asarray(kernel, float)[::-1, ::-1]
    k = kernel.shape[0]
    p = k // 2
    padded = np.pad(image, p)
    out = np.zeros_like(image)
    for i in range(image.shape[0]):
        for j in range(image.shape[1]):
            out[i, j] = np.sum(padded[i:i + k, j:j + k] * kernel)
    return out


PARAMS_PER_LAYER = [1792, 0, 73856, 0, 295168, 590080, 0, 51381248, 102500]
TOTAL_PARAMS = 52444644
NEURONS_PER_LAYER = [802816, 200704, 401408, 100352, 200704, 200704, 50176, 1024, 100]
CONNECTIONS_PER_LAYER = [21676032, 802816, 231211008, 401408, 231211008, 462422016, 200704,
                         51380224, 102400]
RECEPTIVE_FIELDS = [3, 4, 8, 10, 18, 26, 30]


def receptive_field(kernel_sizes, strides):
    fields, r, jump = [], 1, 1
    for k, s in zip(kernel_sizes, strides):
        r += (k - 1) * jump
        jump *= s
        fields.append(r)
    return fields
