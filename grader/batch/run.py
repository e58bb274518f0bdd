"""`grader batch`: a whole class, in parallel, resumable, into a gradebook and its outputs.

The batch process reads the export, decides what needs grading (content or rubric changed, or
never graded), hands submissions to warm workers (workers.py), and is the gradebook's only
writer: results are committed in groups as they arrive (commits.py), so an interrupted batch
resumes where it stopped, grading again only the few not committed yet. It never runs student
code and never forks a sandboxed child itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from grader import __version__
from grader.batch.commits import GroupCommit
from grader.batch.export import ExportContents, ExportedSubmission, read_export
from grader.batch.gradebook import Gradebook, QuestionRow, ReviewPart, SubmissionRecord, now
from grader.batch.outputs import write_outputs
from grader.batch.review import answer_groups, review_parts, reviewed_record
from grader.batch.workers import Task, WorkerConfig, WorkerPool
from grader.errors import GraderInputError, RubricError
from grader.grading.result_data import result_from_data
from grader.rubric.model import LoadedRubric, load_rubric
from grader.sandbox.identities import check_settings
from grader.sandbox.plan import Protected
from grader.submission.digest import data_entry, file_entry, manifest_digest
from grader.trusted.answers import ListedAnswers
from grader.trusted.reference import load_reference
from grader.trusted.shared_answers import shared_answers
from grader.trusted.validate import validate

GRADEBOOK = "gradebook.sqlite"
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class BatchOptions:
    """One `grader batch` invocation."""

    rubric: Path
    source: Path
    outdir: Path
    workers: int = 0  # 0: one per core
    force: bool = False
    policy: str = "lenient"
    warm: bool = True
    cluster: str | None = None  # a Dask scheduler's address: grade there (dask_cluster.py)

    @property
    def worker_count(self) -> int:
        if self.workers > 0:
            return self.workers
        if hasattr(os, "sched_getaffinity"):
            return len(os.sched_getaffinity(0))
        return os.cpu_count() or 1


@dataclass
class BatchSummary:
    """What one run did, for the closing lines and the tests."""

    run_id: int
    submissions: list[str]
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)
    launchers: list[str] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    awaiting_review: tuple[int, int] = (0, 0)
    """Written answers awaiting a TA's decision: (parts, answer groups)."""


@dataclass(frozen=True)
class Progress:
    """One finished submission, as the progress display reports it."""

    submission_id: str
    students: str
    status: str
    score: float | None
    max_score: float | None
    seconds: float


def content_hash(path: Path) -> str:
    """A digest of every regular file under `path` (links not followed): the submission as
    uploaded, so any change to it triggers a regrade."""
    if path.is_file():
        return manifest_digest([file_entry(path.name, path)])
    files = sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return manifest_digest(file_entry(file.relative_to(path).as_posix(), file) for file in files)


def results_name(submission_id: str) -> str:
    """A file name for a submission's results.json that no id can turn into a path."""
    safe = SAFE_NAME.sub("_", submission_id)
    if safe != submission_id or safe.startswith("."):
        safe = f"{safe}-{hashlib.sha256(submission_id.encode()).hexdigest()[:8]}"
    return f"{safe}.json"


def grading_fingerprint(loaded: LoadedRubric) -> str:
    """A digest of everything a grade depends on besides the submission: the rubric, its
    reference module, custom tests and harness, and the grader's version. A fix to any of them
    makes the next run regrade."""
    files = {
        "reference": loaded.reference_path,
        "harness": loaded.harness_path,
        **{
            f"custom tests {index}": loaded.custom_test_path(tests)
            for index, tests in enumerate(loaded.rubric.custom_tests)
        },
    }
    entries = [
        data_entry("rubric", loaded.sha256.encode()),
        data_entry("grader", __version__.encode()),
        *(file_entry(role, path) for role, path in files.items() if path and path.is_file()),
    ]
    return manifest_digest(entries)


class Executor(Protocol):
    """What grades the tasks: the local WorkerPool, or dask_cluster.DaskExecutor."""

    count: int

    def spawn(self) -> None: ...
    def wait_ready(self) -> list[str]: ...
    def close(self) -> None: ...
    def run(
        self,
        tasks: Iterable[Task],
        timeout: float,
        on_result: Callable[[Task, dict[str, Any], float], None],
    ) -> None: ...


def check_rubric(loaded: LoadedRubric) -> dict[str, Any]:
    """Validate the rubric with its reference before any submission is graded: a broken
    rubric must stop the batch once, with its message, not fail once per submission. Returns
    the answers validation computed, for the workers (trusted.shared_answers)."""
    try:
        reference = load_reference(loaded.reference_path)
    except GraderInputError as error:
        raise RubricError(f"{loaded.path}: reference: {error}") from None
    listed: ListedAnswers = {}
    problems = validate(loaded, reference, listed)
    if problems:
        raise RubricError("\n".join(problems))
    return shared_answers(reference, listed)


class Batch:
    """One run of `grader batch` over one input."""

    def __init__(
        self,
        options: BatchOptions,
        on_progress: Callable[[Progress, int, int], None] | None = None,
        executor: Executor | None = None,
    ) -> None:
        """`executor` grades the tasks in place of the local workers or a Dask cluster: the
        tests of what follows grading (gradebook, reviews, outputs) give built results."""
        self.options = options
        self.executor = executor
        self.on_progress = on_progress
        self.loaded = load_rubric(options.rubric)
        self.outdir = options.outdir
        self.results_dir = self.outdir / "results"
        self.fingerprint = grading_fingerprint(self.loaded)

    def run(self) -> BatchSummary:
        """Grade, with every file the batch creates readable by the TA's account only: the
        gradebook, results and extracted submissions hold every student's work and grades,
        which no sandboxed child (another user, with the uid switch) may read."""
        previous = os.umask(0o077)
        try:
            return self._run()
        finally:
            os.umask(previous)

    def _run(self) -> BatchSummary:
        started = time.monotonic()
        options = self.options
        count = max(1, options.worker_count)
        # Workers start first: their interpreter and library imports overlap with reading the
        # export, validating the rubric and hashing the submissions here.
        config = WorkerConfig(
            rubric=str(self.loaded.path),
            policy=options.policy,
            preload=tuple(self.loaded.rubric.submission.preload),
            warm=options.warm,
            answers_sent=self.executor is None and not options.cluster,
            protected=Protected(
                secret=(str(options.source), str(self.outdir)), outputs=(str(self.outdir),)
            ),
        )
        pool: Executor
        if self.executor is not None:
            pool = self.executor
        elif options.cluster:
            try:
                from grader.batch.dask_cluster import DaskExecutor
            except ImportError as error:
                raise GraderInputError(
                    f"--cluster needs the grader[dask] extra (Dask's distributed): {error}"
                ) from None
            pool = DaskExecutor(options.cluster, self.loaded, config, self.fingerprint)
        else:
            pool = WorkerPool(config, count, self.outdir / "logs")
        try:
            self.outdir.mkdir(parents=True, exist_ok=True)
            if self.executor is None and not options.cluster:
                check_settings()  # a Dask worker checks its own machine's
            pool.spawn()
            answers = check_rubric(self.loaded)
            if isinstance(pool, WorkerPool):  # a Dask worker computes its own
                pool.share(answers)
            contents = read_export(options.source, self.outdir / "staging")
            with Gradebook(self.outdir / GRADEBOOK) as book:
                summary = self._grade(book, pool, contents, pool.count)
        finally:
            pool.close()
            # Zip submissions were extracted here for the workers; every run extracts them
            # again, so the students' files do not stay in OUTDIR once graded.
            shutil.rmtree(self.outdir / "staging", ignore_errors=True)
        summary.seconds = time.monotonic() - started
        return summary

    def _grade(
        self, book: Gradebook, pool: Executor, contents: ExportContents, count: int
    ) -> BatchSummary:
        run_id = book.start_run(
            rubric=str(self.loaded.path),
            rubric_sha256=self.loaded.sha256,
            source=str(self.options.source),
            workers=count,
            launcher=("warm zygote" if self.options.warm else "fresh interpreter")
            + (f" on Dask {self.options.cluster}" if self.options.cluster else ""),
            grader_version=__version__,
        )
        summary = BatchSummary(
            run_id, [s.submission_id for s in contents.submissions], notes=list(contents.notes)
        )
        by_id = {s.submission_id: s for s in contents.submissions}
        tasks, hashes = self._plan(book, contents.submissions, summary)
        commits = GroupCommit(book)
        done = len(summary.skipped)
        total = len(contents.submissions)

        def record(task: Task, reply: dict[str, Any], seconds: float) -> None:
            nonlocal done
            exported = by_id[task.submission_id]
            digest = hashes[task.submission_id]
            try:
                stored, results = self._record(commits, run_id, exported, digest, reply, seconds)
            except Exception as error:  # one submission's result must not stop the batch
                unrecordable = {
                    "error": "internal_error",
                    "detail": f"the grader could not record this submission: {error!r}",
                }
                stored, results = self._record(
                    commits, run_id, exported, digest, unrecordable, seconds
                )
            # Outside the handler: a gradebook that cannot be written stops the batch, named
            # (commits.GradebookWriteError), rather than record this grade as an error.
            commits.add(stored, results)
            summary.graded.append(task.submission_id)
            if stored.status != "graded":
                summary.problems[task.submission_id] = stored.status
            done += 1
            self._report(stored, exported, done, total)

        try:
            for exported in contents.submissions:
                if exported.status != "ok":
                    stored = self._record_unreadable(commits, run_id, exported)
                    summary.problems[exported.submission_id] = stored.status
                    done += 1
                    self._report(stored, exported, done, total)
            if tasks:
                summary.launchers = pool.wait_ready()
                pool.run(tasks, self._task_timeout(), record)
            commits.commit()
            book.finish_run(run_id)
            # Unchanged submissions keep their problems: a rerun counts what the first run did.
            for stored in book.records(summary.skipped):
                if stored.status != "graded":
                    summary.problems[stored.submission_id] = stored.status
        finally:  # interrupted or not, the outputs show what the gradebook holds
            commits.commit()  # the grades received so far are whole: keep them
            records, decisions = book.records(summary.submissions), book.decisions()
            write_outputs(self.outdir, self.loaded, records, decisions)
        waiting = [
            group
            for group in answer_groups((r for record in records for r in record.reviews), decisions)
            if group.decision is None
        ]
        summary.awaiting_review = (sum(len(group.members) for group in waiting), len(waiting))
        return summary

    def _plan(
        self, book: Gradebook, submissions: list[ExportedSubmission], summary: BatchSummary
    ) -> tuple[list[Task], dict[str, str]]:
        """Which submissions to grade: new, changed, or graded with another rubric."""
        tasks, hashes = [], {}
        for exported in submissions:
            if exported.status != "ok" or exported.path is None:
                continue
            digest = content_hash(exported.path)
            hashes[exported.submission_id] = digest
            if not self.options.force and book.is_current(
                exported.submission_id, digest, self.fingerprint
            ):
                summary.skipped.append(exported.submission_id)
                continue
            tasks.append(Task(exported.submission_id, str(exported.path)))
        return tasks, hashes

    def _task_timeout(self) -> float:
        """How long a worker may take over one submission before it is replaced: the
        rubric's own budget (which the engine enforces) with room for start-up."""
        limits = self.loaded.rubric.limits
        return 2 * limits.total_seconds + limits.import_timeout + 30

    def _record(
        self,
        commits: GroupCommit,
        run_id: int,
        exported: ExportedSubmission,
        digest: str,
        reply: dict[str, Any],
        seconds: float,
    ) -> tuple[SubmissionRecord, tuple[Path, Any] | None]:
        """One worker's reply (grade_reply's form, or an error) as the submission's record
        and its results.json (path, content), with the TA decisions already made applied;
        both reach the disk with the group commit they are added to (commits.py)."""
        results = reply.get("results")
        graded = reply.get("result")
        reviews: tuple[ReviewPart, ...] = ()
        if results is not None and graded is not None:
            result = result_from_data(graded)
            reviews = review_parts(exported.submission_id, result, self.loaded.rubric)
        path = None
        if results is not None:
            path = self.results_dir / results_name(exported.submission_id)
        status, detail = self._status(reply)
        extra = (results or {}).get("extra_data", {})
        questions = tuple(
            QuestionRow(
                q["number"],
                q["title"],
                q["score"],
                q["max_score"],
                q["status"],
                q["feedback"],
                tuple(q["mistakes"]),
                q["seconds"],
            )
            for q in reply.get("questions", [])
        )
        stored = SubmissionRecord(
            submission_id=exported.submission_id,
            status=status,
            detail=detail,
            score=results["score"] if results else None,
            max_score=extra.get("max_auto_score", self.loaded.rubric.auto_points),
            content_sha256=digest,
            rubric_sha256=self.loaded.sha256,
            fingerprint=self.fingerprint,
            seed=extra.get("seed"),
            seconds=round(seconds, 4),
            created_at=exported.created_at,
            graded_at=now(),
            run_id=run_id,
            results_path=str(path) if path else None,
            submitters=exported.submitters,
            questions=questions,
            worker=str(reply.get("worker", "")),
            graded_result=json.dumps(graded) if reviews else None,
            reviews=reviews,
        )
        if reviews:  # groups a TA already decided apply at once, to a new or changed answer
            stored, results = reviewed_record(stored, commits.book.decisions())
        return stored, ((path, results) if path is not None else None)

    @staticmethod
    def _status(reply: dict[str, Any]) -> tuple[str, str]:
        """The submission's status and, when it is not simply graded, why."""
        if "error" in reply:
            return reply["error"], reply.get("detail", "")
        results = reply["results"]
        notes = results.get("output", "").split("\n\n")[0]
        if reply["outcome"] != "graded":
            return reply["outcome"], notes
        if any(q.get("out_of_time") for q in reply["questions"]):
            return "timed_out", "the submission used up its time limit before the last parts"
        internal = results.get("extra_data", {}).get("internal_errors", [])
        if internal:
            return "internal_error", "; ".join(internal)[:2000]
        return "graded", ""

    def _record_unreadable(
        self, commits: GroupCommit, run_id: int, exported: ExportedSubmission
    ) -> SubmissionRecord:
        stored = SubmissionRecord(
            submission_id=exported.submission_id,
            status=exported.status,
            detail=exported.detail,
            score=None,
            max_score=self.loaded.rubric.auto_points,
            content_sha256=None,
            rubric_sha256=self.loaded.sha256,
            fingerprint=self.fingerprint,
            seed=None,
            seconds=0.0,
            created_at=exported.created_at,
            graded_at=now(),
            run_id=run_id,
            results_path=None,
            submitters=exported.submitters,
            questions=(),
        )
        commits.add(stored)
        return stored

    def _report(
        self, stored: SubmissionRecord, exported: ExportedSubmission, done: int, total: int
    ) -> None:
        if self.on_progress is None:
            return
        students = ", ".join(s.name for s in exported.submitters) or exported.submission_id
        self.on_progress(
            Progress(
                stored.submission_id,
                students,
                stored.status,
                stored.score,
                stored.max_score,
                stored.seconds or 0.0,
            ),
            done,
            total,
        )
