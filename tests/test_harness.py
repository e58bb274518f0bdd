"""Harnesses: public helper code run inside the sandbox around a student's function."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader.errors import RubricError
from grader.grading.engine import Engine
from grader.rubric.model import load_rubric
from grader.submission.staged import open_submission
from grader.trusted.reference import load_reference

GRADER = str(Path(sys.executable).parent / "grader")

RUBRIC = """
assignment: harnessed
title: Harnessed
total_points: 1
seed: 5
reference: ref.py
harness: harness.py
submission: {entry: answers.py}
questions:
  - number: "1"
    title: Update a counter object
    points: 1
    parts:
      - name: bump
        points: 1
        target: bump
        function:
          args: [times]
          reference: bumped
          harness: run_bumps
          public: [{times: 3}]
          random: {generator: cases, count: 3}
        check: {kind: numeric}
"""

HARNESS = """
class Counter:
    def __init__(self):
        self.value = 0

def run_bumps(bump, times):
    counter = Counter()
    for _ in range(times):
        bump(counter)
    return counter.value
"""

REFERENCE = """
def bumped(times):
    return 2 * times

def cases(rng):
    return {"times": int(rng.integers(1, 10))}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "rubric.yaml").write_text(RUBRIC)
    (tmp_path / "harness.py").write_text(HARNESS)
    (tmp_path / "ref.py").write_text(REFERENCE)
    (tmp_path / "student").mkdir()
    return tmp_path


def grade(folder: Path, student: str):
    (folder / "student" / "answers.py").write_text(textwrap.dedent(student))
    loaded = load_rubric(folder / "rubric.yaml")
    engine = Engine(loaded, load_reference(loaded.reference_path))
    with open_submission(folder / "student", loaded.rubric.submission) as submission:
        return engine.grade(submission)


@pytest.mark.sandbox
def test_the_harness_passes_objects_the_student_function_works_on(folder):
    result = grade(folder, "def bump(counter):\n    counter.value += 2\n")
    assert result.score == 1


@pytest.mark.sandbox
def test_a_wrong_student_function_fails_under_the_harness(folder):
    result = grade(folder, "def bump(counter):\n    counter.value += 1\n")
    assert result.score == 0


@pytest.mark.sandbox
def test_the_student_error_inside_the_harness_shows_the_students_frames(folder):
    result = grade(folder, "def bump(counter):\n    counter.missing += 1\n")
    text = result.questions[0].feedback_text()
    assert "AttributeError" in text and 'File "answers.py", line 2, in bump' in text


@pytest.mark.sandbox
def test_a_broken_harness_is_reported_to_instructors_not_blamed_on_students(folder):
    (folder / "harness.py").write_text("raise RuntimeError('harness bug')\n")
    result = grade(folder, "def bump(counter):\n    counter.value += 2\n")
    assert result.score == 0
    assert "harness" in result.questions[0].feedback_text()
    assert any("harness bug" in error for error in result.internal_errors)


def test_a_harness_function_named_without_a_harness_module_is_a_rubric_error(folder):
    (folder / "rubric.yaml").write_text(RUBRIC.replace("harness: harness.py\n", ""))
    with pytest.raises(
        RubricError,
        match=r"function\.harness names 'run_bumps' but the rubric "
        r"has no `harness` module",
    ):
        load_rubric(folder / "rubric.yaml")


@pytest.mark.sandbox
def test_validate_reports_a_harness_function_that_does_not_exist(folder):
    (folder / "harness.py").write_text("def other(f, n):\n    return n\n")
    done = subprocess.run(
        [GRADER, "validate", str(folder / "rubric.yaml")], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "questions[0].parts[0].function.harness: 'run_bumps' is not a function" in done.stderr


@pytest.mark.sandbox
def test_an_error_raised_by_the_harness_while_it_runs_counts_against_the_submission(folder):
    """The student's process could have sent that reply itself: it is never the grader's
    error (a harness that fails to load is checked in a clean child; see above)."""
    (folder / "harness.py").write_text(
        "def run_bumps(bump, times):\n    bump(object())\n    raise RuntimeError('harness bug')\n"
    )
    result = grade(folder, "def bump(counter):\n    return None\n")
    text = result.questions[0].feedback_text()
    assert "harness around it failed in your submission's process" in text
    assert result.internal_errors == []


@pytest.mark.sandbox
def test_a_student_error_passing_through_the_harness_is_the_students(folder):
    (folder / "harness.py").write_text(
        "def run_bumps(bump, times):\n    try:\n        bump(None)\n"
        "    except AttributeError as error:\n        raise ValueError('wrapped') from error\n"
    )
    result = grade(folder, "def bump(counter):\n    counter.value += 2\n")
    assert "bump raised ValueError" in result.questions[0].feedback_text()
    assert result.internal_errors == []
