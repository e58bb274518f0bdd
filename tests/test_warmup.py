"""Warm-ups of preloaded libraries, run in-process: what they report (the zygote runs them)."""

from __future__ import annotations

import pytest

from grader.sandbox import warmup


def test_a_library_without_a_warm_up_is_neither_warmed_nor_failed():
    assert warmup.warm(["json"]) == ([], {})


def test_a_failing_warm_up_is_reported_and_the_others_still_run(monkeypatch):
    def broken() -> None:
        raise RuntimeError("no BLAS")

    ran = []
    monkeypatch.setattr(
        warmup, "WARM_UPS", {"first": broken, "second": lambda: ran.append("second")}
    )
    assert warmup.warm(["first", "second"]) == (["second"], {"first": "RuntimeError: no BLAS"})
    assert ran == ["second"]


def test_the_numpy_warm_up_leaves_the_global_random_state_alone():
    numpy = pytest.importorskip("numpy")
    numpy.random.seed(5)
    expected = numpy.random.random()
    numpy.random.seed(5)
    warmup.warm_numpy()
    assert numpy.random.random() == expected


def test_the_torch_warm_up_leaves_the_global_random_state_alone():
    torch = pytest.importorskip("torch")
    torch.manual_seed(5)
    expected = torch.rand(1).item()
    torch.manual_seed(5)
    warmup.warm_torch()
    assert torch.rand(1).item() == expected
