"""TA review of real written sheets through the real CLI: `grader batch` on a class of answer
sheets, then `grader review`, each in a subprocess.

Two students hand in the same OCR sheet (tests/data/writeups/003), whose forward-memory answer
"O(+)" (meant as O(t)) cannot be read surely; a third hands in the typed sheet 000.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.batch.review import group_id, normalise_reading

pytestmark = pytest.mark.sandbox

ROOT = Path(__file__).resolve().parent.parent
GRADER = Path(sys.executable).parent / "grader"
WRITEUPS = ROOT / "tests" / "data" / "writeups"
FORWARD = ("2.1.2", "forward pass computing L_t")
FORWARD_POINTS = 0.25


def grader(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(GRADER), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )


def rows(outdir: Path) -> dict[str, dict[str, str]]:
    with open(outdir / "grades.csv", encoding="utf-8") as handle:
        return {row["name"]: row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("sheets")
    students = root / "class"
    for name, sheet, file in (
        ("amy", "003", "hw2.md"),
        ("ben", "003", "HW2 final.md"),
        ("cat", "000", "hw2.md"),
    ):
        (students / name).mkdir(parents=True)
        shutil.copy(next(WRITEUPS.glob(f"{sheet}_*.txt")), students / name / file)
    outdir = root / "out"
    result = grader(
        "batch", ROOT / "rubrics" / "hw2.yaml", students, "-o", outdir, "--workers", "1"
    )
    assert result.returncode == 0, result.stderr
    assert "await review in" in result.stdout and f"grader review {outdir}" in result.stdout
    return students, outdir


OCR_GROUP = group_id((*FORWARD, normalise_reading("O(+)", fold_case=False)))


def test_the_same_unsure_reading_on_two_sheets_is_one_group_listed_once(graded) -> None:
    _, outdir = graded
    listing = grader("review", outdir).stdout
    assert f"{OCR_GROUP}  {FORWARD[0]} {FORWARD[1]}  2 students  pending" in listing
    assert "read as:  O(+)" in listing


def test_deciding_the_group_counts_its_points_for_both_students_and_survives_a_rerun(
    graded,
) -> None:
    students, outdir = graded
    before = rows(outdir)
    decided = grader("review", outdir, "--decide", OCR_GROUP, "--credit", "1", "--by", "tess")
    assert decided.returncode == 0, decided.stderr
    rerun = grader("batch", ROOT / "rubrics" / "hw2.yaml", students, "-o", outdir, "--workers", "1")
    assert "3 unchanged (skipped)" in rerun.stdout
    after = rows(outdir)
    for name in ("amy", "ben"):
        assert (
            float(after[name]["graded_max"]) == float(before[name]["graded_max"]) + FORWARD_POINTS
        )
        assert float(after[name]["pending"]) == float(before[name]["pending"]) - FORWARD_POINTS
    assert after["cat"] == before["cat"]
