"""Group commits: a batch's grades reach the disk in groups, not one fsync at a time.

Recording one submission used to cost two fsyncs (its results.json, then the gradebook's
commit) and an indented JSON encoding: 8.5 ms per submission in a 1,000-submission HW2 batch,
on cores the workers grade on. Here each results.json is written at once (atomically, not yet
durable) and its gradebook record kept; every GROUP submissions, or once the oldest kept one
is GROUP_SECONDS old when the next arrives, and when the batch ends or is interrupted, the
files are made durable with one os.sync and then the records are committed in one transaction.

What a crash loses: the records not committed yet (at most GROUP submissions, or those that
arrived within GROUP_SECONDS of the last commit, or, if no result arrives after them, until
the batch ends). They are not in the gradebook, so a rerun grades them again and rewrites
their results.json; a committed record's results.json was made durable before its commit, so
no record points at a file lost with the machine's power.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from grader.atomic import flush_to_disk, write_json
from grader.batch.gradebook import Gradebook, SubmissionRecord
from grader.errors import GraderInputError

GROUP = 32
GROUP_SECONDS = 0.5


class GradebookWriteError(GraderInputError):
    """The gradebook refused a commit (another program holds it locked, the disk is full):
    the batch stops there, keeping every group committed before, and a rerun grades the rest.
    Recording the group's grades as errors instead would replace real grades."""


class GroupCommit:
    """The batch's writes of results.json files and gradebook records, committed in groups."""

    def __init__(
        self, book: Gradebook, *, group: int = GROUP, seconds: float = GROUP_SECONDS
    ) -> None:
        self.book = book
        self.group = group
        self.seconds = seconds
        self.pending: list[SubmissionRecord] = []
        self.files_written = False
        self.oldest = 0.0

    def add(self, record: SubmissionRecord, results: tuple[Path, Any] | None = None) -> None:
        """Keep one submission's record, writing its results.json (path, content) now; commit
        the group when it is full or old enough."""
        if results is not None:
            path, content = results
            write_json(path, content, indent=None, durable=False)
            self.files_written = True
        if not self.pending:
            self.oldest = time.monotonic()
        self.pending.append(record)
        if len(self.pending) >= self.group or time.monotonic() - self.oldest >= self.seconds:
            self.commit()

    def commit(self) -> None:
        """Make the group's files durable, then commit its records in one transaction."""
        if not self.pending:
            return
        if self.files_written:
            flush_to_disk()
        try:
            self.book.record_all(self.pending)
        except sqlite3.Error as error:
            raise GradebookWriteError(
                f"{self.book.path}: {len(self.pending)} grades could not be committed ({error}); "
                "if another program has the gradebook open, close it. The grades committed "
                "before are kept: run the batch again to grade the rest."
            ) from error
        self.pending = []
        self.files_written = False
