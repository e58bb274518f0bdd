"""The parts of `grader batch --cluster` that need no cluster: the course shipped to a worker
and checked there, what a worker refuses, the paths it accepts, and the
gradebook's worker column (with its migration of older gradebooks)."""

from __future__ import annotations

import pickle
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from batch_course import write_course

from grader import __version__
from grader.batch.dask_cluster import (
    MIB,
    CourseBundle,
    GradingPlugin,
    course_bundle,
    plugin_name,
    submission_files,
    write_files,
)
from grader.batch.gradebook import SCHEMA, Gradebook, SubmissionRecord
from grader.batch.run import grading_fingerprint
from grader.batch.workers import WorkerConfig
from grader.rubric.model import load_rubric

REPO = Path(__file__).resolve().parents[1]
CONFIG = WorkerConfig(rubric="unused", policy="lenient", preload=("numpy",))


def bundle_of(rubric: Path) -> CourseBundle:
    loaded = load_rubric(rubric)
    return course_bundle(loaded, grading_fingerprint(loaded))


@pytest.mark.parametrize("rubric", ["hw2.yaml", "midterm.yaml"])
def test_the_course_rebuilt_from_its_bundle_has_the_clients_fingerprint(
    rubric: str, tmp_path: Path
) -> None:
    bundle = bundle_of(REPO / "rubrics" / rubric)
    names = {name for name, _ in bundle.files}
    # The rubric, its reference, custom tests and harness, laid out as they were.
    assert bundle.rubric == f"rubrics/{rubric}"
    assert f"reference/{rubric.removesuffix('.yaml')}.py" in names
    if rubric == "hw2.yaml":
        assert "reference/hw2_custom_tests.py" in names
    else:
        assert "reference/midterm_harness.py" in names
    write_files(tmp_path, bundle.files)
    assert grading_fingerprint(load_rubric(tmp_path / bundle.rubric)) == bundle.fingerprint


def test_the_plugin_travels_as_the_course_and_settings_only(tmp_path: Path) -> None:
    course = write_course(tmp_path / "course")
    plugin = GradingPlugin("grader-x", bundle_of(course.rubric), CONFIG)
    plugin.state = {"status": "ready", "secret": "worker-side state"}
    travelled = pickle.loads(pickle.dumps(plugin))
    assert isinstance(travelled, GradingPlugin)
    assert (travelled.name, travelled.bundle, travelled.config) == (
        plugin.name,
        plugin.bundle,
        plugin.config,
    )
    assert travelled.state == {"status": "starting"}
    assert GradingPlugin.idempotent  # a rerun after a killed client keeps the workers warm


def test_the_plugin_name_changes_with_the_course_and_the_settings(tmp_path: Path) -> None:
    course = write_course(tmp_path / "course")
    fingerprint = grading_fingerprint(load_rubric(course.rubric))
    names = {
        plugin_name(fingerprint, CONFIG),
        plugin_name("0" * 64, CONFIG),
        plugin_name(fingerprint, replace(CONFIG, policy="strict")),
        plugin_name(fingerprint, replace(CONFIG, warm=False)),
        plugin_name(fingerprint, replace(CONFIG, preload=("numpy", "torch"))),
    }
    assert len(names) == 5


def start(plugin: GradingPlugin, folder: Path, memory_limit: int | None = None) -> None:
    plugin.state = {"status": "starting"}
    plugin._start(1, memory_limit, folder)


def test_a_worker_refuses_a_course_that_changed_on_the_way(tmp_path: Path) -> None:
    course = write_course(tmp_path / "course")
    bundle = bundle_of(course.rubric)
    tampered = replace(
        bundle,
        files=tuple(
            (name, data + b"\nANSWER_LEAK = 1\n" if name.endswith("_reference.py") else data)
            for name, data in bundle.files
        ),
    )
    plugin = GradingPlugin("grader-x", tampered, CONFIG)
    start(plugin, tmp_path / "worker")
    assert plugin.state["status"] == "refused"
    assert "fingerprint" in plugin.state["detail"]
    assert not list((tmp_path / "worker").iterdir())  # the course it wrote is removed


def test_a_worker_with_another_grader_version_refuses(tmp_path: Path) -> None:
    course = write_course(tmp_path / "course")
    plugin = GradingPlugin(
        "grader-x", replace(bundle_of(course.rubric), grader_version="0.0.1"), CONFIG
    )
    start(plugin, tmp_path / "worker")
    assert plugin.state["status"] == "refused"
    assert __version__ in plugin.state["detail"] and "0.0.1" in plugin.state["detail"]


def test_a_worker_refuses_when_its_childrens_memory_caps_do_not_fit_under_its_limit(
    tmp_path: Path,
) -> None:
    course = write_course(tmp_path / "course")  # memory_mb: 512, two children when warm
    plugin = GradingPlugin("grader-x", bundle_of(course.rubric), CONFIG)
    start(plugin, tmp_path / "worker", memory_limit=1000 * MIB)
    assert plugin.state["status"] == "refused"
    assert "1024 MiB" in plugin.state["detail"] and "1000 MiB" in plugin.state["detail"]
    result = plugin.grade({"submission_id": "1", "timeout": 5, "single_file": False}, [])
    assert result["error"] == "internal_error" and "cannot grade" in result["detail"]


@pytest.mark.parametrize("name", ["../escaped.py", "/etc/passwd", "a/../../b.py", "", "."])
def test_a_worker_writes_no_file_outside_the_submissions_folder(name: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_files(tmp_path / "submission", [(name, b"x = 1\n")])
    assert not (tmp_path / "escaped.py").exists()


def test_a_submission_travels_as_its_regular_files(tmp_path: Path) -> None:
    folder = tmp_path / "submission"
    (folder / "nested").mkdir(parents=True)
    (folder / "nested" / "answers.py").write_bytes(b"ANSWER = 0.5\n")
    (folder / "notes.txt").write_bytes(b"\xff\x00binary")
    (folder / "link.py").symlink_to("/etc/passwd")
    assert submission_files(folder) == [
        ("nested/answers.py", b"ANSWER = 0.5\n"),
        ("notes.txt", b"\xff\x00binary"),
    ]
    assert submission_files(folder / "notes.txt") == [("notes.txt", b"\xff\x00binary")]
    write_files(tmp_path / "copy", submission_files(folder))
    assert (tmp_path / "copy" / "nested" / "answers.py").read_bytes() == b"ANSWER = 0.5\n"


# --- the gradebook's worker column ------------------------------------------------------------

OLD_SCHEMA = (
    SCHEMA.replace(
        ",\n    graded_result TEXT,\n    review_pending REAL NOT NULL DEFAULT 0", ""
    ).replace(",\n    worker TEXT NOT NULL DEFAULT ''", "")
    + """
INSERT INTO runs VALUES (1, 't', 't', 'r.yaml', 'h', 's', 2, 'warm zygote', '0.1.0');
INSERT INTO submissions VALUES ('old', 'graded', '', 3.0, 3.0, 'c', 'h', 'f', 7, 0.2, '',
    't', 1, NULL);
INSERT INTO gradings VALUES (1, 'old', 'graded', 't');
"""
)
"""A gradebook as the grader wrote it before the worker column."""


def old_gradebook(path: Path) -> Path:
    assert "worker TEXT" not in OLD_SCHEMA
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    db.close()
    return path


def test_an_older_gradebook_gains_the_worker_column_and_keeps_its_rows(tmp_path: Path) -> None:
    path = old_gradebook(tmp_path / "gradebook.sqlite")
    with Gradebook(path, read_only=True) as book:  # regrade-diff reads it as it is
        (old,) = book.records()
        assert (old.submission_id, old.score, old.worker) == ("old", 3.0, "")
    with Gradebook(path) as book:
        (old,) = book.records()
        book.record(replace(old, submission_id="new", worker="w1", run_id=1))
        stored = {r.submission_id: r for r in book.records()}
    assert (stored["old"].worker, stored["new"].worker) == ("", "w1")
    db = sqlite3.connect(path)
    try:
        log = db.execute("SELECT submission_id, worker FROM gradings ORDER BY rowid").fetchall()
        assert log == [("old", ""), ("new", "w1")]
    finally:
        db.close()
    with Gradebook(path) as book:  # migrating twice changes nothing
        assert len(book.records()) == 2


def test_a_new_gradebook_records_the_worker(tmp_path: Path) -> None:
    with Gradebook(tmp_path / "gradebook.sqlite") as book:
        run = book.start_run(
            rubric="r",
            rubric_sha256="h",
            source="s",
            workers=1,
            launcher="l",
            grader_version=__version__,
        )
        record = SubmissionRecord(
            "s1", "graded", "", 1.0, 1.0, "c", "h", "f", 1, 0.1, "", "t", run, None, (), (), "w2"
        )
        book.record(record)
        assert book.records() == [record]
