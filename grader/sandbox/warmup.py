"""Warm-ups: the preloaded libraries brought to the state student code needs, before the fork.

Importing torch is not enough. In a process that has imported it, the first `nn.Linear`, the
first optimizer and the first backward step load lazily imported modules and fill dispatch
tables: about a second (a part that runs a student's training step paid it in every forked
child, twice when hidden cases got their own child), against 7 ms for the second step. numpy's
linear algebra and random generators have a smaller first-use cost of the same kind. The zygote
runs the warm-up of each library it preloaded once, and every child it forks inherits it.

A warm-up is the same for every assignment: it touches library code paths on tiny synthetic
data drawn from a fixed seed, never a course file, an answer or a student's data, and it leaves
nothing behind but the libraries' own caches (the zygote reseeds the generators afterwards).
torch is set back to one thread at the end; the zygote then counts its threads and refuses to
fork if there is more than one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable


def warm_numpy() -> None:
    """Linear algebra (LAPACK's first call sets up its workspace) and both random APIs."""
    numpy = importlib.import_module("numpy")
    generator = numpy.random.default_rng(0)
    matrix = generator.standard_normal((4, 4)) + 4 * numpy.eye(4)
    vector = numpy.random.RandomState(0).standard_normal(4)
    numpy.linalg.solve(matrix, vector)
    numpy.linalg.lstsq(matrix, vector, rcond=None)
    numpy.linalg.pinv(matrix)
    numpy.linalg.eigh(matrix + matrix.T)
    numpy.linalg.svd(matrix)
    numpy.linalg.inv(matrix)
    numpy.linalg.norm(matrix)
    numpy.convolve(vector, vector)
    numpy.einsum("ij,j->i", matrix, vector)


def warm_torch() -> None:
    """nn layers, losses, optimizers, autograd and the numpy bridge, each used once or twice
    (some costs only show on the second optimizer step), then one thread again."""
    torch = importlib.import_module("torch")
    torch.set_num_threads(1)
    functional = torch.nn.functional
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = torch.nn.Sequential(
            torch.nn.Conv2d(1, 2, 3, padding=1),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
            torch.nn.Flatten(),
            torch.nn.Linear(8, 3),
        )
        images, labels = torch.randn(4, 1, 4, 4), torch.tensor([0, 1, 2, 0])
        for optimizer in (
            torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
            torch.optim.Adam(model.parameters(), lr=0.01),
        ):
            for _ in range(2):
                optimizer.zero_grad()
                logits = model(images.clone())
                loss = functional.cross_entropy(logits, labels) + functional.mse_loss(
                    torch.sigmoid(logits), torch.zeros_like(logits)
                )
                loss.backward()
                optimizer.step()
        with torch.no_grad():
            functional.conv2d(images, torch.ones(1, 1, 3, 3), stride=2, padding=1)
            functional.conv_transpose2d(images, torch.ones(1, 1, 2, 2), stride=2)
        tensor = torch.from_numpy(model[-1].weight.detach().numpy().copy())
        torch.autograd.grad((tensor.requires_grad_() ** 2).sum(), tensor)
    torch.set_num_threads(1)


WARM_UPS: dict[str, Callable[[], None]] = {"numpy": warm_numpy, "torch": warm_torch}
"""Library name -> its warm-up. A preloaded library without one is imported only."""


def warm(loaded: list[str]) -> tuple[list[str], dict[str, str]]:
    """Run the warm-up of each loaded library that has one: the libraries warmed, and why
    each other warm-up failed (a failed warm-up costs children time, never correctness)."""
    warmed, failed = [], {}
    for name in loaded:
        warm_up = WARM_UPS.get(name)
        if warm_up is None:
            continue
        try:
            warm_up()
            warmed.append(name)
        except Exception as error:
            failed[name] = f"{type(error).__name__}: {error}"
    return warmed, failed
