"""`grader batch` over a synthetic Gradescope export: what a TA gets, and what a rerun does.

One export (metadata with Ruby-style keys, nested folders, junk, a group submission, a missing
folder, a zip entry escaping its folder, a crashing submission) is graded once per module; the
tests read the CSV, the gradebook, the per-submission results.json and the report it left.
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pytest
from batch_course import (
    CORRECT,
    DOUBLED,
    HALF_WRONG,
    PATHOLOGICAL,
    Student,
    write_course,
    write_export_zip,
    write_plain_folder,
)

from grader.batch.export import read_export
from grader.batch.gradebook import Gradebook
from grader.batch.run import Batch, BatchOptions, BatchSummary, results_name
from grader.batch.workers import Task, WorkerConfig, WorkerPool

pytestmark = pytest.mark.sandbox

ADA = Student("Ada Lovelace", "0012345", "ada@example.edu")
ALAN = Student("Alan Turing", "0023456", "alan@example.edu")
GRACE = Student("Grace Hopper", "0034567", "grace@example.edu")
KATHERINE = Student("Katherine Johnson", "0045678", "kj@example.edu")
EDSGER = Student("Edsger Dijkstra", "0056789", "ewd@example.edu")
MARGARET = Student("Margaret Hamilton", "0067890", "mh@example.edu")
BARBARA = Student("Barbara Liskov", "0078901", "bl@example.edu")
LINUS = Student("Linus Torvalds", "0089012", "lt@example.edu")


def class_submissions(
    katherine_source: str = HALF_WRONG,
) -> dict[str, tuple[list[Student], dict[str, str]]]:
    return {
        "1001": (
            [ADA],
            {"hw/answers.py": CORRECT, "hw/.DS_Store": "junk", "__MACOSX/hw/._answers.py": "junk"},
        ),
        "1002": ([ALAN, GRACE], {"answers.py": DOUBLED}),
        "1003": ([KATHERINE], {"answers.py": katherine_source}),
        "1004": ([EDSGER], {"answers.py": CORRECT, "../../escaped.py": "print('out')"}),
        "1006": ([BARBARA], {"answers.py": PATHOLOGICAL["crashes"]}),
    }


def export_zip(path: Path, katherine_source: str = HALF_WRONG) -> Path:
    """The class's export. Margaret (1005) is in the metadata but her folder is not; Linus's
    file (1007) is damaged in the zip (its CRC no longer matches)."""
    write_export_zip(
        path,
        class_submissions(katherine_source),
        without_folder={"1005": [MARGARET], "1007": [LINUS]},
    )
    with zipfile.ZipFile(path, "a", zipfile.ZIP_STORED) as archive:
        archive.writestr(
            "assignment_4242_export/submission_1007/answers.py", "DAMAGED_BY_THE_DOWNLOAD = 1\n"
        )
    data = bytearray(path.read_bytes())
    data[data.index(b"DAMAGED_BY_THE_DOWNLOAD")] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def run(rubric: Path, source: Path, outdir: Path, **options: Any) -> BatchSummary:
    return Batch(
        BatchOptions(
            rubric=rubric,
            source=source,
            outdir=outdir,
            workers=options.pop("workers", 2),
            **options,
        )
    ).run()


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory):
    return write_course(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="module")
def graded_class(
    course, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, BatchSummary, Path]:
    folder = tmp_path_factory.mktemp("class")
    source = export_zip(folder / "export.zip")
    outdir = folder / "out"
    return outdir, run(course.rubric, source, outdir), source


def csv_rows(outdir: Path) -> list[dict[str, str]]:
    with open(outdir / "grades.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def query(outdir: Path, sql: str, *args: Any) -> list[tuple]:
    with sqlite3.connect(outdir / "gradebook.sqlite") as db:
        return db.execute(sql, args).fetchall()


# --- one graded export ---------------------------------------------------------------------


def test_grades_csv_has_one_row_per_student_with_group_members_sharing_their_score(
    graded_class,
) -> None:
    outdir, _, _ = graded_class
    rows = {row["name"]: row for row in csv_rows(outdir)}
    assert set(rows) == {
        s.name for s in (ADA, ALAN, GRACE, KATHERINE, EDSGER, MARGARET, BARBARA, LINUS)
    }
    assert rows["Ada Lovelace"]["sid"] == "0012345"  # leading zeros kept
    assert rows["Ada Lovelace"]["email"] == "ada@example.edu"
    assert (
        rows["Ada Lovelace"]["Q1"],
        rows["Ada Lovelace"]["Q2"],
        rows["Ada Lovelace"]["total"],
    ) == ("2", "1", "3")
    for member in ("Alan Turing", "Grace Hopper"):  # 0.25 of 2 for the known mistake, + 1
        assert (rows[member]["submission_id"], rows[member]["total"]) == ("1002", "1.5")
    assert rows["Katherine Johnson"]["total"] == "2"
    assert rows["Edsger Dijkstra"]["status"] == "refused"
    assert rows["Margaret Hamilton"]["status"] == "missing"
    assert rows["Margaret Hamilton"]["total"] == "0"
    assert rows["Margaret Hamilton"]["Q1"] == ""


def test_gradebook_has_a_row_per_submission_and_question_with_its_provenance(graded_class) -> None:
    outdir, _, _ = graded_class
    rows = query(
        outdir,
        "SELECT submission_id, number, score, status, mistakes, seed, "
        "rubric_sha256, content_sha256, seconds FROM question_results",
    )
    assert {(r[0], r[1]) for r in rows} == {
        (s, q) for s in ("1001", "1002", "1003", "1006") for q in ("1", "2")
    }
    by_key = {(r[0], r[1]): r for r in rows}
    assert json.loads(by_key[("1002", "1")][4]) == ["doubled"]
    assert by_key[("1002", "1")][3] == "partial"
    assert all(r[5] is not None and len(r[6]) == 64 and len(r[7]) == 64 and r[8] >= 0 for r in rows)


def test_a_crashing_function_costs_only_its_question(graded_class) -> None:
    outdir, _, _ = graded_class
    scores = dict(
        query(outdir, "SELECT number, score FROM question_results WHERE submission_id = '1006'")
    )
    assert scores == {"1": 2.0, "2": 0.0}


def test_a_zip_entry_escaping_its_folder_refuses_that_submission_only(graded_class) -> None:
    outdir, summary, _ = graded_class
    status, detail = query(
        outdir, "SELECT status, detail FROM submissions WHERE submission_id = '1004'"
    )[0]
    assert status == "refused"
    assert "escaped.py" in detail
    assert not list(outdir.parent.rglob("escaped.py"))
    assert {"1001", "1002", "1003", "1006"} <= set(summary.graded)


def test_a_damaged_zip_entry_refuses_that_submission_only(graded_class) -> None:
    outdir, summary, _ = graded_class
    status, detail = query(
        outdir, "SELECT status, detail FROM submissions WHERE submission_id = '1007'"
    )[0]
    assert status == "refused"
    assert "answers.py" in detail and "CRC" in detail
    assert summary.problems["1007"] == "refused"


def test_a_submission_in_the_metadata_without_its_folder_is_listed_as_missing(graded_class) -> None:
    outdir, summary, _ = graded_class
    assert query(outdir, "SELECT status FROM submissions WHERE submission_id = '1005'") == [
        ("missing",)
    ]
    assert summary.problems["1005"] == "missing"


def test_each_graded_submission_has_a_valid_results_json(graded_class, schema_validator) -> None:
    outdir, _, _ = graded_class
    for submission_id, total in (("1001", 3.0), ("1002", 1.5)):
        results = json.loads((outdir / "results" / results_name(submission_id)).read_text())
        schema_validator.validate(results)
        assert results["score"] == total


def test_report_shows_plots_mistakes_and_problem_submissions(graded_class) -> None:
    outdir, _, _ = graded_class
    html = (outdir / "report.html").read_text(encoding="utf-8")
    for expected in (
        'data-plot="score-histogram"',
        'data-plot="question-scores"',
        "doubled",
        "You doubled it",
        "Edsger Dijkstra",
        "refused",
        "Margaret Hamilton",
        "missing",
    ):
        assert expected in html


def test_junk_files_are_not_staged_and_staging_is_removed_after_grading(
    graded_class, tmp_path: Path
) -> None:
    outdir, _, source = graded_class
    assert not (outdir / "staging").exists()  # every student's files, gone once graded
    read_export(source, tmp_path / "staging")
    staged = [p.name for p in (tmp_path / "staging").rglob("*")]
    assert "answers.py" in staged
    assert ".DS_Store" not in staged and "._answers.py" not in staged


# --- reruns ----------------------------------------------------------------------------------


@pytest.fixture
def fresh_class(course, tmp_path: Path) -> tuple[Path, Path]:
    source = export_zip(tmp_path / "export.zip")
    outdir = tmp_path / "out"
    run(course.rubric, source, outdir)
    return source, outdir


def test_rerun_skips_every_unchanged_submission(course, fresh_class) -> None:
    source, outdir = fresh_class
    again = run(course.rubric, source, outdir)
    assert again.graded == []
    assert sorted(again.skipped) == ["1001", "1002", "1003", "1006"]
    assert len(query(outdir, "SELECT * FROM gradings WHERE status = 'graded'")) == 4


def test_a_rerun_counts_the_same_problems_and_writes_the_same_report(
    course, tmp_path: Path
) -> None:
    source = export_zip(tmp_path / "export.zip")
    outdir = tmp_path / "out"
    first = run(course.rubric, source, outdir)
    report = (outdir / "report.html").read_text()
    again = run(course.rubric, source, outdir)
    assert again.graded == [] and first.problems
    assert again.problems == first.problems
    strip_time = re.compile(r"<time>.*?</time>")
    assert strip_time.sub("", (outdir / "report.html").read_text()) == strip_time.sub("", report)


def test_rerun_regrades_only_the_changed_submission(course, fresh_class) -> None:
    source, outdir = fresh_class
    export_zip(source, katherine_source=CORRECT)
    again = run(course.rubric, source, outdir)
    assert again.graded == ["1003"]
    assert {row["name"]: row["total"] for row in csv_rows(outdir)}["Katherine Johnson"] == "3"


def test_force_regrades_everything(course, fresh_class) -> None:
    source, outdir = fresh_class
    again = run(course.rubric, source, outdir, force=True)
    assert sorted(again.graded) == ["1001", "1002", "1003", "1006"]


def test_a_fixed_reference_module_regrades_everything(tmp_path: Path) -> None:
    own = write_course(tmp_path / "own-course")
    source, outdir = export_zip(tmp_path / "export.zip"), tmp_path / "out"
    run(own.rubric, source, outdir)
    own.reference.write_text(own.reference.read_text() + "\n# fixed a typo\n")
    again = run(own.rubric, source, outdir)
    assert sorted(again.graded) == ["1001", "1002", "1003", "1006"]


def test_a_changed_rubric_regrades_everything(course, fresh_class, tmp_path: Path) -> None:
    source, outdir = fresh_class
    changed = tmp_path / "changed"
    changed.mkdir()
    (changed / "tiny.yaml").write_text(
        course.rubric.read_text().replace("credit: 0.25", "credit: 0.5")
    )
    (changed / "tiny_reference.py").write_text(course.reference.read_text())
    again = run(changed / "tiny.yaml", source, outdir)
    assert sorted(again.graded) == ["1001", "1002", "1003", "1006"]
    assert {row["name"]: row["total"] for row in csv_rows(outdir)}["Alan Turing"] == "2"


# --- what no submission may do to the batch --------------------------------------------------


def test_pathological_submissions_each_end_with_a_row_and_a_status(course, tmp_path: Path) -> None:
    source = write_plain_folder(tmp_path / "class", {**PATHOLOGICAL, "zz_correct": CORRECT})
    summary = run(course.rubric, source, tmp_path / "out")
    with Gradebook(tmp_path / "out" / "gradebook.sqlite") as book:
        records = {r.submission_id: r for r in book.records()}
    assert set(records) == {*PATHOLOGICAL, "zz_correct"}
    assert records["loops_at_import"].status == "import_error"
    # ANSWER was defined before memory ran out: it is graded, the error noted once.
    assert (records["memory_bomb"].status, records["memory_bomb"].score) == ("graded", 2.0)
    for name in ("fork_bomb", "crashes", "sleeps", "says_invalid_unicode"):
        assert (records[name].status, records[name].score) == ("graded", 2.0), name
    assert records["floods_output"].score == 3.0
    assert records["zz_correct"].score == 3.0
    # Each is bounded by its own limits (import 4 s, calls 2 s), not by the others'.
    assert summary.seconds < 60


def test_a_worker_that_overruns_its_deadline_is_replaced_and_the_batch_goes_on(
    course, tmp_path: Path
) -> None:
    folder = write_plain_folder(
        tmp_path / "class", {"sleeps": PATHOLOGICAL["sleeps"], "correct": CORRECT}
    )
    replies: dict[str, dict[str, Any]] = {}
    pool = WorkerPool(WorkerConfig(str(course.rubric), "lenient", ("numpy",)), 1, tmp_path / "logs")
    pool.spawn()
    pool.wait_ready()
    overrunning_worker_files = pool.workers[0].tmp
    try:
        pool.run(
            [Task("sleeps", str(folder / "sleeps")), Task("correct", str(folder / "correct"))],
            timeout=1.0,
            on_result=lambda task, reply, _: replies.update({task.submission_id: reply}),
        )
    finally:
        pool.close()
    assert replies["sleeps"]["error"] == "grader_timeout"
    assert replies["correct"]["results"]["score"] == 3.0
    assert not overrunning_worker_files.exists()  # what the killed worker left is removed
