"""CSC413/2516 Homework 2: your answers.

Fill in every function and replace every None with your answer, then check your work with
the kit folder your instructor handed out (its STUDENTS.txt says how to install the grader):
    grader check hw2-kit hw2.py
Conventions: X is an n x d numpy array, t a length-n vector, w0 a length-d vector; the loss is
L(w) = (1/n) ||X w - t||^2 unless a question says otherwise. Use numpy; return numpy arrays or
plain Python numbers. Proofs and explanations go in your written PDF, not here.
"""

import numpy as np

# ---- 1.1 Minimum-norm solution -----------------------------------------------------------


def min_norm_solution(X, t):
    """1.1.1: the minimum-norm solution w* of X w = t (n < d, X has full row rank).

    Returns a length-d numpy array.
    """
    raise NotImplementedError


def sgd(X, t, lr, epochs):
    """1.1.1: run SGD from w0 = 0 and return the final weights (a length-d numpy array).

    Each epoch visits the rows of X in order i = 0, 1, ..., n-1 and takes one step on the
    per-example loss L_i(w) = (x_i^T w - t_i)^2 with learning rate lr.
    """
    raise NotImplementedError


# 1.1.2: does mini-batch SGD from w0 = 0 also find the minimum-norm solution? "yes" or "no"
MINIBATCH_FINDS_MIN_NORM = None

# ---- 1.2 Adaptive methods ----------------------------------------------------------------

# 1.2.1: does AdaGrad (from w0 = 0) find the minimum-norm solution in general? "yes" or "no"
ADAGRAD_FINDS_MIN_NORM = None

# 1.2.1: the point AdaGrad converges to on x1 = [2, 1], t = [2], w0 = [0, 0]: a list of 2 numbers
ADAGRAD_LIMIT = None

# 1.2.2: do RMSprop and Adam find the minimum-norm solution in general? "yes" or "no"
ADAPTIVE_METHODS_FIND_MIN_NORM = None

# ---- 2.1 Computation graph ---------------------------------------------------------------

# 2.1.1: the directed edges of the computation graph of two GD steps, as a set of
# (from, to) pairs. Node names: "w0", "w1", "w2", "L0", "L1", "L2", "eta", and "g0", "g1" for
# the gradients of L0 and L1 with respect to w0 and w1. Example edge: ("w0", "L0").
GRAPH_EDGES = None

# 2.1.2: memory complexity in t, e.g. "O(1)", "O(t)", "O(t^2)"
FORWARD_MEMORY = None    # forward pass computing L_t
BACKPROP_MEMORY = None   # backpropagation computing the hypergradient dL_t/d eta

# 2.1.3: one potential problem of this approach, in one sentence
POTENTIAL_PROBLEM = None

# ---- 2.2 One step of gradient descent ----------------------------------------------------


def gd_step(X, t, w0, eta):
    """2.2.1: w1 after one gradient-descent step from w0 with learning rate eta (numpy array)."""
    raise NotImplementedError


def loss_after_one_step(X, t, w0, eta):
    """2.2.1: L1(eta), the loss at w1, as a float."""
    raise NotImplementedError


def second_derivative_L1(X, t, w0):
    """2.2.2: d^2 L1 / d eta^2 as a float (it does not depend on eta)."""
    raise NotImplementedError


# 2.2.2: is L1 convex in eta? "yes" or "no"
L1_IS_CONVEX = None


def eta_star(X, t, w0):
    """2.2.3: the learning rate minimising L1(eta), as a float."""
    raise NotImplementedError


# ---- 2.3 Many steps ----------------------------------------------------------------------


def loss_after_t_steps(X, t, w0, eta, steps):
    """2.3.1: L_t, the loss after `steps` gradient-descent steps from w0, as a float."""
    raise NotImplementedError


# ---- 3 Convolutional networks ------------------------------------------------------------

# 3.1: I * J (convolution, zero padding 1, stride 1): a 5x5 list of lists or numpy array
I_CONV_J = None

# 3.1: what does the filter J detect? One or two words.
J_DETECTS = None


def conv2d(image, kernel):
    """3.1: 2-D convolution of `image` (H x W) with an odd square `kernel`, zero padding so the
    output is H x W, stride 1. Convolution flips the kernel. Returns an H x W numpy array."""
    raise NotImplementedError


# 3.2: parameters (weights + biases) of each layer, in order:
# Conv3-64, MaxPool, Conv3-128, MaxPool, Conv3-256, Conv3-256, MaxPool, FC-1024, FC-100
PARAMS_PER_LAYER = None   # a list of 9 integers (0 for a pooling layer)
TOTAL_PARAMS = None       # an integer

# 3.2 (2021 variant): neurons (output units) and input connections (weights) of each layer,
# same order as above.
NEURONS_PER_LAYER = None       # a list of 9 integers
CONNECTIONS_PER_LAYER = None   # a list of 9 integers

# 3.3 (2021 variant): receptive field after each layer up to the last pooling layer
# (Conv3-64, MaxPool, Conv3-128, MaxPool, Conv3-256, Conv3-256, MaxPool): a list of 7 integers
RECEPTIVE_FIELDS = None


def receptive_field(kernel_sizes, strides):
    """3.3: the receptive field after each layer of a stack of layers with the given kernel
    sizes and strides (lists of ints), as a list of ints."""
    raise NotImplementedError
