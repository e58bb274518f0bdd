"""Deep-learning midterm: your answers.

Fill in every function and replace every None with your answer, then check your work with
the kit folder your instructor handed out (its STUDENTS.txt says how to install the grader):
    grader check midterm-kit midterm.py
Shapes are lists of ints such as [32, 128, 26, 26] (tuples and torch.Size are fine too). Use
numpy and torch; return numpy arrays, lists or plain Python numbers.

Conventions used throughout:
- Filters are applied by CROSS-CORRELATION, exactly as torch.nn.functional.conv2d does (the
  kernel is not flipped): out[r, c] = sum_ij K[i, j] * image[r + i, c + j]. Row 0 is the top of
  the image, column 0 its left side. A horizontal edge separates a top region from a bottom one.
- In Q7 the loss of the single equation x^T theta = y is f(theta) = (y - x^T theta)^2, so
  grad f(theta) = -2 (y - x^T theta) x.
"""

# ---- Q1 Convolution arithmetic -------------------------------------------------------------


def conv_output_shape(input_shape, out_channels, kernel, padding, stride):
    """1(a): the output shape of a Conv2d layer (square kernel `kernel`, zero padding `padding`
    on every side, stride `stride`) applied to an input of shape [N, C, H, W].

    Returns [N, out_channels, H_out, W_out] as a list of ints.
    """
    raise NotImplementedError


# 1(a): a batch of 32 single-channel 28x28 images, input shape [32, 1, 28, 28], goes through a
# conv layer with 128 output channels. The output shape (a list of 4 ints) when the layer has
# (i) kernel 3, padding 0, stride 1:
CONV_SHAPE_I = None
# (ii) kernel 4, padding 1, stride 2:
CONV_SHAPE_II = None

# 1(b): a 3x3 filter (nested lists of numbers) that detects horizontal edges: it responds to a
# boundary between a top and a bottom region, and not to flat regions or vertical edges.
HORIZONTAL_EDGE_FILTER = None

# 1(c): a 2x2 or 3x3 filter that detects diagonal edges: it responds to edges running along one
# diagonal, and not to flat regions or to edges along the other diagonal.
DIAGONAL_EDGE_FILTER = None

# 1(d): a 3x3 filter that, applied by cross-correlation (see the conventions above), moves the
# image one pixel to the LEFT without changing its values: out[r, c] = image[r, c + 1].
SHIFT_FILTER = None

# 1(e): an encoder-decoder on an input of shape [10, 1, 32, 32]:
#   a: Conv2d(1, 16, kernel_size=3, stride=1, padding=1)
#   b: Conv2d(16, 32, kernel_size=3, stride=2, padding=1)
#   c: Conv2d(32, 128, kernel_size=3, stride=2, padding=1)
#   d: Conv2d(128, 16, kernel_size=1, stride=1, padding=0)
#   e: ConvTranspose2d(16, 8, kernel_size=3, stride=2, padding=1, output_padding=1)
#   f: ConvTranspose2d(8, 1, kernel_size=3, stride=2, padding=1, output_padding=1)
# The output shape of each layer, in order a to f: a list of 6 shapes.
ENCODER_DECODER_SHAPES = None

# 1(f): a skip connection concatenates the output of layer e with the output of layer b along
# the channel dimension (torch.cat(..., dim=1)). The resulting shape:
SKIP_CONCAT_SHAPE = None


def receptive_field(kernel_sizes, strides):
    """1(h): the receptive field (in input pixels, along one dimension) of a unit after each
    layer of a stack of conv/pool layers with these kernel sizes and strides (lists of ints,
    first layer first). Returns a list of ints, one per layer.
    """
    raise NotImplementedError


# 1(h): the receptive field after each of three layers with kernel 3 and stride 2 (list of 3 ints)
RECEPTIVE_FIELDS_EXAMPLE = None

# ---- Q2 Training diagnostics ---------------------------------------------------------------

# 2(a): the exam's figure shows the training loss of full-batch gradient descent on a linear
# regression (loss (1/n) ||X w - t||^2, two features with standard deviations 1.5 and 0.5, 50
# examples, w starts at 0) for the learning rates 0.001, 0.01, 0.1 and 1. Which learning rate
# is too high? One of the strings "0.001", "0.01", "0.1", "1".
LR_TOO_HIGH = None


def train_step(model, optimizer, x, y):
    """2(b): one step of training, with the bug fixed: compute the mean squared error
    torch.nn.functional.mse_loss(model(x), y), backpropagate it and update the parameters with
    `optimizer` (a torch.optim.SGD over model's parameters).

    The grader calls it twice on a small seeded nn.Linear and compares the parameters after the
    second step. The return value is ignored.
    """
    raise NotImplementedError


# ---- Q3 Select all that apply --------------------------------------------------------------

# Which statements are true? A list of letters, e.g. ["A", "B"].
#   A. A 3x3 convolution with stride 1 and zero padding 1 keeps the height and width of its
#      input.
#   B. A max-pooling layer has learnable parameters.
#   C. Two stacked 3x3 convolutions with stride 1 have the same receptive field as one 5x5
#      convolution.
#   D. Two stacked 3x3 convolutions (C channels in and out, no biases) have fewer weights than
#      one 5x5 convolution with C channels in and out.
#   E. loss.backward() overwrites the gradients of the previous call, so optimizer.zero_grad()
#      is optional.
#   F. A 1x1 convolution cannot change the number of channels.
#   G. With a learning rate that is too high, the training loss can increase or oscillate.
SELECT_ALL = None

# ---- Q7 Optimizers and their convergence ---------------------------------------------------


def preconditioned_step(theta, x, y, alpha, M):
    """7: one step of preconditioned SGD on f(theta) = (y - x^T theta)^2:
    theta - alpha * M @ grad f(theta), with grad f(theta) = -2 (y - x^T theta) x.

    theta and x are length-d numpy arrays, y and alpha numbers, M a d x d numpy array.
    Returns the new theta (a length-d numpy array). The grader also runs your step from
    theta_0 = 0 for many steps and compares where it ends with the exact limit.
    """
    raise NotImplementedError


# 7: preconditioned SGD from theta_0 = 0 on the single equation [1, 0.1, 0.01] theta = 1.
# The point it converges to (a list of 3 numbers) when
# M = I:
LIMIT_IDENTITY = None
# M = diag(1 / |x_i|) = diag(1, 10, 100):
LIMIT_DIAG_ABS = None
# the problem is rescaled with theta_bar_i = x_i theta_i and solved by SGD in theta_bar
# (equivalently M = diag(1 / x_i^2)), mapped back to theta:
LIMIT_RESCALED = None

# 7: SGD on an underdetermined system X theta = y picks row i with probability p_i > 0 (not
# uniformly) at each step, with a constant small step size, from theta_0 = 0. Does it still
# converge to the minimum-norm solution? "yes" or "no"
NONUNIFORM_SAMPLING_FINDS_MIN_NORM = None
