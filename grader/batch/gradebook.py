"""The batch gradebook: one SQLite file under the output folder, written a group at a time.

SQLite is the record a TA can trust after anything: each submission's rows are replaced within
one transaction (a group of submissions per transaction, batch/commits.py), so killing the
batch (even with kill -9) leaves every submission either fully graded or not graded at all,
and a rerun continues from there. It is also the source of every
batch output (grades.csv, report.html, regrade-diff), so they always agree with each other.

Tables (query them with `sqlite3 OUTDIR/gradebook.sqlite`):
  runs              one row per `grader batch` invocation
  submissions       one row per submission: status, total, hashes, seed, timings, and the
                    worker that graded it ("local-N", or a Dask worker's name or address)
  submitters        the students of each submission (several for a group)
  question_results  one row per submission and question: score, status, feedback, mistakes
                    matched (JSON), seconds, and the seed and hashes it was graded with
  gradings          a log: one row per grading completed (and by which worker), for auditing
                    reruns
  review_parts      one row per part of a written answer awaiting a TA: its answer group's key
                    (question, part, normalised reading), the reading, its line and excerpt
  review_decisions  one row per answer group a TA decided: credit, feedback, who and when
  review_log        every decision and withdrawal ever made, oldest first (for disputes)

The scores in `submissions` and `question_results` are the ones students get now, decisions
included; `submissions.graded_result` keeps the result as graded (for submissions with parts to
review) so a decision made later is applied without grading again (grader.batch.review).

A gradebook written before a column existed is migrated when it is opened (MIGRATIONS).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from grader.batch.export import Submitter

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    rubric TEXT NOT NULL,
    rubric_sha256 TEXT NOT NULL,
    source TEXT NOT NULL,
    workers INTEGER NOT NULL,
    launcher TEXT NOT NULL,
    grader_version TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS submissions (
    submission_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    score REAL,
    max_score REAL,
    content_sha256 TEXT,
    rubric_sha256 TEXT,
    fingerprint TEXT,
    seed INTEGER,
    seconds REAL,
    created_at TEXT NOT NULL DEFAULT '',
    graded_at TEXT NOT NULL,
    run_id INTEGER NOT NULL REFERENCES runs(run_id),
    results_path TEXT,
    worker TEXT NOT NULL DEFAULT '',
    graded_result TEXT,
    review_pending REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS submitters (
    submission_id TEXT NOT NULL REFERENCES submissions(submission_id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    sid TEXT NOT NULL,
    email TEXT NOT NULL,
    PRIMARY KEY (submission_id, position)
);
CREATE TABLE IF NOT EXISTS question_results (
    submission_id TEXT NOT NULL REFERENCES submissions(submission_id),
    position INTEGER NOT NULL,
    number TEXT NOT NULL,
    title TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    status TEXT NOT NULL,
    feedback TEXT NOT NULL,
    mistakes TEXT NOT NULL,
    seconds REAL NOT NULL,
    seed INTEGER,
    rubric_sha256 TEXT,
    content_sha256 TEXT,
    PRIMARY KEY (submission_id, position)
);
CREATE TABLE IF NOT EXISTS review_parts (
    submission_id TEXT NOT NULL REFERENCES submissions(submission_id),
    question TEXT NOT NULL,
    part TEXT NOT NULL,
    points REAL NOT NULL,
    reading TEXT NOT NULL,
    shown TEXT NOT NULL,
    line INTEGER NOT NULL,
    excerpt TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (submission_id, question, part)
);
CREATE TABLE IF NOT EXISTS review_decisions (
    question TEXT NOT NULL,
    part TEXT NOT NULL,
    reading TEXT NOT NULL,
    credit REAL NOT NULL CHECK (credit >= 0 AND credit <= 1),
    feedback TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    PRIMARY KEY (question, part, reading)
);
CREATE TABLE IF NOT EXISTS review_log (
    question TEXT NOT NULL,
    part TEXT NOT NULL,
    reading TEXT NOT NULL,
    credit REAL,
    feedback TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS gradings (
    run_id INTEGER NOT NULL REFERENCES runs(run_id),
    submission_id TEXT NOT NULL,
    status TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    worker TEXT NOT NULL DEFAULT ''
);
"""

MIGRATIONS = (
    ("submissions", "worker", "TEXT NOT NULL DEFAULT ''"),
    ("gradings", "worker", "TEXT NOT NULL DEFAULT ''"),
    ("submissions", "graded_result", "TEXT"),
    ("submissions", "review_pending", "REAL NOT NULL DEFAULT 0"),
)
"""Columns added since the first gradebooks: (table, column, declaration), added to an older
gradebook when it is opened (rows graded before have an empty worker and nothing to review);
new tables come from SCHEMA's CREATE TABLE IF NOT EXISTS."""

_JOINED_FIELDS = ("submitters", "questions", "reviews")
"""SubmissionRecord fields read from their own tables, not from `submissions`."""

RETRIED_STATUSES = frozenset({"internal_error", "grader_timeout"})
"""Statuses that say the grader, not the submission, failed: a rerun grades these again."""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class QuestionRow:
    """One question of one submission, as stored."""

    number: str
    title: str
    score: float
    max_score: float
    status: str
    feedback: str
    mistakes: tuple[str, ...]
    seconds: float


GroupKey = tuple[str, str, str]
"""(question number, part name, normalised reading): an answer group, what a TA decides."""


@dataclass(frozen=True)
class ReviewPart:
    """One part of one submission awaiting a TA, as stored."""

    submission_id: str
    question: str
    part: str
    points: float
    reading: str
    """The reading normalised (grader.batch.review.normalise_reading): its group's key."""
    shown: str
    line: int
    excerpt: str
    reason: str

    @property
    def key(self) -> GroupKey:
        return (self.question, self.part, self.reading)


@dataclass(frozen=True)
class Decision:
    """A TA's verdict on one answer group: the fraction of the part's points, and feedback."""

    question: str
    part: str
    reading: str
    credit: float
    feedback: str
    decided_by: str
    decided_at: str

    @property
    def key(self) -> GroupKey:
        return (self.question, self.part, self.reading)


@dataclass(frozen=True)
class SubmissionRecord:
    """Everything the gradebook knows about one submission."""

    submission_id: str
    status: str
    detail: str
    score: float | None
    max_score: float | None
    content_sha256: str | None
    rubric_sha256: str | None
    fingerprint: str | None
    """What the grade depends on besides the submission: rubric, reference, custom tests,
    harness and grader version (see batch.grading_fingerprint)."""
    seed: int | None
    seconds: float | None
    created_at: str
    graded_at: str
    run_id: int
    results_path: str | None
    submitters: tuple[Submitter, ...]
    questions: tuple[QuestionRow, ...]
    worker: str = ""
    """Which worker graded it: "local-N" for the local pool, a Dask worker's name otherwise."""
    graded_result: str | None = None
    """The GradeResult as graded (JSON, grader.grading.result_data), kept only when some part
    awaits review: decisions are applied to it."""
    review_pending: float = 0.0
    """Points of parts awaiting a TA's decision (pending, like hand-graded points)."""
    reviews: tuple[ReviewPart, ...] = ()


class Gradebook:
    """A connection to OUTDIR/gradebook.sqlite; the batch's only writer."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        """`read_only` opens an existing gradebook without touching it (regrade-diff reads
        a TA's earlier run, which must stay as it was)."""
        self.path = Path(path)
        if read_only:
            self.db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Add the columns an older gradebook lacks, in one transaction."""
        with self._transaction():
            for table, column, declaration in MIGRATIONS:
                present = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
                if column not in present:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------------
    def start_run(
        self,
        *,
        rubric: str,
        rubric_sha256: str,
        source: str,
        workers: int,
        launcher: str,
        grader_version: str,
    ) -> int:
        cursor = self.db.execute(
            "INSERT INTO runs (started_at, rubric, rubric_sha256, source, workers, launcher, "
            "grader_version) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (now(), rubric, rubric_sha256, source, workers, launcher, grader_version),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def finish_run(self, run_id: int) -> None:
        self.db.execute("UPDATE runs SET finished_at = ? WHERE run_id = ?", (now(), run_id))

    def record(self, record: SubmissionRecord) -> None:
        """Replace everything known about one submission, in one transaction."""
        self.record_all([record])

    def record_all(self, records: Sequence[SubmissionRecord]) -> None:
        """Replace everything known about each submission, all in one transaction: one
        commit (and its fsync) for a group, rather than one per submission."""
        with self._transaction():
            for record in records:
                self._replace(record)

    def _replace(self, record: SubmissionRecord) -> None:
        sid = record.submission_id
        self.db.execute("DELETE FROM question_results WHERE submission_id = ?", (sid,))
        self.db.execute("DELETE FROM review_parts WHERE submission_id = ?", (sid,))
        self.db.execute("DELETE FROM submitters WHERE submission_id = ?", (sid,))
        self.db.execute("DELETE FROM submissions WHERE submission_id = ?", (sid,))
        self.db.execute(
            "INSERT INTO submissions (submission_id, status, detail, score, max_score, "
            "content_sha256, rubric_sha256, fingerprint, seed, seconds, created_at, "
            "graded_at, run_id, results_path, worker, graded_result, review_pending) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                sid,
                record.status,
                record.detail,
                record.score,
                record.max_score,
                record.content_sha256,
                record.rubric_sha256,
                record.fingerprint,
                record.seed,
                record.seconds,
                record.created_at,
                record.graded_at,
                record.run_id,
                record.results_path,
                record.worker,
                record.graded_result,
                record.review_pending,
            ),
        )
        self.db.executemany(
            "INSERT INTO submitters VALUES (?, ?, ?, ?, ?)",
            [(sid, index, s.name, s.sid, s.email) for index, s in enumerate(record.submitters)],
        )
        self._insert_questions(record)
        self.db.executemany(
            "INSERT INTO review_parts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    sid,
                    r.question,
                    r.part,
                    r.points,
                    r.reading,
                    r.shown,
                    r.line,
                    r.excerpt,
                    r.reason,
                )
                for r in record.reviews
            ],
        )
        self.db.execute(
            "INSERT INTO gradings (run_id, submission_id, status, finished_at, worker) "
            "VALUES (?, ?, ?, ?, ?)",
            (record.run_id, sid, record.status, record.graded_at, record.worker),
        )

    def review(
        self,
        decided: Sequence[Decision],
        withdrawn: Sequence[GroupKey],
        grades: Iterable[SubmissionRecord],
        *,
        by: str,
        at: str,
    ) -> None:
        """Record decisions (replacing earlier ones on the same groups), forget withdrawn
        ones (`by` whom, `at` when, in the log), and store the grades they give, all in one
        transaction: a decision is never recorded without its grades. Only the scores of
        `grades` are stored (their submissions were not graded again)."""
        rows = [
            (d.question, d.part, d.reading, d.credit, d.feedback, d.decided_by, d.decided_at)
            for d in decided
        ]
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO review_decisions VALUES (?, ?, ?, ?, ?, ?, ?)", rows
            )
            self.db.executemany(
                "DELETE FROM review_decisions WHERE question = ? AND part = ? AND reading = ?",
                withdrawn,
            )
            self.db.executemany("INSERT INTO review_log VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            self.db.executemany(
                "INSERT INTO review_log VALUES (?, ?, ?, NULL, '', ?, ?)",
                [(*key, by, at) for key in withdrawn],
            )
            for record in grades:
                self.db.execute(
                    "UPDATE submissions SET score = ?, max_score = ?, review_pending = ? "
                    "WHERE submission_id = ?",
                    (record.score, record.max_score, record.review_pending, record.submission_id),
                )
                self.db.execute(
                    "DELETE FROM question_results WHERE submission_id = ?",
                    (record.submission_id,),
                )
                self._insert_questions(record)

    def _insert_questions(self, record: SubmissionRecord) -> None:
        sid = record.submission_id

        self.db.executemany(
            "INSERT INTO question_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    sid,
                    index,
                    q.number,
                    q.title,
                    q.score,
                    q.max_score,
                    q.status,
                    q.feedback,
                    json.dumps(list(q.mistakes)),
                    q.seconds,
                    record.seed,
                    record.rubric_sha256,
                    record.content_sha256,
                )
                for index, q in enumerate(record.questions)
            ],
        )

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- reading --------------------------------------------------------------------------
    def is_current(self, submission_id: str, content_sha256: str, fingerprint: str) -> bool:
        """Whether this exact content was already graded with this exact rubric, reference
        and grader (and the grader, not the submission, did not fail on it)."""
        row = self.db.execute(
            "SELECT status, content_sha256, fingerprint FROM submissions WHERE submission_id = ?",
            (submission_id,),
        ).fetchone()
        return (
            row is not None
            and row[1] == content_sha256
            and row[2] == fingerprint
            and row[0] not in RETRIED_STATUSES
        )

    def records(self, submission_ids: Iterable[str] | None = None) -> list[SubmissionRecord]:
        """Stored submissions (all, or those named), in the order named."""
        # A read-only gradebook from before a migration lacks the newer columns: their
        # defaults stand in.
        present = {row[1] for row in self.db.execute("PRAGMA table_info(submissions)")}
        columns = [
            f.name
            for f in fields(SubmissionRecord)
            if f.name not in _JOINED_FIELDS and f.name in present
        ]
        rows = {
            row[0]: dict(zip(columns, row, strict=True))
            for row in self.db.execute(f"SELECT {', '.join(columns)} FROM submissions")
        }
        wanted = (
            list(rows) if submission_ids is None else [sid for sid in submission_ids if sid in rows]
        )
        submitters: dict[str, list[Submitter]] = {}
        for sid, _, name, student_id, email in self.db.execute(
            "SELECT submission_id, position, name, sid, email FROM submitters "
            "ORDER BY submission_id, position"
        ):
            submitters.setdefault(sid, []).append(Submitter(name, student_id, email))
        questions: dict[str, list[QuestionRow]] = {}
        for row in self.db.execute(
            "SELECT submission_id, number, title, score, max_score, status, feedback, "
            "mistakes, seconds FROM question_results ORDER BY submission_id, position"
        ):
            questions.setdefault(row[0], []).append(
                QuestionRow(
                    row[1],
                    row[2],
                    row[3],
                    row[4],
                    row[5],
                    row[6],
                    tuple(json.loads(row[7])),
                    row[8],
                )
            )
        reviews: dict[str, list[ReviewPart]] = {}
        if self._has_table("review_parts"):
            for row in self.db.execute("SELECT * FROM review_parts ORDER BY submission_id, rowid"):
                reviews.setdefault(row[0], []).append(ReviewPart(*row))
        return [
            SubmissionRecord(
                **rows[sid],
                submitters=tuple(submitters.get(sid, ())),
                questions=tuple(questions.get(sid, ())),
                reviews=tuple(reviews.get(sid, ())),
            )
            for sid in wanted
        ]

    def decisions(self) -> dict[GroupKey, Decision]:
        """Every decision a TA made, by answer group (none in a gradebook from before
        reviews)."""
        if not self._has_table("review_decisions"):
            return {}
        found = (
            Decision(*row)
            for row in self.db.execute(
                "SELECT question, part, reading, credit, feedback, decided_by, decided_at "
                "FROM review_decisions"
            )
        )
        return {decision.key: decision for decision in found}

    def _has_table(self, name: str) -> bool:
        return (
            self.db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
            ).fetchone()
            is not None
        )

    def gradings(self) -> list[tuple[int, str, str]]:
        """(run_id, submission_id, status) of every grading ever completed, oldest first."""
        return list(
            self.db.execute("SELECT run_id, submission_id, status FROM gradings ORDER BY rowid")
        )

    def latest_run(self) -> dict[str, Any] | None:
        cursor = self.db.execute("SELECT * FROM runs ORDER BY run_id DESC LIMIT 1")
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip([column[0] for column in cursor.description], row, strict=True))


def iter_students(
    records: Iterable[SubmissionRecord],
) -> Iterator[tuple[Submitter, SubmissionRecord]]:
    """Each student with their submission: every member of a group, and a placeholder
    student (named after the submission) when the input had no metadata."""
    for record in records:
        for submitter in record.submitters or (Submitter(record.submission_id, "", ""),):
            yield submitter, record
