"""The steps a newcomer took when the tool was tried fresh (issue 16), each as a test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from batch_course import CORRECT, write_course, write_plain_folder

GRADER = Path(sys.executable).parent / "grader"


def grader(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(GRADER), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.mark.sandbox
def test_batch_runs_from_a_folder_holding_a_decoy_grader_package(tmp_path: Path) -> None:
    # Right after cloning the tool, the current directory holds a folder named `grader`.
    course = write_course(tmp_path / "course")
    source = write_plain_folder(tmp_path / "class", {"alice": CORRECT})
    decoy = tmp_path / "clone" / "grader"
    decoy.mkdir(parents=True)
    (decoy / "batch").mkdir()
    result = grader(
        "batch",
        course.rubric,
        source,
        "-o",
        tmp_path / "out",
        "--workers",
        "1",
        cwd=tmp_path / "clone",
    )
    assert result.returncode == 0, result.stderr
    assert "1 graded" in result.stdout
    assert "ImportError" not in result.stderr
