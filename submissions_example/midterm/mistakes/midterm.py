"""Deep-learning midterm: an answer sheet with the common mistakes.

Each wrong answer below is one seen in real answers (the [1, 100, 1000] / 3 limit is copied from
one); tests/test_examples_midterm.py derives from the rubric exactly what each earns.
"""

import numpy as np
import torch.nn.functional as F

# ---- Q1 Convolution arithmetic -------------------------------------------------------------


def conv_output_shape(input_shape, out_channels, kernel, padding, stride):
    # mistake: the +1 is missing
    n, _, h, w = input_shape
    return [n, out_channels, (h + 2 * padding - kernel) // stride,
            (w + 2 * padding - kernel) // stride]


CONV_SHAPE_I = [32, 128, 26, 26]
CONV_SHAPE_II = [32, 128, 13, 13]   # mistake: floor(26 / 2) without the +1

# mistake: this detects VERTICAL edges (left column minus right column)
HORIZONTAL_EDGE_FILTER = [[1, 0, -1],
                          [1, 0, -1],
                          [1, 0, -1]]

DIAGONAL_EDGE_FILTER = [[0, 1],
                        [-1, 0]]

# mistake: the "convolution" left shift; applied by cross-correlation it moves the image right
SHIFT_FILTER = [[0, 0, 0],
                [1, 0, 0],
                [0, 0, 0]]

# mistake: output_padding forgotten in the transposed convs (e: 7*2 - 2 + 3 = 15, f: 29)
ENCODER_DECODER_SHAPES = [
    [10, 16, 32, 32],
    [10, 32, 16, 16],
    [10, 128, 8, 8],
    [10, 16, 8, 8],
    [10, 8, 15, 15],
    [10, 1, 29, 29],
]

SKIP_CONCAT_SHAPE = (10, 40, 16, 16)


def receptive_field(kernel_sizes, strides):
    # mistake: the strides are ignored
    fields, r = [], 1
    for k in kernel_sizes:
        r += k - 1
        fields.append(r)
    return fields


RECEPTIVE_FIELDS_EXAMPLE = [3, 5, 7]   # mistake: the strides are ignored

# ---- Q2 Training diagnostics ---------------------------------------------------------------

LR_TOO_HIGH = "0.001"   # mistake: the slowest curve is the one whose learning rate is too LOW


def train_step(model, optimizer, x, y):
    # mistake (the exam's bug): no optimizer.zero_grad(), so gradients accumulate
    loss = F.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()


# ---- Q3 Select all that apply --------------------------------------------------------------

SELECT_ALL = ["A", "C", "E"]   # D and G missed, E is false

# ---- Q7 Optimizers and their convergence ---------------------------------------------------


def preconditioned_step(theta, x, y, alpha, M):
    # mistake: the gradient of (y - x^T theta)^2 without its factor 2
    grad = -(y - x @ theta) * x
    return theta - alpha * M @ grad


LIMIT_IDENTITY = [0.990001, 0.0990001, 0.00990001]
LIMIT_DIAG_ABS = [0.9009, 0.9009, 0.9009]
LIMIT_RESCALED = list(np.array([1, 100, 1000]) / 3)   # the real wrong answer

NONUNIFORM_SAMPLING_FINDS_MIN_NORM = "no"
