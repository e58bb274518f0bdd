"""A random case's canonical and mistaken answers are computed when the case is drawn, before the
student's function is called with the same arguments: a reference or a named mistake that
changes its arguments in place (as a TA may write one: `x -= x.mean()`) must change nothing the
student receives, so a right answer keeps full marks."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

RUBRIC = {
    "assignment": "inplace",
    "title": "In-place references",
    "total_points": 1,
    "seed": 7,
    "reference": "reference.py",
    "submission": {"entry": "hw.py", "preload": ["numpy"]},
    "questions": [
        {
            "number": "1",
            "title": "Centre",
            "points": 1,
            "parts": [
                {
                    "name": "twice the deviations",
                    "points": 1,
                    "target": "scaled_centre",
                    "function": {
                        "args": ["x"],
                        "array_args": ["x"],
                        "reference": "scaled_centre",
                        "random": {"generator": "centre_cases", "count": 3},
                    },
                    "check": {"kind": "array", "rtol": 1e-6, "atol": 1e-9},
                    "mistakes": [
                        {
                            "id": "factor",
                            "reference": "forgot_factor",
                            "credit": 0.5,
                            "feedback": "You forgot the factor 2.",
                        }
                    ],
                }
            ],
        }
    ],
}

CASES = """

def centre_cases(rng):
    return {"x": rng.normal(size=int(rng.integers(3, 7)))}
"""
IN_PLACE_MISTAKE = """
def scaled_centre(x):
    return 2 * x - x.mean()


def forgot_factor(x):
    x -= x.mean()
    return x
"""
IN_PLACE_REFERENCE = """
def scaled_centre(x):
    mean = x.mean()
    x *= 2
    x -= mean
    return x


def forgot_factor(x):
    return x - x.mean()
"""


@pytest.mark.sandbox
@pytest.mark.parametrize(
    "reference", [IN_PLACE_MISTAKE, IN_PLACE_REFERENCE], ids=["mistake", "reference"]
)
def test_a_right_answer_gets_full_marks_when_a_trusted_function_changes_its_arguments(
    tmp_path: Path, grade_json, reference: str
) -> None:
    (tmp_path / "reference.py").write_text(reference + CASES)
    (tmp_path / "rubric.yaml").write_text(yaml.safe_dump(RUBRIC))
    submission = tmp_path / "student"
    submission.mkdir()
    (submission / "hw.py").write_text("def scaled_centre(x):\n    return 2 * x - x.mean()\n")
    results, _ = grade_json(tmp_path / "rubric.yaml", submission, tmp_path)
    assert results["score"] == 1
