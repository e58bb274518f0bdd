"""Shared fixtures for the end-to-end tests: paths, running the real `grader` CLI, the schema.

End-to-end tests run the installed console script in a subprocess, exactly as a TA or the
Gradescope harness would, and read the results.json it writes. The console script lives next to
the interpreter running pytest (`grader.cli` has no `__main__`, so `python -m` cannot be used).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import machine
import pytest
import yaml
from jsonschema import Draft202012Validator

REPO = Path(__file__).resolve().parents[1]
HW2_RUBRIC = REPO / "rubrics" / "hw2.yaml"
EXAMPLES = REPO / "submissions_example" / "hw2"
SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "gradescope-results.schema.json"
GRADER = Path(sys.executable).parent / "grader"

CLI_TIMEOUT = 120
"""Seconds before a hung grader run fails the test instead of hanging the suite."""

_outputs = itertools.count()


class Graded(NamedTuple):
    """One finished `grader grade` run: the parsed results.json, the process, its wall time."""

    results: dict[str, Any]
    process: subprocess.CompletedProcess[str]
    seconds: float


def _run_grader(
    *args: str | Path, timeout: float = CLI_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run the `grader` console script with `args`; never raises on a non-zero exit."""
    assert GRADER.is_file(), f"the grader console script is not installed at {GRADER}"
    # A wide, non-interactive terminal: rich then does not wrap the report mid-sentence, so
    # the tests can look for phrases in stdout.
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [str(GRADER), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=timeout,
        check=False,
    )


def _grade_json(
    rubric: Path, submission: Path, tmp_path: Path, *extra_args: str
) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    """`grader grade RUBRIC SUBMISSION -o OUT [extra_args]`: asserts exit 0 and returns the
    parsed results.json and the CompletedProcess."""
    out = tmp_path / f"results-{next(_outputs)}.json"
    process = _run_grader("grade", rubric, submission, "-o", out, *extra_args)
    assert process.returncode == 0, (
        f"grader exited {process.returncode}\nstdout:\n{process.stdout}\nstderr:\n{process.stderr}"
    )
    return json.loads(out.read_text(encoding="utf-8")), process


def _timed_grade(rubric: Path, submission: Path, tmp_path: Path, *extra_args: str) -> Graded:
    started = time.monotonic()
    results, process = _grade_json(rubric, submission, tmp_path, *extra_args)
    return Graded(results, process, time.monotonic() - started)


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def hw2_rubric() -> Path:
    assert HW2_RUBRIC.is_file()
    return HW2_RUBRIC


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    assert EXAMPLES.is_dir()
    return EXAMPLES


@pytest.fixture(scope="session")
def hw2_yaml() -> dict[str, Any]:
    """The hw2 rubric as plain YAML data, for deriving expected scores in the tests."""
    return yaml.safe_load(HW2_RUBRIC.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def grade_json() -> Callable[..., tuple[dict[str, Any], subprocess.CompletedProcess[str]]]:
    """grade_json(rubric, submission, tmp_path, *extra_args) -> (results.json data, process);
    fails the test unless the grader exits 0."""
    return _grade_json


@pytest.fixture(scope="session")
def timed_grade() -> Callable[..., Graded]:
    """Like grade_json, but returns a Graded that also holds the run's wall-clock seconds."""
    return _timed_grade


@pytest.fixture(scope="session")
def run_grader() -> Callable[..., subprocess.CompletedProcess[str]]:
    """run_grader(*args): the `grader` CLI with any arguments, whatever its exit code."""
    return _run_grader


@pytest.fixture(scope="session")
def schema_validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.fixture(scope="session")
def graded_example(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Graded]:
    """graded_example("mistakes") grades submissions_example/hw2/mistakes once per session and
    returns the same Graded to every test that asks (grading takes about a second each)."""
    cache: dict[str, Graded] = {}

    def get(name: str) -> Graded:
        if name not in cache:
            folder = EXAMPLES / name
            assert folder.is_dir(), f"no example submission {folder}"
            cache[name] = _timed_grade(
                HW2_RUBRIC, folder, tmp_path_factory.mktemp(f"graded-{name}")
            )
        return cache[name]

    return get


# --- users and the interpreter (shared with tests/security; see tests/machine.py) ----------


@pytest.fixture(scope="session")
def interpreter_reachable() -> Iterator[dict[str, int]]:
    """Other users can reach the Python interpreter for this session (root only changes it)."""
    with machine.interpreter_reachable() as changed:
        yield changed


@pytest.fixture(scope="session")
def unprivileged_account(interpreter_reachable: dict[str, int]) -> Iterator[machine.Account]:
    """A real unprivileged user for this session (as root), or the current user."""
    with machine.unprivileged_account() as account:
        yield account
