"""A class whose written answers the grader could not read surely, graded by the real batch.

Until a submission format reads written sheets, a class is a plain folder with one file per
student holding how their answer to question 1 was read; a test executor stands in for the
grading workers and answers each task with the GradeResult such a sheet produces (question 1
pending review with that reading, question 2 passed). Everything after grading is the batch's
own: export reading, content hashes and reruns, the SQLite gradebook, grades.csv, report.html
and results/.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from batch_course import write_course
from click.testing import CliRunner, Result

from grader.batch.run import Batch, BatchOptions, BatchSummary
from grader.batch.workers import Task, grade_reply
from grader.cli import main
from grader.grading.results import GradeResult, PartResult, QuestionResult
from grader.grading.status import PASSED, PENDING
from grader.submission.formats.base import Reading

REASON = "read through OCR repairs"


def unsure_answer(shown: str, line: int = 7) -> PartResult:
    """Question 1's only part (2 points), read as `shown` without confidence."""
    return PartResult(
        "the answer",
        2.0,
        PENDING,
        target="ANSWER",
        review=Reading("needs_review", shown, line, f"ANSWER = {shown} (as written)", REASON),
    )


def sheet_result(answer: PartResult) -> GradeResult:
    """A submission of the tiny course: question 1 as given, question 2 right (1 point)."""
    return GradeResult(
        assignment="tiny",
        title="Tiny batch course",
        questions=[
            QuestionResult("1", "A constant", "visible", [answer]),
            QuestionResult(
                "2",
                "A function",
                "visible",
                [PartResult("square", 1.0, PASSED, credit=1.0, target="square")],
            ),
        ],
        seed=1,
        rubric_sha256="r" * 64,
        submission_sha256="s" * 64,
        versions={},
        sandbox={},
    )


class SheetExecutor:
    """Grades each task as the written sheet whose file holds the reading of question 1."""

    count = 1

    def __init__(self) -> None:
        self.graded: list[str] = []

    def spawn(self) -> None:
        pass

    def wait_ready(self) -> list[str]:
        return ["built results"]

    def close(self) -> None:
        pass

    def run(
        self,
        tasks: Iterable[Task],
        timeout: float,
        on_result: Callable[[Task, dict[str, Any], float], None],
    ) -> None:
        for task in tasks:
            self.graded.append(task.submission_id)
            reading = Path(task.path).read_text(encoding="utf-8").strip()
            on_result(task, grade_reply(sheet_result(unsure_answer(reading))), 0.01)


class ReviewClass:
    """A course, a class folder and a batch output folder under `root`."""

    def __init__(self, root: Path, readings: dict[str, str]) -> None:
        self.rubric = write_course(root / "course").rubric
        self.students = root / "class"
        self.students.mkdir()
        self.outdir = root / "out"
        for student, reading in readings.items():
            self.write(student, reading)

    def copy(self, root: Path) -> ReviewClass:
        """The same class and output folder under `root` (the course stays shared), so each
        test can change its own copy of one graded class."""
        copied = object.__new__(ReviewClass)
        copied.rubric = self.rubric
        copied.students = root / "class"
        copied.outdir = root / "out"
        shutil.copytree(self.students, copied.students)
        shutil.copytree(self.outdir, copied.outdir)
        return copied

    def write(self, student: str, reading: str) -> None:
        (self.students / student).write_text(reading + "\n", encoding="utf-8")

    def batch(self, outdir: Path | None = None) -> tuple[BatchSummary, SheetExecutor]:
        executor = SheetExecutor()
        options = BatchOptions(self.rubric, self.students, outdir or self.outdir, workers=1)
        return Batch(options, executor=executor).run(), executor

    def review(self, *args: str | Path, outdir: Path | None = None) -> Result:
        return CliRunner().invoke(
            main, ["review", str(outdir or self.outdir), *map(str, args)], catch_exceptions=False
        )

    def csv_rows(self) -> dict[str, dict[str, str]]:
        import csv

        with open(self.outdir / "grades.csv", encoding="utf-8") as handle:
            return {row["name"]: row for row in csv.DictReader(handle)}

    def results(self, student: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(
            (self.outdir / "results" / f"{student}.json").read_text(encoding="utf-8")
        )
        return data
