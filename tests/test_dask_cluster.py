"""`grader batch --cluster` on a real Dask cluster: a `dask scheduler` and two `dask worker`
processes on 127.0.0.1 (no other address), grading the batch tests' synthetic export.

What must hold: the same grades as the local pool apart from timings; a worker killed mid-batch
costs nothing (its submissions are graded elsewhere and recorded once); a client killed
mid-batch loses nothing and its rerun grades nothing twice; a worker that cannot isolate is
refused under the strict policy, and `grader doctor --cluster` reports each worker's layers.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from batch_course import (
    CORRECT,
    DOUBLED,
    PATHOLOGICAL,
    RUBRIC,
    write_course,
    write_plain_folder,
)
from dask_processes import DaskProcesses
from run_facts import without_run_facts
from test_batch import export_zip

from grader.batch.gradebook import Gradebook, SubmissionRecord
from grader.batch.run import Batch, BatchOptions, BatchSummary, Progress

pytestmark = pytest.mark.sandbox

GRADER = Path(sys.executable).parent / "grader"
SLOW_IMPORT = "import time\ntime.sleep(0.6)\n"
"""Prepended to a submission so that grading it takes long enough to be caught mid-task."""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, interpreter_reachable: dict[str, int]):
    """Started once the interpreter is reachable by the sandbox uids (as root), so that local
    and cluster children apply the same layers (the uid layer included)."""
    processes = DaskProcesses(tmp_path_factory.mktemp("dask"))
    try:
        processes.add_worker("w1")
        processes.add_worker("w2")
        processes.wait_for("w1", "w2")
        yield processes
    finally:
        processes.close()


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory):
    """The batch tests' tiny course, with numpy alone preloaded (torch would only slow the
    workers' start; it changes no grade)."""
    folder = tmp_path_factory.mktemp("course")
    course = write_course(folder)
    course.rubric.write_text(
        RUBRIC.replace("  entry: answers.py\n", "  entry: answers.py\n  preload: [numpy]\n")
    )
    return course


def grade(
    rubric: Path, source: Path, outdir: Path, cluster: str | None = None, **options: Any
) -> BatchSummary:
    return Batch(
        BatchOptions(rubric=rubric, source=source, outdir=outdir, workers=2, cluster=cluster),
        **options,
    ).run()


def records(outdir: Path) -> dict[str, SubmissionRecord]:
    with Gradebook(outdir / "gradebook.sqlite") as book:
        return {record.submission_id: record for record in book.records()}


def gradings(outdir: Path) -> list[tuple[int, str, str, str]]:
    """The gradebook's log: (run, submission, status, worker) of every grading recorded."""
    db = sqlite3.connect(f"{(outdir / 'gradebook.sqlite').as_uri()}?mode=ro", uri=True)
    try:
        return db.execute(
            "SELECT run_id, submission_id, status, worker FROM gradings ORDER BY rowid"
        ).fetchall()
    finally:
        db.close()


def comparable(record: SubmissionRecord) -> dict[str, Any]:
    """What a grade is, apart from when, how fast, where and in which run."""
    return {
        "status": record.status,
        "detail": record.detail,
        "score": record.score,
        "max_score": record.max_score,
        "hashes": (record.content_sha256, record.rubric_sha256, record.fingerprint),
        "seed": record.seed,
        "submitters": record.submitters,
        "questions": [replace(question, seconds=0) for question in record.questions],
        "results": without_run_facts(json.loads(Path(record.results_path).read_text()))
        if record.results_path
        else None,
    }


def slow_class(folder: Path, count: int) -> Path:
    """`count` submissions, alternately correct and with the known mistake, each taking over
    half a second to import."""
    return write_plain_folder(
        folder,
        {
            f"s{index:02d}": SLOW_IMPORT + (CORRECT if index % 2 == 0 else DOUBLED)
            for index in range(count)
        },
    )


def expected_score(submission_id: str) -> float:
    return 3.0 if int(submission_id[1:]) % 2 == 0 else 1.5


# --- the same grades as on this machine ----------------------------------------------------


def test_the_cluster_grades_the_export_exactly_as_the_local_pool(
    cluster: DaskProcesses, course, tmp_path: Path
) -> None:
    source = export_zip(tmp_path / "export.zip")
    local = grade(course.rubric, source, tmp_path / "local")
    remote = grade(course.rubric, source, tmp_path / "remote", cluster.address)
    assert sorted(remote.graded) == sorted(local.graded) == ["1001", "1002", "1003", "1006"]
    assert remote.problems == local.problems
    here, there = records(tmp_path / "local"), records(tmp_path / "remote")
    assert set(here) == set(there)
    for submission_id in here:
        assert comparable(there[submission_id]) == comparable(here[submission_id]), submission_id
    # Which worker graded each: a Dask worker's name there, a local worker here.
    assert {there[s].worker for s in remote.graded} <= {"w1", "w2"}
    assert {here[s].worker for s in local.graded} <= {"local-0", "local-1"}
    assert [line.split(":")[0] for line in remote.launchers] == ["w1", "w2"]
    assert all("zygote with numpy preloaded" in line for line in remote.launchers)
    # The outputs are the client's: the CSV and report are written here, as locally.
    assert (tmp_path / "remote" / "grades.csv").read_text() == (
        tmp_path / "local" / "grades.csv"
    ).read_text()
    assert (tmp_path / "remote" / "report.html").is_file()


# --- a worker that dies ----------------------------------------------------------------------


def test_a_worker_killed_mid_batch_has_its_submissions_graded_once_elsewhere(
    cluster: DaskProcesses, course, tmp_path: Path
) -> None:
    from distributed import Client

    source = slow_class(tmp_path / "class", 10)
    killed: dict[str, Any] = {}
    monitor = Client(cluster.address, set_as_default=False)

    def kill_a_busy_worker(finished: Progress, done: int, total: int) -> None:
        if killed:
            return
        info = monitor.scheduler_info(n_workers=-1)["workers"]
        busy = {
            info[address]["name"]: keys
            for address, keys in monitor.processing().items()
            if keys and address in info
        }
        name = sorted(busy)[0]
        killed.update(name=name, in_flight=len(busy[name]))
        cluster.kill_worker(name)

    try:
        summary = grade(
            course.rubric, source, tmp_path / "out", cluster.address, on_progress=kill_a_busy_worker
        )
    finally:
        monitor.close()
        survivor = {"w1": "w2", "w2": "w1"}[killed["name"]] if killed else None
        if killed:  # the module's cluster gets its worker back for the tests that follow
            cluster.add_worker(killed["name"])
    assert killed["in_flight"] >= 1  # it was grading something when it died
    assert sorted(summary.graded) == [f"s{i:02d}" for i in range(10)]
    stored = records(tmp_path / "out")
    assert {s: (r.status, r.score) for s, r in stored.items()} == {
        s: ("graded", expected_score(s)) for s in stored
    }
    # Every submission graded exactly once in the gradebook's log; the dead worker's share
    # went to the survivor.
    log = gradings(tmp_path / "out")
    assert Counter(submission for _, submission, _, _ in log) == {s: 1 for s in stored}
    by_worker = Counter(worker for _, _, _, worker in log)
    assert by_worker[survivor] >= 10 - by_worker[killed["name"]] >= 1
    cluster.wait_for("w1", "w2")


def test_pathological_submissions_cost_their_own_limits_and_no_dask_worker(
    cluster: DaskProcesses, course, tmp_path: Path
) -> None:
    from distributed import Client

    chosen = ("memory_bomb", "fork_bomb", "crashes", "floods_output")
    source = write_plain_folder(
        tmp_path / "class", {**{name: PATHOLOGICAL[name] for name in chosen}, "zz": CORRECT}
    )
    with Client(cluster.address, set_as_default=False) as monitor:
        before = monitor.scheduler_info(n_workers=-1)["workers"]
        grade(course.rubric, source, tmp_path / "out", cluster.address)
        after = monitor.scheduler_info(n_workers=-1)["workers"]
    stored = records(tmp_path / "out")
    # ANSWER was defined before memory ran out: it is graded, the error noted once.
    assert (stored["memory_bomb"].status, stored["memory_bomb"].score) == ("graded", 2.0)
    for name in ("fork_bomb", "crashes"):
        assert (stored[name].status, stored[name].score) == ("graded", 2.0), name
    assert stored["floods_output"].score == stored["zz"].score == 3.0
    # The same Dask worker processes before and after: none was restarted.
    assert set(after) == set(before)
    assert all(process.poll() is None for process in cluster.workers.values())


# --- a client that dies ----------------------------------------------------------------------


def test_a_client_killed_mid_batch_loses_nothing_and_its_rerun_grades_nothing_twice(
    cluster: DaskProcesses, course, tmp_path: Path
) -> None:
    source = slow_class(tmp_path / "class", 12)
    outdir = tmp_path / "out"
    client = subprocess.Popen(
        [str(GRADER), "batch", str(course.rubric), str(source), "-o", str(outdir)],
        env={**os.environ, "GRADER_DASK_CLUSTER": cluster.address},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline and client.poll() is None:
            try:
                if len([g for g in gradings(outdir) if g[2] == "graded"]) >= 3:
                    break
            except sqlite3.OperationalError:  # not created yet
                pass
            time.sleep(0.05)
    finally:
        client.send_signal(signal.SIGKILL)
        _, errors = client.communicate()
    assert client.returncode == -signal.SIGKILL, errors.decode(errors="replace")
    before = {submission for _, submission, status, _ in gradings(outdir) if status == "graded"}
    assert 3 <= len(before) < 12  # killed mid-batch, with some graded
    assert all(worker in ("w1", "w2") for *_, worker in gradings(outdir))

    rerun = grade(course.rubric, source, outdir, cluster.address)
    assert sorted(rerun.skipped) == sorted(before)
    assert sorted(rerun.graded) == sorted({f"s{i:02d}" for i in range(12)} - before)
    log = gradings(outdir)
    assert Counter(submission for _, submission, _, _ in log) == {f"s{i:02d}": 1 for i in range(12)}
    assert {s: (r.status, r.score) for s, r in records(outdir).items()} == {
        f"s{i:02d}": ("graded", expected_score(f"s{i:02d}")) for i in range(12)
    }


# --- workers that cannot isolate -------------------------------------------------------------


def test_strict_policy_refuses_a_worker_that_cannot_isolate_and_doctor_reports_each_worker(
    cluster: DaskProcesses, course, tmp_path: Path
) -> None:
    cluster.add_worker("bare", env={"GRADER_SANDBOX_DISABLE": "namespaces,uid,landlock,seccomp"})
    try:
        cluster.wait_for("w1", "w2", "bare")
        doctor = subprocess.run(
            [str(GRADER), "doctor", "--policy", "strict", "--cluster", cluster.address],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "COLUMNS": "200"},
        )
        assert doctor.returncode == 4, doctor.stdout + doctor.stderr
        for name in ("w1", "w2", "bare"):
            assert f"dask worker: {name}" in doctor.stdout
        assert doctor.stdout.count("isolating layers: namespaces") == 2
        assert "strict sandbox policy" in doctor.stdout
        assert "refused on" in doctor.stdout and "tcp://127.0.0.1:" in doctor.stdout

        source = write_plain_folder(tmp_path / "class", {f"s{i}": CORRECT for i in range(6)})
        summary = Batch(
            BatchOptions(
                rubric=course.rubric,
                source=source,
                outdir=tmp_path / "out",
                policy="strict",
                cluster=cluster.address,
            )
        ).run()
        lines = {line.split(":")[0]: line for line in summary.launchers}
        assert "refused" in lines["bare"] and "strict" in lines["bare"]
        assert "zygote" in lines["w1"] and "zygote" in lines["w2"]
        stored = records(tmp_path / "out")
        assert {r.status for r in stored.values()} == {"graded"}
        assert {r.worker for r in stored.values()} <= {"w1", "w2"}
    finally:
        cluster.stop_worker("bare")
