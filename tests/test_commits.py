"""Group commits of a batch's results (batch.commits): records reach the gradebook a group at
a time, each after its results.json is on disk, and a crash loses only the group not yet
committed, which a rerun grades again."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from review_class import ReviewClass, SheetExecutor

from grader import __version__
from grader.batch import commits as commits_module
from grader.batch.commits import GradebookWriteError, GroupCommit
from grader.batch.gradebook import Gradebook, SubmissionRecord
from grader.batch.run import Batch, BatchOptions
from grader.batch.workers import Task


def open_book(path: Path) -> tuple[Gradebook, int]:
    book = Gradebook(path)
    run = book.start_run(
        rubric="r",
        rubric_sha256="h",
        source="s",
        workers=1,
        launcher="l",
        grader_version=__version__,
    )
    return book, run


def graded(name: str, run: int, results: Path | None = None) -> SubmissionRecord:
    return SubmissionRecord(
        name, "graded", "", 1.0, 1.0, f"content {name}", "h", "f", 1, 0.1, "", "t", run,
        str(results) if results else None, (), (),
    )  # fmt: skip


def stored(path: Path) -> list[str]:
    with Gradebook(path, read_only=True) as book:
        return [record.submission_id for record in book.records()]


def test_records_wait_until_the_group_is_full(tmp_path: Path) -> None:
    book, run = open_book(tmp_path / "g.sqlite")
    commits = GroupCommit(book, group=3, seconds=3600)
    commits.add(graded("a", run))
    commits.add(graded("b", run))
    assert stored(tmp_path / "g.sqlite") == []
    commits.add(graded("c", run))
    assert stored(tmp_path / "g.sqlite") == ["a", "b", "c"]
    book.close()


def test_a_group_is_committed_once_its_oldest_record_is_old_enough(tmp_path: Path) -> None:
    book, run = open_book(tmp_path / "g.sqlite")
    commits = GroupCommit(book, group=100, seconds=0.05)
    commits.add(graded("a", run))
    assert stored(tmp_path / "g.sqlite") == []
    time.sleep(0.06)
    commits.add(graded("b", run))
    assert stored(tmp_path / "g.sqlite") == ["a", "b"]
    book.close()


def test_results_files_are_on_disk_before_their_records_are_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book, run = open_book(tmp_path / "g.sqlite")
    order: list[str] = []
    monkeypatch.setattr(commits_module, "flush_to_disk", lambda: order.append("sync"))
    original = book.record_all
    monkeypatch.setattr(
        book, "record_all", lambda records: (order.append("commit"), original(records))
    )
    commits = GroupCommit(book, group=2, seconds=3600)
    results = tmp_path / "results" / "a.json"
    commits.add(graded("a", run, results), (results, {"score": 1.0, "tests": []}))
    assert json.loads(results.read_text()) == {"score": 1.0, "tests": []}  # written at once
    commits.add(graded("b", run))
    assert order == ["sync", "commit"]
    book.close()


def test_a_group_without_files_commits_without_syncing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book, run = open_book(tmp_path / "g.sqlite")
    monkeypatch.setattr(commits_module, "flush_to_disk", lambda: pytest.fail("synced"))
    commits = GroupCommit(book, group=1)
    commits.add(graded("a", run))
    assert stored(tmp_path / "g.sqlite") == ["a"]
    book.close()


def test_a_crash_loses_only_the_uncommitted_group_which_a_rerun_regrades(
    tmp_path: Path,
) -> None:
    path = tmp_path / "g.sqlite"
    book, run = open_book(path)
    commits = GroupCommit(book, group=2, seconds=3600)
    for name in ("a", "b", "c"):
        commits.add(graded(name, run))
    book.db.close()  # the process dies: "c" was never committed
    with Gradebook(path) as reopened:
        current = {
            name: reopened.is_current(name, f"content {name}", "f") for name in ("a", "b", "c")
        }
    assert current == {"a": True, "b": True, "c": False}


def test_commit_with_nothing_pending_writes_nothing(tmp_path: Path) -> None:
    book, _ = open_book(tmp_path / "g.sqlite")
    GroupCommit(book).commit()
    assert book.gradings() == []
    book.close()


class InterruptedExecutor(SheetExecutor):
    """Grades `before` tasks, then the TA presses Ctrl-C."""

    def __init__(self, before: int) -> None:
        super().__init__()
        self.before = before

    def run(
        self,
        tasks: Iterable[Task],
        timeout: float,
        on_result: Callable[[Task, dict[str, Any], float], None],
    ) -> None:
        super().run(list(tasks)[: self.before], timeout, on_result)
        raise KeyboardInterrupt


def test_an_interrupted_batch_keeps_every_result_received_and_a_rerun_grades_the_rest(
    tmp_path: Path,
) -> None:
    students = {f"student{i}": str(i) for i in range(5)}
    review_class = ReviewClass(tmp_path, students)
    options = BatchOptions(review_class.rubric, review_class.students, review_class.outdir)
    with pytest.raises(KeyboardInterrupt):
        Batch(options, executor=InterruptedExecutor(before=3)).run()
    first = stored(review_class.outdir / "gradebook.sqlite")
    assert len(first) == 3
    _, executor = review_class.batch()
    assert sorted(executor.graded) == sorted(set(students) - set(first))


class LockingExecutor(SheetExecutor):
    """Grades `before` tasks, then another program takes the gradebook's write lock and keeps
    it while the rest are graded."""

    def __init__(self, gradebook: Path, before: int) -> None:
        super().__init__()
        self.gradebook = gradebook
        self.before = before
        self.holder: sqlite3.Connection | None = None

    def run(
        self,
        tasks: Iterable[Task],
        timeout: float,
        on_result: Callable[[Task, dict[str, Any], float], None],
    ) -> None:
        tasks = list(tasks)
        super().run(tasks[: self.before], timeout, on_result)
        self.holder = sqlite3.connect(self.gradebook, isolation_level=None)
        self.holder.execute("BEGIN IMMEDIATE")
        super().run(tasks[self.before :], timeout, on_result)


@pytest.mark.slow  # waits out SQLite's busy timeout (5 s) on each of two commits
def test_a_locked_gradebook_stops_the_batch_named_and_never_records_grades_as_errors(
    tmp_path: Path,
) -> None:
    students = {f"student{i}": str(i) for i in range(6)}
    review_class = ReviewClass(tmp_path, students)
    gradebook = review_class.outdir / "gradebook.sqlite"
    options = BatchOptions(review_class.rubric, review_class.students, review_class.outdir)
    executor = LockingExecutor(gradebook, before=2)
    with pytest.raises(GradebookWriteError, match=r"gradebook\.sqlite: .*locked"):
        Batch(options, executor=executor).run()
    assert executor.holder is not None
    executor.holder.rollback()
    executor.holder.close()
    review_class.batch()  # the rerun grades what the locked commit lost
    with Gradebook(gradebook, read_only=True) as book:
        records = book.records()
    assert sorted(record.submission_id for record in records) == sorted(students)
    assert all(record.status != "internal_error" for record in records)
