"""Loading a course's custom test module (gradescope-utils style unittest code) and reading
what it declares, without running any test.

Trusted: the module is course code. Running its tests against a submission is grading's job
(`grader.grading.custom_tests`); validation only needs the declared points.
"""

from __future__ import annotations

import importlib.util
import unittest
from pathlib import Path
from typing import Any

from grader.trusted.reference import ReferenceModule


def all_tests(suite: unittest.TestSuite) -> list[unittest.TestCase]:
    """Every test case of a suite, however deeply unittest nested it."""
    found = []
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            found += all_tests(item)
        else:
            found.append(item)
    return found


def load_test_module(path: Path, reference: ReferenceModule, submission: Any) -> Any:
    """Import the test module and give it its `submission` and `reference` globals."""
    spec = importlib.util.spec_from_file_location(f"grader_custom_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # Set after the body ran, so the module may declare placeholders (`submission = None`).
    vars(module).update(submission=submission, reference=reference.module)
    return module


def declared_points(path: Path, reference: ReferenceModule) -> float:
    """The sum of the module's @weight values, for validating the rubric's `points`."""
    module = load_test_module(path, reference, submission=None)
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    return sum(
        float(getattr(getattr(t, t._testMethodName), "__weight__", 0) or 0)
        for t in all_tests(suite)
    )
