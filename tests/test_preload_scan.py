"""Which preloaded libraries one submission imports: read as text, for `grader grade`'s zygote."""

from __future__ import annotations

import pytest

from grader.submission.preload import imports

PRELOAD = ["numpy", "torch"]


@pytest.mark.parametrize(
    "source",
    [
        "import torch\n",
        "import numpy as np, torch\n",
        "from torch import nn\n",
        "import torch.nn.functional as F\n",
        "def train():\n    import torch\n",
    ],
)
def test_an_import_statement_naming_the_library_preloads_it(source):
    assert "torch" in imports([source], PRELOAD)


@pytest.mark.parametrize(
    "source",
    [
        "# import torch\n",
        "import torchvision\n",
        "NOTE = 'uses torch'\n",
        "x = 1  # from torch import nn\n",
    ],
)
def test_a_mention_outside_an_import_statement_preloads_nothing(source):
    assert imports([source], PRELOAD) == []


def test_a_library_the_rubric_does_not_preload_is_never_named():
    assert imports(["import scipy\nimport numpy\n"], PRELOAD) == ["numpy"]
