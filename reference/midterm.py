"""Trusted reference for the deep-learning midterm (CNN shapes, training bugs, optimizers).

The grader imports this module in its trusted process to grade the exam described in
assignments/midterm.md. Every canonical answer is computed here (conv arithmetic, a walk through
the encoder-decoder, simulations of gradient descent, a real torch training step, closed-form
limits checked against simulation), never typed in. It provides, as the rubric format expects:

- answer functions (no arguments) returning the canonical value of a constant the student defines;
- reference functions with exactly the student's signature, plus the wrong variants that real
  mistakes produce, so the grader can say which mistake it saw;
- generators `*_cases(rng)` returning one keyword-argument case for a function check;
- predicates `predicate(value, **case) -> (ok, feedback)` for answers that are not unique (the
  filters of 1(b)-(d)); they never raise, whatever the student's value is.

Conventions (stated again in the starter file students receive):

- Filters are applied as CROSS-CORRELATION, as torch.nn.functional.conv2d does:
  out[r, c] = sum_ij K[i, j] * image[r + i, c + j] (the kernel is not flipped). Row 0 is the top
  of the image. A horizontal edge separates a top region from a bottom region.
- Where a filter and its 180-degree flip are both right for the effect (edge detectors: the flip
  of an edge filter detects the same edges with the opposite sign), both are accepted, so a
  student who thinks in true convolution is not penalised. The shift filter is not symmetric in
  that way: the question asks for a shift to the LEFT (out[r, c] = image[r, c + 1]), which under
  cross-correlation is [[0, 0, 0], [0, 0, 1], [0, 0, 0]], the exam's answer.
- Q7's per-example loss is f(theta) = (y - x^T theta)^2, so grad f = -2 (y - x^T theta) x.

Reconstructed parts (midterm.md gives only the answers): the input of 1(a) has 1 channel; the
encoder-decoder's layers (kernel sizes, paddings, output_padding) are chosen so that they give
exactly the exam's shapes a-f; the skip connection of 1(f) joins layer e's output with layer b's;
the loss curves of 2(a) come from gradient descent on a fixed regression problem; the statements
of Q3 are new (midterm.md gives no question text), each decided by a computation below.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np

HARNESS_PATH = Path(__file__).with_name("midterm_harness.py")


# ---------------------------------------------------------------------------------------------
# Q1(a): conv output shapes
# ---------------------------------------------------------------------------------------------

EXAM_INPUT_SHAPE = (32, 1, 28, 28)
"""1(a): a batch of 32 single-channel 28x28 images (the exam does not say the channel count;
it does not affect the answer)."""
EXAM_LAYER_I = {"out_channels": 128, "kernel": 3, "padding": 0, "stride": 1}
EXAM_LAYER_II = {"out_channels": 128, "kernel": 4, "padding": 1, "stride": 2}


def conv_size(size: int, kernel: int, padding: int, stride: int) -> int:
    """One spatial size after a convolution: floor((size + 2 padding - kernel) / stride) + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def _conv_shape(
    input_shape: Sequence[int], out_channels: int, size_rule: Callable[[int], int]
) -> list[int]:
    """[N, out_channels, rule(H), rule(W)] for an [N, C, H, W] input."""
    batch, _, height, width = (int(v) for v in input_shape)
    return [batch, int(out_channels), size_rule(height), size_rule(width)]


def conv_output_shape(
    input_shape: Sequence[int], out_channels: int, kernel: int, padding: int, stride: int
) -> list[int]:
    """Output shape [N, C_out, H_out, W_out] of a square conv layer on an [N, C, H, W] input."""
    return _conv_shape(
        input_shape, out_channels, lambda size: conv_size(size, kernel, padding, stride)
    )


def conv_output_shape_without_plus_one(
    input_shape: Sequence[int], out_channels: int, kernel: int, padding: int, stride: int
) -> list[int]:
    """The 'forgot the +1' mistake: floor((H + 2p - k) / s) counts the steps, not positions."""
    return _conv_shape(
        input_shape, out_channels, lambda size: (size + 2 * padding - kernel) // stride
    )


def conv_output_shape_single_padding(
    input_shape: Sequence[int], out_channels: int, kernel: int, padding: int, stride: int
) -> list[int]:
    """The 'padding added once' mistake: floor((H + p - k) / s) + 1, one side padded only."""
    return _conv_shape(
        input_shape, out_channels, lambda size: (size + padding - kernel) // stride + 1
    )


def conv_output_shape_ceil(
    input_shape: Sequence[int], out_channels: int, kernel: int, padding: int, stride: int
) -> list[int]:
    """The 'rounded up' mistake: ceil((H + 2p - k) / s) + 1, as if a partial window counted."""
    return _conv_shape(
        input_shape, out_channels, lambda size: -(-(size + 2 * padding - kernel) // stride) + 1
    )


def conv_output_shape_padding_ignored(
    input_shape: Sequence[int], out_channels: int, kernel: int, padding: int, stride: int
) -> list[int]:
    """The 'padding ignored' mistake: floor((H - k) / s) + 1, as if the border were not padded."""
    return _conv_shape(input_shape, out_channels, lambda size: (size - kernel) // stride + 1)


def conv_output_shape_true_division(
    input_shape: Sequence[int], out_channels: int, kernel: int, padding: int, stride: int
) -> list[float]:
    """The 'true division' mistake: (H + 2p - k) / s + 1 with `/`, fractional where s does not
    divide H + 2p - k (a size that no tensor can have)."""
    batch, _, height, width = (int(v) for v in input_shape)
    sizes = [(size + 2 * padding - kernel) / stride + 1 for size in (height, width)]
    return [batch, int(out_channels), *sizes]


def conv_output_shape_nhwc(
    input_shape: Sequence[int], out_channels: int, kernel: int, padding: int, stride: int
) -> list[int]:
    """The 'NHWC order' mistake: the right sizes as [N, H_out, W_out, C_out] (TensorFlow's
    layout) where PyTorch's conv2d, which the question uses, gives [N, C_out, H_out, W_out]."""
    batch, channels, height, width = conv_output_shape(
        input_shape, out_channels, kernel, padding, stride
    )
    return [batch, height, width, channels]


CONV_SHAPE_MISTAKES = (
    conv_output_shape_without_plus_one,
    conv_output_shape_single_padding,
    conv_output_shape_ceil,
    conv_output_shape_padding_ignored,
    conv_output_shape_true_division,
    conv_output_shape_nhwc,
)


def conv_shape_cases(rng: np.random.Generator) -> dict[str, Any]:
    """A random conv layer on which every known mistake gives its own, different answer.

    Non-square inputs (H != W allowed) catch swapped dimensions. Padding is 1 to 3 and the
    stride 2 or 3, and a case is drawn again until the right shape and every mistake's shape
    are pairwise different with every size positive: a mistake that happens to give the
    right number (stride 1 hides the rounding mistake, padding 0 the single-padding one) would
    go unnoticed, and two mistakes with the same answer could not be told apart. Stride 1 and
    padding 0 are covered by the rubric's public cases.
    """
    while True:
        case = {
            "input_shape": [
                int(rng.integers(1, 65)),
                int(rng.integers(1, 17)),
                int(rng.integers(6, 65)),
                int(rng.integers(6, 65)),
            ],
            "out_channels": int(rng.integers(1, 257)),
            "kernel": int(rng.integers(1, 8)),
            "padding": int(rng.integers(1, 4)),
            "stride": int(rng.integers(2, 4)),
        }
        shapes = [conv_output_shape(**case)] + [mistake(**case) for mistake in CONV_SHAPE_MISTAKES]
        distinct = len({tuple(shape) for shape in shapes}) == len(shapes)
        if distinct and all(size >= 1 for shape in shapes for size in shape):
            return case


def conv_shape_i() -> list[int]:
    """1(a)(i): kernel 3, padding 0, stride 1 on [32, 1, 28, 28] -> [32, 128, 26, 26]."""
    return conv_output_shape(EXAM_INPUT_SHAPE, **EXAM_LAYER_I)


def conv_shape_ii() -> list[int]:
    """1(a)(ii): kernel 4, padding 1, stride 2 on [32, 1, 28, 28] -> [32, 128, 14, 14]."""
    return conv_output_shape(EXAM_INPUT_SHAPE, **EXAM_LAYER_II)


def conv_shape_i_without_plus_one() -> list[int]:
    """1(a)(i) without the +1: [32, 128, 25, 25]."""
    return conv_output_shape_without_plus_one(EXAM_INPUT_SHAPE, **EXAM_LAYER_I)


def conv_shape_ii_without_plus_one() -> list[int]:
    """1(a)(ii) without the +1: [32, 128, 13, 13]; padding once gives the same 13 here."""
    return conv_output_shape_without_plus_one(EXAM_INPUT_SHAPE, **EXAM_LAYER_II)


def conv_shape_i_nhwc() -> list[int]:
    """1(a)(i) in NHWC order: [32, 26, 26, 128]."""
    return conv_output_shape_nhwc(EXAM_INPUT_SHAPE, **EXAM_LAYER_I)


def conv_shape_ii_nhwc() -> list[int]:
    """1(a)(ii) in NHWC order: [32, 14, 14, 128]."""
    return conv_output_shape_nhwc(EXAM_INPUT_SHAPE, **EXAM_LAYER_II)


# ---------------------------------------------------------------------------------------------
# Q1(b)-(d): filters judged by what they do to probe images
# ---------------------------------------------------------------------------------------------

HORIZONTAL_EDGE_EXAMPLE = ((1, 1, 1), (0, 0, 0), (-1, -1, -1))
DIAGONAL_EDGE_EXAMPLE = ((0, 1), (-1, 0))
SHIFT_LEFT_EXAMPLE = ((0, 0, 0), (0, 0, 1), (0, 0, 0))
"""The exam's answers; each predicate below accepts them, and every other filter with the same
effect."""

PROBE_SIZE = 10
SILENT = 1e-6
"""A response counts as zero when it is below SILENT times the filter's largest entry (the
filter is normalised first, so scaled filters are judged alike)."""
FIRES = 1e-3
"""A response counts as a detection when it exceeds FIRES times the filter's largest entry."""


def correlate_valid(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Cross-correlation without padding: out[r, c] = sum_ij kernel[i, j] image[r + i, c + j]."""
    windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape)
    return np.einsum("ijkl,kl->ij", windows, kernel)


def _probe(kind: str) -> np.ndarray:
    """PROBE_SIZE x PROBE_SIZE 0/1 probe images; each edge crosses the middle, so every
    position of the edge relative to a 2x2 or 3x3 window occurs somewhere in the output.

    flat: all ones. horizontal: top half 0, bottom half 1. vertical: left 0, right 1.
    antidiagonal: 1 below the '/' diagonal (r + c >= n - 1). diagonal: 1 above the '\\'
    diagonal (c >= r).
    """
    rows, cols = np.indices((PROBE_SIZE, PROBE_SIZE))
    half = PROBE_SIZE // 2
    images = {
        "flat": np.ones((PROBE_SIZE, PROBE_SIZE)),
        "horizontal": rows >= half,
        "vertical": cols >= half,
        "antidiagonal": rows + cols >= PROBE_SIZE - 1,
        "diagonal": cols >= rows,
    }
    return np.asarray(images[kind], dtype=float)


def _describe(value: object) -> str:
    """A short description of a student value's type, for feedback (never its content)."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} items"
    return f"a {type(value).__name__}"


def _read_filter(value: object, sizes: Sequence[tuple[int, int]]) -> tuple[np.ndarray | None, str]:
    """(the filter as a float array, "") or (None, why it cannot be judged as a filter)."""
    wanted = " or ".join(f"{rows}x{cols}" for rows, cols in sizes)
    if isinstance(value, (str, bytes, bool, dict, set)) or value is None:
        return (
            None,
            f"Expected a {wanted} filter (nested lists of numbers), got {_describe(value)}.",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kernel = np.array(value, dtype=float)
    except Exception:
        return (
            None,
            f"Expected a {wanted} filter (nested lists of numbers); yours could not "
            "be read as a rectangular array of numbers.",
        )
    if kernel.shape not in [tuple(size) for size in sizes]:
        return None, f"Expected a {wanted} filter, got {_describe(kernel)}."
    if not np.all(np.isfinite(kernel)):
        return None, "Your filter contains NaN or infinite entries."
    return kernel, ""


def _normalised(kernel: np.ndarray) -> np.ndarray | None:
    """The filter divided by its largest absolute entry; None for an all-zero filter."""
    peak = float(np.max(np.abs(kernel)))
    return kernel / peak if peak > 0 else None


def _response(kernel: np.ndarray, probe: str) -> float:
    """Largest absolute response of a normalised filter on a probe image."""
    return float(np.max(np.abs(correlate_valid(_probe(probe), kernel))))


def _guarded(predicate: Callable[..., tuple[bool, str]]) -> Callable[..., tuple[bool, str]]:
    """Make a predicate total: any unexpected error on odd input is a failed check, never a
    crash of the grader's part (the explicit checks above are meant to catch everything)."""

    @functools.wraps(predicate)
    def total(value: object, **case: Any) -> tuple[bool, str]:
        try:
            with np.errstate(all="ignore"):
                return predicate(value, **case)
        except Exception:
            return False, "Your filter could not be applied to the test images."

    return total


@_guarded
def is_horizontal_edge_filter(value: object, **_: Any) -> tuple[bool, str]:
    """A 3x3 filter that detects horizontal edges: silent on a flat image and on a vertical
    edge, responding to a horizontal edge. Any sign and scale (so its flip too), Sobel, Prewitt
    and one-sided differences all pass; a vertical-edge filter fails."""
    kernel, problem = _read_filter(value, [(3, 3)])
    if kernel is None:
        return False, problem
    kernel = _normalised(kernel)
    if kernel is None:
        return False, "An all-zero filter responds to nothing."
    if _response(kernel, "flat") > SILENT:
        return False, (
            "Your filter responds to a flat (constant) image, so it reports edges "
            "where there are none: an edge filter's entries sum to 0."
        )
    on_horizontal = _response(kernel, "horizontal") > FIRES
    if _response(kernel, "vertical") > SILENT:
        if not on_horizontal:
            return False, (
                "Your filter responds to vertical edges (left/right boundaries) and "
                "not to horizontal ones: it is a vertical-edge filter. A horizontal "
                "edge separates a top region from a bottom one."
            )
        return False, (
            "Your filter responds to vertical edges as well as horizontal ones; a "
            "horizontal-edge filter must be silent on a left/right boundary (each "
            "column of the filter sums to 0)."
        )
    if not on_horizontal:
        return False, "Your filter does not respond to a horizontal edge."
    return True, ""


@_guarded
def is_diagonal_edge_filter(value: object, **_: Any) -> tuple[bool, str]:
    """A 2x2 or 3x3 filter that detects diagonal edges: silent on a flat image and on edges
    along one diagonal, responding to edges along the other. Either diagonal, any sign and
    scale: Roberts' cross, its flip, diagonal Sobel kernels all pass; horizontal or vertical
    edge filters (which respond to both diagonals) fail."""
    kernel, problem = _read_filter(value, [(2, 2), (3, 3)])
    if kernel is None:
        return False, problem
    kernel = _normalised(kernel)
    if kernel is None:
        return False, "An all-zero filter responds to nothing."
    if _response(kernel, "flat") > SILENT:
        return False, (
            "Your filter responds to a flat (constant) image, so it reports edges "
            "where there are none: an edge filter's entries sum to 0."
        )
    slash, backslash = _response(kernel, "antidiagonal"), _response(kernel, "diagonal")
    if (slash <= SILENT and backslash > FIRES) or (backslash <= SILENT and slash > FIRES):
        return True, ""
    if slash <= SILENT and backslash <= SILENT:
        return False, "Your filter does not respond to diagonal edges."
    return False, (
        "Your filter responds to edges along both diagonals, like a horizontal or "
        "vertical edge filter does; a diagonal edge filter differentiates along one "
        "diagonal, so it is silent on edges running along the other."
    )


def _shift_probe() -> np.ndarray:
    """A fixed 7x9 image of distinct integers: any mix-up of directions shows."""
    return np.random.default_rng(413).permutation(63).reshape(7, 9).astype(float)


SHIFTS = {
    "left": (1, 2),
    "right": (1, 0),
    "up": (2, 1),
    "down": (0, 1),
    "nowhere": (1, 1),
}
"""Where a 3x3 window's output pixel out[r, c] reads image[r + dr, c + dc] for each effect:
a left shift (out[r, c] = image[r, c + 1] in 'same' coordinates) reads one column to the right
of the window's centre (1, 1)."""


def _shifted(image: np.ndarray, direction: str) -> np.ndarray:
    """What a 3x3 cross-correlation without padding outputs if it moves `image` this way."""
    rows, cols = image.shape[0] - 2, image.shape[1] - 2
    dr, dc = SHIFTS[direction]
    return image[dr : dr + rows, dc : dc + cols]


@_guarded
def is_left_shift_filter(value: object, **_: Any) -> tuple[bool, str]:
    """A 3x3 filter that, applied by cross-correlation, moves the image one pixel to the left:
    out[r, c] = image[r, c + 1], values unchanged. The flipped filter (the left shift under
    true convolution) moves the image right and fails, with feedback naming the convention."""
    kernel, problem = _read_filter(value, [(3, 3)])
    if kernel is None:
        return False, problem
    image = _shift_probe()
    out = correlate_valid(image, kernel)
    for direction in SHIFTS:
        target = _shifted(image, direction)
        if np.allclose(out, target, rtol=0, atol=1e-9):
            break
        scale = float(np.sum(out * target) / np.sum(target * target))
        if np.allclose(out, scale * target, rtol=0, atol=1e-9) and abs(scale) > 1e-9:
            return False, (
                f"Your filter moves the image {_moves(direction)} but multiplies "
                f"every value by {scale:.6g}; a shift keeps the values (the "
                "non-zero entry must be 1)."
            )
    else:
        return False, "Your filter does not move the image by one pixel: it mixes pixels."
    if direction == "left":
        return True, ""
    if direction == "right":
        return False, (
            "Applied as cross-correlation (the stated convention, as in "
            "torch.nn.functional.conv2d), your filter moves the image one pixel to "
            "the RIGHT. It would move it left only under true convolution, which "
            "flips the kernel: the 1 belongs on the right of the centre."
        )
    return False, f"Your filter moves the image {_moves(direction)}, not one pixel to the left."


def _moves(direction: str) -> str:
    return "nowhere (it is the identity)" if direction == "nowhere" else f"one pixel {direction}"


# ---------------------------------------------------------------------------------------------
# Q1(e)-(f): the encoder-decoder and its skip connection
# ---------------------------------------------------------------------------------------------


class Layer(NamedTuple):
    """One layer of the 1(e) network: a Conv2d ("conv") or ConvTranspose2d ("transposed")."""

    name: str
    kind: str
    out_channels: int
    kernel: int
    stride: int
    padding: int
    output_padding: int = 0


ENCODER_DECODER_INPUT = (10, 1, 32, 32)
ENCODER_DECODER = (
    Layer("a", "conv", 16, kernel=3, stride=1, padding=1),
    Layer("b", "conv", 32, kernel=3, stride=2, padding=1),
    Layer("c", "conv", 128, kernel=3, stride=2, padding=1),
    Layer("d", "conv", 16, kernel=1, stride=1, padding=0),
    Layer("e", "transposed", 8, kernel=3, stride=2, padding=1, output_padding=1),
    Layer("f", "transposed", 1, kernel=3, stride=2, padding=1, output_padding=1),
)
"""1(e), reconstructed: midterm.md gives only the shapes, so the layers are the common choices
that produce exactly them (3x3 'same' convs, stride 2 to halve; a 1x1 conv to 16 channels;
3x3 stride-2 transposed convs with padding 1 and output_padding 1 to double)."""

ENCODER_DECODER_LABELS = tuple(layer.name for layer in ENCODER_DECODER)
SKIP_LAYERS = ("e", "b")
"""1(f), reconstructed: the decoder's 16x16 output (layer e) is concatenated with the encoder's
16x16 feature map (layer b) along channels, as in a U-Net."""


def transposed_conv_size(
    size: int, kernel: int, padding: int, stride: int, output_padding: int
) -> int:
    """(size - 1) stride - 2 padding + kernel + output_padding."""
    return (size - 1) * stride - 2 * padding + kernel + output_padding


def _walk(transposed_rule: Callable[[int, Layer], int]) -> list[list[int]]:
    """Each layer's output shape, with `transposed_rule(size, layer)` for transposed convs."""
    batch, _, height, width = ENCODER_DECODER_INPUT
    shapes = []
    for layer in ENCODER_DECODER:
        if layer.kind == "conv":
            height, width = (
                conv_size(size, layer.kernel, layer.padding, layer.stride)
                for size in (height, width)
            )
        else:
            height, width = (transposed_rule(size, layer) for size in (height, width))
        shapes.append([batch, layer.out_channels, height, width])
    return shapes


def encoder_decoder_shapes() -> list[list[int]]:
    """1(e): [10,16,32,32], [10,32,16,16], [10,128,8,8], [10,16,8,8], [10,8,16,16], [10,1,32,32]."""
    return _walk(
        lambda size, layer: transposed_conv_size(
            size, layer.kernel, layer.padding, layer.stride, layer.output_padding
        )
    )


def encoder_decoder_shapes_transposed_as_conv() -> list[list[int]]:
    """The 'transposed conv computed with the conv formula' mistake: e and f shrink (4, 2)."""
    return _walk(lambda size, layer: conv_size(size, layer.kernel, layer.padding, layer.stride))


def encoder_decoder_shapes_without_output_padding() -> list[list[int]]:
    """The 'forgot output_padding' mistake: e gives 15 instead of 16, and f, from 15, gives 29."""
    return _walk(
        lambda size, layer: transposed_conv_size(size, layer.kernel, layer.padding, layer.stride, 0)
    )


def _shape_of(name: str, shapes: list[list[int]]) -> list[int]:
    return shapes[ENCODER_DECODER_LABELS.index(name)]


def skip_concat_shape() -> list[int]:
    """1(f): layer e's [10, 8, 16, 16] and layer b's [10, 32, 16, 16] concatenated along
    channels: [10, 40, 16, 16]. Channels add; batch and spatial sizes must agree."""
    first, second = (_shape_of(name, encoder_decoder_shapes()) for name in SKIP_LAYERS)
    if first[0] != second[0] or first[2:] != second[2:]:
        raise ValueError("only maps of equal batch and spatial size can be concatenated")
    return [first[0], first[1] + second[1], *first[2:]]


def skip_concat_shape_kept_channels() -> list[int]:
    """The 'skip connection as a sum' mistake: the decoder's own [10, 8, 16, 16]."""
    return list(_shape_of(SKIP_LAYERS[0], encoder_decoder_shapes()))


# ---------------------------------------------------------------------------------------------
# Q1(h): receptive fields
# ---------------------------------------------------------------------------------------------

EXAM_RECEPTIVE_STACK = {"kernel_sizes": [3, 3, 3], "strides": [2, 2, 2]}


def receptive_field(kernel_sizes: Sequence[int], strides: Sequence[int]) -> list[int]:
    """Receptive field after each layer: r_L = r_{L-1} + (k_L - 1) prod_{i<L} s_i, r_0 = 1."""
    fields, field, jump = [], 1, 1
    for kernel, stride in zip(kernel_sizes, strides, strict=True):
        field += (int(kernel) - 1) * jump
        jump *= int(stride)
        fields.append(field)
    return fields


def receptive_field_ignoring_strides(
    kernel_sizes: Sequence[int], strides: Sequence[int]
) -> list[int]:
    """The 'strides do not matter' mistake: r_L = 1 + sum (k_i - 1)."""
    return receptive_field(kernel_sizes, [1] * len(kernel_sizes))


def receptive_field_current_stride(
    kernel_sizes: Sequence[int], strides: Sequence[int]
) -> list[int]:
    """The off-by-one mistake: r_L = r_{L-1} + (k_L - 1) prod_{i<=L} s_i (the layer's own
    stride included, although it only spaces out the layers after it)."""
    fields, field, jump = [], 1, 1
    for kernel, stride in zip(kernel_sizes, strides, strict=True):
        jump *= int(stride)
        field += (int(kernel) - 1) * jump
        fields.append(field)
    return fields


def receptive_field_from_zero(kernel_sizes: Sequence[int], strides: Sequence[int]) -> list[int]:
    """The 'r_0 = 0' mistake: the recursion started from no pixel instead of one, so every field
    is one too small (a 1x1 kernel would see nothing)."""
    return [field - 1 for field in receptive_field(kernel_sizes, strides)]


def receptive_field_cases(rng: np.random.Generator) -> dict[str, Any]:
    """2 to 6 layers, kernels 1-7, strides 1-3 (Python ints); drawn again until every mistake
    gives an answer different from the right one and from each other (all strides 1, or kernels
    of 1 after every stride, would hide them)."""
    while True:
        layers = int(rng.integers(2, 7))
        case = {
            "kernel_sizes": [int(k) for k in rng.integers(1, 8, size=layers)],
            "strides": [int(s) for s in rng.integers(1, 4, size=layers)],
        }
        answers = {
            tuple(f(**case))
            for f in (
                receptive_field,
                receptive_field_ignoring_strides,
                receptive_field_current_stride,
                receptive_field_from_zero,
            )
        }
        if len(answers) == 4:
            return case


def exam_receptive_fields() -> list[int]:
    """1(h): three layers with k = 3, s = 2: [3, 7, 15]."""
    return receptive_field(**EXAM_RECEPTIVE_STACK)


def exam_receptive_fields_ignoring_strides() -> list[int]:
    """[3, 5, 7]."""
    return receptive_field_ignoring_strides(**EXAM_RECEPTIVE_STACK)


def exam_receptive_fields_current_stride() -> list[int]:
    """[5, 13, 29]."""
    return receptive_field_current_stride(**EXAM_RECEPTIVE_STACK)


def exam_receptive_fields_from_zero() -> list[int]:
    """[2, 6, 14]."""
    return receptive_field_from_zero(**EXAM_RECEPTIVE_STACK)


# ---------------------------------------------------------------------------------------------
# Q2(a): which learning rate is too high
# ---------------------------------------------------------------------------------------------

LEARNING_RATES = (0.001, 0.01, 0.1, 1.0)
"""2(a), reconstructed: the learning rates whose loss curves the exam showed. The curves are
gradient descent on LR_PROBLEM for LR_STEPS steps."""
LR_STEPS = 50


def lr_option(lr: float) -> str:
    """The option text of a learning rate: '0.001', '0.01', '0.1', '1'."""
    return f"{lr:g}"


@functools.cache
def lr_problem() -> tuple[np.ndarray, np.ndarray]:
    """A fixed regression problem (50 examples, features with standard deviations 1.5 and 0.5),
    loss (1/n) ||X w - t||^2: its Hessian (2/n) X^T X has eigenvalues near 4.5 and 0.5."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((50, 2)) * np.array([1.5, 0.5])
    t = X @ np.array([2.0, -1.0]) + 0.1 * rng.standard_normal(50)
    return X, t


def loss_curve(lr: float, steps: int = LR_STEPS) -> np.ndarray:
    """The loss before each of `steps` gradient-descent steps from w = 0, and after the last."""
    X, t = lr_problem()
    w = np.zeros(X.shape[1])
    losses = []
    for _ in range(steps + 1):
        residual = X @ w - t
        losses.append(float(residual @ residual) / len(t))
        w = w - lr * 2.0 / len(t) * (X.T @ residual)
    return np.array(losses)


def lr_too_high() -> str:
    """The one learning rate whose loss ends above where it started (it diverges)."""
    diverging = [lr for lr in LEARNING_RATES if loss_curve(lr)[-1] > loss_curve(lr)[0]]
    if len(diverging) != 1:
        raise ValueError(f"expected exactly one diverging learning rate, got {diverging}")
    return lr_option(diverging[0])


def lr_slowest() -> str:
    """The 'too low taken for too high' mistake: the learning rate whose loss falls least."""
    converging = [lr for lr in LEARNING_RATES if loss_curve(lr)[-1] <= loss_curve(lr)[0]]
    return lr_option(max(converging, key=lambda lr: loss_curve(lr)[-1]))


# ---------------------------------------------------------------------------------------------
# Q2(b): the missing optimizer.zero_grad()
# ---------------------------------------------------------------------------------------------


@functools.cache
def harness() -> ModuleType:
    """reference/midterm_harness.py, imported by path: the same code the sandbox runs, so the
    reference trains exactly the model the student's train_step trains."""
    spec = importlib.util.spec_from_file_location("midterm_harness_trusted", HARNESS_PATH)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {HARNESS_PATH}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _mse(model: Any, x: Any, y: Any) -> Any:
    import torch.nn.functional as F

    return F.mse_loss(model(x), y)


class PlainSGD:
    """torch.optim.SGD(params, lr) with its defaults (no momentum, dampening, weight decay or
    Nesterov; zero_grad sets gradients to None), written out: the same float32 updates, without
    torch.optim. The optimizer's first use imports torch's compiler stack (torch._dynamo and
    sympy, 1.1 to 1.6 s), which the trusted process would pay on every `grader grade`; the
    sandboxed child still trains with the real torch.optim.SGD, warmed in the zygote."""

    def __init__(self, params: Any, lr: float) -> None:
        self.params = list(params)
        self.lr = lr

    def zero_grad(self) -> None:
        for parameter in self.params:
            parameter.grad = None

    def step(self) -> None:
        import torch

        with torch.no_grad():
            for parameter in self.params:
                if parameter.grad is not None:
                    parameter.add_(parameter.grad, alpha=-self.lr)


def correct_train_step(model: Any, optimizer: Any, x: Any, y: Any) -> None:
    """zero_grad, forward, MSE loss (mean over all entries), backward, step."""
    optimizer.zero_grad()
    _mse(model, x, y).backward()
    optimizer.step()


def train_step_without_zero_grad(model: Any, optimizer: Any, x: Any, y: Any) -> None:
    """The exam's bug: gradients of every step add up in .grad, so step 2 uses g1 + g2."""
    _mse(model, x, y).backward()
    optimizer.step()


def train_step_zero_grad_before_step(model: Any, optimizer: Any, x: Any, y: Any) -> None:
    """A wrong fix: zero_grad between backward and step wipes the gradient, nothing moves."""
    _mse(model, x, y).backward()
    optimizer.zero_grad()
    optimizer.step()


def train_steps(seed: int, lr: float) -> list[np.ndarray]:
    """2(b): the parameters after two correct training steps (what the harness returns)."""
    return harness().run_train_steps(correct_train_step, seed, lr, PlainSGD)


def train_steps_without_zero_grad(seed: int, lr: float) -> list[np.ndarray]:
    """The parameters when zero_grad is missing."""
    return harness().run_train_steps(train_step_without_zero_grad, seed, lr, PlainSGD)


def train_steps_zero_grad_before_step(seed: int, lr: float) -> list[np.ndarray]:
    """The parameters when zero_grad comes between backward and step (the initial ones)."""
    return harness().run_train_steps(train_step_zero_grad_before_step, seed, lr, PlainSGD)


def train_step_cases(rng: np.random.Generator) -> dict[str, Any]:
    """A model seed and a learning rate in [0.01, 0.5], as Python scalars."""
    return {"seed": int(rng.integers(0, 2**31 - 1)), "lr": float(rng.uniform(0.01, 0.5))}


# ---------------------------------------------------------------------------------------------
# Q3: select all that apply (reconstructed)
# ---------------------------------------------------------------------------------------------

SELECT_ALL_STATEMENTS = {
    "A": "A 3x3 convolution with stride 1 and zero padding 1 keeps the height and width of its "
    "input.",
    "B": "A max-pooling layer has learnable parameters.",
    "C": "Two stacked 3x3 convolutions with stride 1 have the same receptive field as one 5x5 "
    "convolution.",
    "D": "Two stacked 3x3 convolutions (C channels in and out, no biases) have fewer weights "
    "than one 5x5 convolution with C channels in and out.",
    "E": "loss.backward() overwrites the gradients of the previous call, so "
    "optimizer.zero_grad() is optional.",
    "F": "A 1x1 convolution cannot change the number of channels.",
    "G": "With a learning rate that is too high, the training loss can increase or oscillate.",
}
"""Q3, reconstructed (midterm.md gives no question text): "Select all that apply." Each
statement is decided by a computation in select_all_truths, not by hand."""


def select_all_truths() -> dict[str, bool]:
    """Whether each Q3 statement is true, computed (torch for parameter counts and autograd)."""
    import torch

    channels = 16
    conv3 = torch.nn.Conv2d(channels, channels, 3, bias=False)
    conv5 = torch.nn.Conv2d(channels, channels, 5, bias=False)
    weights = sum(p.numel() for p in conv3.parameters())
    pooled = sum(p.numel() for p in torch.nn.MaxPool2d(2).parameters())
    w = torch.ones(3, requires_grad=True)
    for _ in range(2):
        (2 * w).sum().backward()
    pointwise = torch.nn.Conv2d(128, 16, 1)(torch.zeros(1, 128, 4, 4))
    return {
        "A": conv_size(28, 3, 1, 1) == 28 and conv_size(13, 3, 1, 1) == 13,
        "B": pooled > 0,
        "C": receptive_field([3, 3], [1, 1])[-1] == receptive_field([5], [1])[-1],
        "D": 2 * weights < sum(p.numel() for p in conv5.parameters()),
        "E": bool(torch.all(w.grad == 2)),  # two backward calls give 4: they accumulate
        "F": pointwise.shape[1] == 128,
        "G": any(loss_curve(lr)[-1] > loss_curve(lr)[0] for lr in LEARNING_RATES),
    }


def select_all_answer() -> list[str]:
    """The letters of the true statements: A, C, D, G."""
    return sorted(letter for letter, true in select_all_truths().items() if true)


# ---------------------------------------------------------------------------------------------
# Q7: preconditioned SGD and its limit
# ---------------------------------------------------------------------------------------------

Q7_X = (1.0, 0.1, 0.01)
Q7_Y = 1.0


def preconditioned_step(
    theta: np.ndarray, x: np.ndarray, y: float, alpha: float, M: np.ndarray
) -> np.ndarray:
    """theta - alpha M grad f(theta) with f = (y - x^T theta)^2, grad f = -2 (y - x^T theta) x."""
    theta, x, M = (np.asarray(a, dtype=float) for a in (theta, x, M))
    gradient = -2.0 * (y - x @ theta) * x
    return theta - alpha * M @ gradient


def preconditioned_step_without_factor_two(
    theta: np.ndarray, x: np.ndarray, y: float, alpha: float, M: np.ndarray
) -> np.ndarray:
    """The 'gradient without its factor 2' mistake: -(y - x^T theta) x."""
    theta, x, M = (np.asarray(a, dtype=float) for a in (theta, x, M))
    return theta + alpha * M @ ((y - x @ theta) * x)


def preconditioned_step_ignoring_M(
    theta: np.ndarray, x: np.ndarray, y: float, alpha: float, M: np.ndarray
) -> np.ndarray:
    """The 'plain SGD' mistake: the preconditioner is left out."""
    return preconditioned_step(theta, x, y, alpha, np.eye(len(np.asarray(x))))


def preconditioned_step_ascent(
    theta: np.ndarray, x: np.ndarray, y: float, alpha: float, M: np.ndarray
) -> np.ndarray:
    """The sign mistake: theta + alpha M grad f climbs the loss."""
    theta = np.asarray(theta, dtype=float)
    return 2 * theta - preconditioned_step(theta, x, y, alpha, M)


def preconditioned_step_elementwise_M(
    theta: np.ndarray, x: np.ndarray, y: float, alpha: float, M: np.ndarray
) -> np.ndarray:
    """The 'M * grad' mistake: an element-wise product, which numpy broadcasts across M's rows
    into a d x d matrix, where the preconditioner acts by the matrix product M @ grad."""
    theta, x, M = (np.asarray(a, dtype=float) for a in (theta, x, M))
    gradient = -2.0 * (y - x @ theta) * x
    return theta - alpha * (M * gradient)


def _limit(x: np.ndarray, y: float, M: np.ndarray) -> np.ndarray:
    """M x (x^T M x)^-1 y: iterates from 0 stay on the line through M x, and the limit solves
    x^T theta = y."""
    x, M = np.asarray(x, dtype=float), np.asarray(M, dtype=float)
    direction = M @ x
    return direction * (y / float(x @ direction))


def preconditioned_limit(
    x: np.ndarray, y: float, alpha: float, M: np.ndarray, steps: int
) -> np.ndarray:
    """Where preconditioned SGD from theta_0 = 0 ends: M x (x^T M x)^-1 y, whatever the
    (converging) alpha and however many steps; the cases choose alpha so that `steps` steps
    reach the limit to float64 precision."""
    return _limit(x, y, M)


def min_norm_limit(x: np.ndarray, y: float, alpha: float, M: np.ndarray, steps: int) -> np.ndarray:
    """The 'preconditioner ignored' mistake: plain SGD's limit, x y / ||x||^2."""
    x = np.asarray(x, dtype=float)
    return _limit(x, y, np.eye(len(x)))


def _random_preconditioner(rng: np.random.Generator, size: int) -> np.ndarray:
    """A symmetric positive-definite M: diagonal with entries in [0.1, 10], or a full one."""
    if rng.random() < 0.5:
        return np.diag(10.0 ** rng.uniform(-1, 1, size=size))
    A = rng.standard_normal((size, size))
    return A @ A.T / size + 0.1 * np.eye(size)


def preconditioned_step_cases(rng: np.random.Generator) -> dict[str, Any]:
    """theta, x (length 2-5), y, alpha in [0.01, 0.5] and an SPD M; the residual y - x^T theta
    is kept away from 0, so every mistake (a factor 2 or M dropped, the sign flipped) shows."""
    while True:
        size = int(rng.integers(2, 6))
        case = {
            "theta": rng.standard_normal(size),
            "x": rng.standard_normal(size),
            "y": float(rng.standard_normal()),
            "alpha": float(rng.uniform(0.01, 0.5)),
            "M": _random_preconditioner(rng, size),
        }
        if abs(case["y"] - case["x"] @ case["theta"]) > 0.1:
            return case


def preconditioned_limit_cases(rng: np.random.Generator) -> dict[str, Any]:
    """x (length 2-5), y and an SPD M, with a step size and step count that make plain SGD
    converge too, so a student who ignores M is recognised rather than merely diverging.

    Each step multiplies the residual y - x^T theta by 1 - 2 alpha x^T M x (1 - 2 alpha x^T x
    without M). alpha = c / (2 max(x^T M x, x^T x)), c in [0.2, 0.9], keeps both factors in
    [0, 1); x^T M x / x^T x is kept in [0.2, 5], and `steps` is chosen so that even a step half
    as long as it should be (the factor-2 mistake) shrinks the residual below 1e-13. Cases whose
    limit is within 1e-3 of plain SGD's are drawn again, so ignoring M always shows.
    """
    while True:
        size = int(rng.integers(2, 6))
        x = rng.standard_normal(size)
        M = _random_preconditioner(rng, size)
        curvatures = (float(x @ M @ x), float(x @ x))
        if not 0.2 <= curvatures[0] / curvatures[1] <= 5.0:
            continue
        alpha = float(rng.uniform(0.2, 0.9) / (2.0 * max(curvatures)))
        slowest = 1.0 - alpha * min(curvatures)
        case = {
            "x": x,
            "y": float(rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 2.0)),
            "alpha": alpha,
            "M": M,
            "steps": math.ceil(math.log(1e-13) / math.log(slowest)),
        }
        right, plain = preconditioned_limit(**case), min_norm_limit(**case)
        if np.linalg.norm(right - plain) > 1e-3 * np.linalg.norm(right):
            return case


def limit_identity() -> np.ndarray:
    """M = I: the min-norm solution x / ||x||^2 = [1, 0.1, 0.01] / 1.0101."""
    return _limit(Q7_X, Q7_Y, np.eye(3))


def limit_diag_abs() -> np.ndarray:
    """M = diag(1 / |x_i|) = diag(1, 10, 100): along M x = [1, 1, 1], so [1, 1, 1] / 1.11."""
    return _limit(Q7_X, Q7_Y, np.diag(1.0 / np.abs(Q7_X)))


def limit_diag_abs_rescaled_problem() -> np.ndarray:
    """The 'solved [1, 1, 1] theta = 1 instead' mistake: [1, 1, 1] / 3, on the right line M x =
    [1, 1, 1] but not on the equation (x^T theta = 0.37)."""
    direction = np.diag(1.0 / np.abs(Q7_X)) @ np.asarray(Q7_X)
    return _limit(direction, Q7_Y, np.eye(len(direction)))


def limit_rescaled() -> np.ndarray:
    """Rescaling theta_bar_i = x_i theta_i: [1, 1, 1] theta_bar = 1 has min-norm solution
    theta_bar = [1, 1, 1] / 3; mapped back theta_i = theta_bar_i / x_i = [1, 10, 100] / 3.
    Computed that way here; the tests check it equals the M = diag(1 / x_i^2) limit."""
    x = np.asarray(Q7_X)
    ones = np.ones_like(x)
    theta_bar = _limit(ones, Q7_Y, np.eye(len(x)))
    return theta_bar / x


def limit_rescaled_answer_sheet_mistake() -> np.ndarray:
    """The real wrong answer from the answer sheet: [1, 100, 1000] / 3 (x^T theta = 7, not 1)."""
    return np.array([1.0, 100.0, 1000.0]) / 3.0


def limit_rescaled_not_mapped_back() -> np.ndarray:
    """theta_bar = [1, 1, 1] / 3, the rescaled problem's solution left in rescaled coordinates."""
    x = np.asarray(Q7_X)
    return limit_rescaled() * x


def limit_rescaled_without_min_norm_scaling() -> np.ndarray:
    """[1, 10, 100]: theta_bar = [1, 1, 1] mapped back, although [1, 1, 1] theta_bar = 3, not 1
    (the min-norm solution's 1 / ||[1, 1, 1]||^2 = 1/3 left out)."""
    x = np.asarray(Q7_X)
    return np.ones_like(x) / x


NONUNIFORM_X = ((1.0, 2.0, 0.0, -1.0), (0.0, 1.0, 1.0, 2.0))
NONUNIFORM_Y = (1.0, -2.0)
NONUNIFORM_P = (0.85, 0.15)


def nonuniform_sampling_finds_min_norm() -> str:
    """'yes' when SGD that samples row i with probability p_i (constant step, theta_0 = 0)
    ends at the min-norm solution X^T (X X^T)^-1 y of an underdetermined system."""
    X, y = np.array(NONUNIFORM_X), np.array(NONUNIFORM_Y)
    rng = np.random.default_rng(7)
    alpha = 0.25 / float(np.max(np.sum(X * X, axis=1)))
    theta = np.zeros(X.shape[1])
    for i in rng.choice(len(y), size=3000, p=NONUNIFORM_P):
        theta = theta + alpha * 2.0 * (y[i] - X[i] @ theta) * X[i]
    min_norm = X.T @ np.linalg.solve(X @ X.T, y)
    return "yes" if np.allclose(theta, min_norm, rtol=0, atol=1e-9) else "no"
