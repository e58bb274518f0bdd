"""`grader batch` and `grader regrade-diff` as a TA runs them: the real CLI in a subprocess.

The central promise: killing a batch at any moment (kill -9 included) loses nothing already
graded, leaves no grading process behind, and a rerun grades every remaining submission exactly
once.
"""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batch_course import CORRECT, DOUBLED, HALF_WRONG, write_course, write_plain_folder
from machine import alive

pytestmark = pytest.mark.sandbox

GRADER = Path(sys.executable).parent / "grader"
SLOW_CORRECT = (
    "import time\nANSWER = 0.5\n\ndef square(x):\n    time.sleep(0.3)\n    return x * x\n"
)
STUDENTS = 16


def grader(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(GRADER), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )


def gradings(outdir: Path) -> list[tuple[int, str, str]]:
    path = outdir / "gradebook.sqlite"
    if not path.exists():
        return []
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            return db.execute("SELECT run_id, submission_id, status FROM gradings").fetchall()
    except sqlite3.OperationalError:  # the batch is creating its tables
        return []


def descendants(pid: int) -> set[int]:
    """Every live process started, directly or not, by `pid`."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


@pytest.fixture
def course(tmp_path: Path):
    return write_course(tmp_path / "course")


def test_sigkill_mid_batch_loses_nothing_and_the_rerun_grades_the_rest_exactly_once(
    course, tmp_path: Path
) -> None:
    source = write_plain_folder(
        tmp_path / "class", {f"student{index:02d}": SLOW_CORRECT for index in range(STUDENTS)}
    )
    outdir = tmp_path / "out"
    log = open(tmp_path / "first-run.log", "w")  # noqa: SIM115 - closed below
    batch = subprocess.Popen(
        [
            str(GRADER),
            "batch",
            str(course.rubric),
            str(source),
            "-o",
            str(outdir),
            "--workers",
            "2",
        ],
        stdout=log,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 120
        while len(gradings(outdir)) < 4:
            assert batch.poll() is None, (tmp_path / "first-run.log").read_text()
            assert time.monotonic() < deadline, "the batch graded nothing in 120 s"
            time.sleep(0.05)
        helpers = descendants(batch.pid)
        assert helpers, "the batch should be running workers and zygotes"
        batch.send_signal(signal.SIGKILL)
        batch.wait()
    finally:
        batch.kill()
        log.close()
    first = gradings(outdir)
    assert 4 <= len(first) < STUDENTS, "the kill should land mid-batch"
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in helpers if alive(pid)], "grading processes outlived the batch"

    rerun = grader("batch", course.rubric, source, "-o", outdir, "--workers", "2")
    assert rerun.returncode == 0, rerun.stderr

    every = gradings(outdir)
    graded = [submission for _, submission, status in every if status == "graded"]
    assert sorted(graded) == [f"student{index:02d}" for index in range(STUDENTS)]
    assert every[: len(first)] == first  # nothing graded before the kill was graded again
    assert {run for run, _, _ in every[len(first) :]} == {2}
    with open(outdir / "grades.csv", newline="") as handle:
        totals = [row["total"] for row in csv.DictReader(handle)]
    assert totals == ["3"] * STUDENTS


def test_without_a_terminal_progress_is_one_plain_line_per_submission(
    course, tmp_path: Path
) -> None:
    source = write_plain_folder(tmp_path / "class", {"alice": CORRECT, "bob": DOUBLED})
    result = grader("batch", course.rubric, source, "-o", tmp_path / "out", "--workers", "1")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert lines == [
        "[1/2] alice (alice): graded 3/3 in " + lines[0].split(" in ")[1],
        "[2/2] bob (bob): graded 1.5/3 in " + lines[1].split(" in ")[1],
    ]
    assert "\x1b[" not in result.stderr
    assert "2 submissions: 2 graded, 0 unchanged (skipped), 0 with problems" in result.stdout


def test_a_broken_rubric_stops_the_batch_before_grading_with_the_file_named(
    course, tmp_path: Path
) -> None:
    course.rubric.write_text(course.rubric.read_text().replace("points: 2\n", "points: -2\n", 1))
    source = write_plain_folder(tmp_path / "class", {"alice": CORRECT})
    result = grader("batch", course.rubric, source, "-o", tmp_path / "out")
    assert result.returncode == 2
    assert str(course.rubric) in result.stderr
    assert not (tmp_path / "out" / "gradebook.sqlite").exists()


def test_regrade_diff_lists_exactly_the_students_whose_score_changed(
    course, tmp_path: Path
) -> None:
    before = write_plain_folder(
        tmp_path / "before", {"alice": CORRECT, "bob": HALF_WRONG, "carol": DOUBLED}
    )
    assert grader("batch", course.rubric, before, "-o", tmp_path / "old").returncode == 0
    after = write_plain_folder(
        tmp_path / "after", {"alice": CORRECT, "bob": CORRECT, "carol": DOUBLED}
    )
    assert grader("batch", course.rubric, after, "-o", tmp_path / "new").returncode == 0
    result = grader(
        "regrade-diff", tmp_path / "old", tmp_path / "new", "--csv", tmp_path / "changes.csv"
    )
    assert result.returncode == 0, result.stderr
    assert "1 student with a changed score" in result.stdout
    assert "bob" in result.stdout and "alice" not in result.stdout
    with open(tmp_path / "changes.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [
        (r["name"], r["old_total"], r["new_total"], r["delta"], r["questions_changed"])
        for r in rows
    ] == [("bob", "2", "3", "1", "2: 0 -> 1")]


def test_regrade_diff_of_a_folder_without_a_gradebook_names_it(tmp_path: Path) -> None:
    result = grader("regrade-diff", tmp_path, tmp_path)
    assert result.returncode == 2
    assert f"{tmp_path}: no gradebook.sqlite here" in result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox uid is used as root only")
def test_an_unusable_sandbox_setting_stops_the_batch_before_grading_named(
    course, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_plain_folder(tmp_path / "class", {"alice": CORRECT, "bob": DOUBLED})
    monkeypatch.setenv("GRADER_SANDBOX_UID", "0")
    result = grader("batch", course.rubric, source, "-o", tmp_path / "out", "--workers", "1")
    assert result.returncode == 2
    assert "GRADER_SANDBOX_UID must be" in result.stderr and "Traceback" not in result.stderr
    assert gradings(tmp_path / "out") == []  # no student marked for the machine's fault
