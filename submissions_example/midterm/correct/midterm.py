"""Deep-learning midterm: my answers (a complete solution, written as a student would).

Conventions (from the starter): filters are applied by cross-correlation like
torch.nn.functional.conv2d; in Q7 f(theta) = (y - x^T theta)^2.
"""

import numpy as np
import torch
import torch.nn.functional as F

# ---- Q1 Convolution arithmetic -------------------------------------------------------------


def _out_size(size, kernel, padding, stride):
    return (size + 2 * padding - kernel) // stride + 1


def conv_output_shape(input_shape, out_channels, kernel, padding, stride):
    n, _, h, w = input_shape
    return [n, out_channels, _out_size(h, kernel, padding, stride),
            _out_size(w, kernel, padding, stride)]


CONV_SHAPE_I = conv_output_shape([32, 1, 28, 28], 128, 3, 0, 1)    # [32, 128, 26, 26]
CONV_SHAPE_II = conv_output_shape([32, 1, 28, 28], 128, 4, 1, 2)   # [32, 128, 14, 14]

# Sobel: top row minus bottom row, centre column weighted twice
HORIZONTAL_EDGE_FILTER = [[1, 2, 1],
                          [0, 0, 0],
                          [-1, -2, -1]]

# Roberts cross
DIAGONAL_EDGE_FILTER = [[0, 1],
                        [-1, 0]]

# out[r, c] = image[r, c + 1]: take the pixel to the right of the centre
SHIFT_FILTER = [[0, 0, 0],
                [0, 0, 1],
                [0, 0, 0]]


def _shapes_by_running_the_network():
    """Build the 1(e) network in torch and push a zero batch through it."""
    layers = [
        torch.nn.Conv2d(1, 16, kernel_size=3, stride=1, padding=1),
        torch.nn.Conv2d(16, 32, kernel_size=3, stride=2, padding=1),
        torch.nn.Conv2d(32, 128, kernel_size=3, stride=2, padding=1),
        torch.nn.Conv2d(128, 16, kernel_size=1, stride=1, padding=0),
        torch.nn.ConvTranspose2d(16, 8, kernel_size=3, stride=2, padding=1, output_padding=1),
        torch.nn.ConvTranspose2d(8, 1, kernel_size=3, stride=2, padding=1, output_padding=1),
    ]
    shapes = []
    out = torch.zeros(10, 1, 32, 32)
    with torch.no_grad():
        for layer in layers:
            out = layer(out)
            shapes.append(list(out.shape))
    return shapes


ENCODER_DECODER_SHAPES = _shapes_by_running_the_network()

# e: [10, 8, 16, 16] and b: [10, 32, 16, 16], channels add
SKIP_CONCAT_SHAPE = [10, 8 + 32, 16, 16]


def receptive_field(kernel_sizes, strides):
    fields = []
    r, jump = 1, 1
    for k, s in zip(kernel_sizes, strides):
        r = r + (k - 1) * jump
        jump = jump * s
        fields.append(r)
    return fields


RECEPTIVE_FIELDS_EXAMPLE = receptive_field([3, 3, 3], [2, 2, 2])   # [3, 7, 15]

# ---- Q2 Training diagnostics ---------------------------------------------------------------

# Hessian eigenvalues are about 2 * 1.5^2 = 4.5 and 0.5; GD diverges when lr > 2 / 4.5
LR_TOO_HIGH = "1"


def train_step(model, optimizer, x, y):
    optimizer.zero_grad()
    loss = F.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


# ---- Q3 Select all that apply --------------------------------------------------------------

SELECT_ALL = ["A", "C", "D", "G"]

# ---- Q7 Optimizers and their convergence ---------------------------------------------------


def preconditioned_step(theta, x, y, alpha, M):
    grad = -2 * (y - x @ theta) * x
    return theta - alpha * M @ grad


_x = np.array([1, 0.1, 0.01])
LIMIT_IDENTITY = _x / (_x @ _x)                          # [1, 0.1, 0.01] / 1.0101
LIMIT_DIAG_ABS = np.ones(3) / (_x @ np.ones(3))          # [1, 1, 1] / 1.11
LIMIT_RESCALED = (np.ones(3) / 3) / _x                   # [1, 10, 100] / 3

NONUNIFORM_SAMPLING_FINDS_MIN_NORM = "yes"
