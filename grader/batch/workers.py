"""Warm grading workers for a batch: N trusted processes, each with its own zygote.

A worker is a fresh interpreter running `grader.batch.workers` (not a fork of the batch process,
which may have run torch), that loads the rubric and reference once, starts a zygote (zygote.py)
that has imported numpy and torch once, and then grades one submission per task. The worker holds
the answers; the zygote, which forks the sandboxed children, never does.

Tasks and results cross as JSON lines (nothing is pickled): tasks on the worker's stdin, results
on a dedicated pipe, so that anything the reference or a library prints cannot corrupt them.
The pool gives every task a deadline: a worker that overruns it, or dies, is killed and
replaced, and its submission gets a status instead of stalling the batch.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from grader.sandbox.plan import NOTHING_PROTECTED, Protected

if TYPE_CHECKING:
    from grader.grading.results import GradeResult

READ_CHUNK = 1 << 20
MAX_REPLY_BYTES = 256 << 20
"""A worker's reply holds one submission's results, whose every student-written text is capped
while decoding; a longer one means a worker gone wrong, which is then replaced."""
START_TIMEOUT = 300.0


@dataclass(frozen=True)
class WorkerConfig:
    """What every worker needs to grade: the rubric, the policy, and what no child may reach
    (the batch's input and outputs). Each child's sandbox uid is its session's own claim."""

    rubric: str
    policy: str
    preload: tuple[str, ...]
    warm: bool = True
    protected: Protected = NOTHING_PROTECTED
    answers_sent: bool = False
    """The pool sends the answers the batch process computed (trusted.shared_answers) as the
    first line on the worker's stdin, before any task: the worker waits for it."""


@dataclass(frozen=True)
class Task:
    submission_id: str
    path: str


def valid_text(value: Any) -> Any:
    """`value` with every string made valid Unicode: a student's exception message may hold
    lone surrogates, which JSON carries but SQLite and strict readers refuse."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [valid_text(item) for item in value]
    if isinstance(value, dict):
        return {valid_text(key): valid_text(item) for key, item in value.items()}
    return value


def grade_reply(result: GradeResult) -> dict[str, Any]:
    """What a worker sends back for one graded submission: results.json, one summary per
    question for the gradebook, and the result itself when a TA will decide some part."""
    from grader.grading.engine import OUT_OF_TIME
    from grader.grading.result_data import result_to_data
    from grader.outputs.gradescope_json import to_gradescope

    reply: dict[str, Any] = {
        "results": to_gradescope(result),
        "outcome": result.outcome,
        "questions": [
            {
                "number": q.number,
                "title": q.title,
                "score": q.score,
                "max_score": q.max_score,
                "status": q.status,
                "feedback": q.feedback_text(),
                "seconds": q.seconds,
                "mistakes": sorted({m for p in q.parts for m in p.mistakes}),
                "out_of_time": any(OUT_OF_TIME in p.feedback for p in q.parts),
            }
            for q in result.questions
        ],
    }
    if any(p.review is not None for q in result.questions for p in q.parts):
        # The batch keeps the result as graded for parts a TA will decide (batch.review).
        reply["result"] = result_to_data(result)
    return reply


def grade_task(engine: Any, task: dict[str, Any]) -> dict[str, Any]:
    """Grade one submission in the worker; every failure becomes a reply, never an exit."""
    from grader.errors import GraderInputError, SandboxSettingError
    from grader.sandbox.runner import SandboxPolicyError
    from grader.submission.asked import sheet_parts
    from grader.submission.staged import open_submission

    try:
        with open_submission(
            Path(task["path"]),
            engine.loaded.rubric.submission,
            submission_id=task["submission_id"],
            sheet=sheet_parts(engine.loaded.rubric),
        ) as submission:
            result = engine.grade(submission)
    except SandboxPolicyError as error:
        return {"error": "policy_refused", "detail": str(error)}
    except SandboxSettingError as error:  # this machine's fault: a rerun grades it again
        return {"error": "internal_error", "detail": str(error)}
    except GraderInputError as error:
        return {"error": "unreadable", "detail": str(error)}
    except Exception:
        return {"error": "internal_error", "detail": traceback.format_exc(limit=8)}
    return grade_reply(result)


def worker_main(config: WorkerConfig, replies: IO[bytes]) -> None:
    """The worker process: load once, announce readiness, then grade tasks until stdin ends.
    The zygote is started first, so that its imports and warm-ups run while this process
    imports the grader and loads the rubric and reference."""
    from grader.sandbox.layers import Report, die_with_parent
    from grader.sandbox.runner import FRESH_INTERPRETER
    from grader.sandbox.zygote import spawn_zygote, warm_launcher

    die_with_parent(os.getppid(), Report())
    spawned = spawn_zygote(config.preload) if config.warm else None

    from grader.grading.engine import Engine
    from grader.rubric.model import load_rubric
    from grader.trusted.reference import load_reference

    loaded = load_rubric(Path(config.rubric))
    reference = load_reference(loaded.reference_path)
    listed = None
    if config.answers_sent:
        from grader.trusted.shared_answers import adopt_answers

        listed = adopt_answers(json.loads(sys.stdin.buffer.readline()), reference)
    if config.warm:
        launcher, description = warm_launcher(config.preload, spawned)
    else:
        launcher, description = FRESH_INTERPRETER, "fresh interpreter per child (--cold)"
    # Warm children start in milliseconds and a TA's machine has the memory for two at once.
    engine = Engine(
        loaded,
        reference,
        policy=config.policy,
        launcher=launcher,
        one_child_at_a_time=not config.warm,
        protected=config.protected,
        listed_answers=listed,
    )
    replies.write(json.dumps({"ready": description}).encode() + b"\n")
    replies.flush()
    for line in sys.stdin.buffer:
        task = json.loads(line)
        reply = valid_text(grade_task(engine, task))
        reply["submission_id"] = task["submission_id"]
        replies.write(json.dumps(reply).encode() + b"\n")
        replies.flush()


class _Worker:
    """The pool's handle on one worker process."""

    def __init__(self, index: int, config: WorkerConfig, log: Path) -> None:
        self.index = index
        # The worker's work folders go here, so that the pool can remove what a killed worker
        # left behind (students' files, and whatever their code wrote). Traversable by the
        # sandbox users, listable by nobody else.
        self.tmp = Path(tempfile.mkdtemp(prefix="grader-worker-"))
        self.tmp.chmod(0o711)
        read_end, write_end = os.pipe()
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as log_file:
            self.process = subprocess.Popen(
                worker_command(config, write_end),
                stdin=subprocess.PIPE,
                stdout=log_file,
                stderr=log_file,
                pass_fds=[write_end],
                start_new_session=True,
                env={**os.environ, "TMPDIR": str(self.tmp)},
            )
        os.close(write_end)
        self.replies = read_end
        os.set_blocking(read_end, False)
        self.buffer = bytearray()
        self.scanned = 0  # bytes of the buffer known to hold no newline
        self.task: Task | None = None
        self.deadline = 0.0
        self.started = 0.0
        self.ready: str | None = None

    def give(self, answers: bytes) -> None:
        """Write the shared answers on the worker's stdin; a worker that died meanwhile is
        found out when it is waited for."""
        assert self.process.stdin is not None
        with contextlib.suppress(OSError):
            self.process.stdin.write(answers)
            self.process.stdin.flush()

    def send(self, task: Task, timeout: float) -> bool:
        """Give the worker a task; False if it has died (its pipe's end tells the pool)."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(asdict(task)).encode() + b"\n")
            self.process.stdin.flush()
        except OSError:
            return False
        self.task, self.started = task, time.monotonic()
        self.deadline = self.started + timeout
        return True

    def read_lines(self) -> tuple[list[bytes], bool]:
        """Complete lines available now, and whether the pipe has ended (or the worker sent a
        line over MAX_REPLY_BYTES, which ends it too). The buffer grows in place and is
        searched once per byte, so reading a long reply costs its length, not its square."""
        ended = False
        lines: list[bytes] = []
        while not ended:
            try:
                chunk = os.read(self.replies, READ_CHUNK)
            except BlockingIOError:
                break
            ended = not chunk
            self.buffer += chunk
            while (end := self.buffer.find(b"\n", self.scanned)) >= 0:
                lines.append(bytes(self.buffer[:end]))
                del self.buffer[: end + 1]
                self.scanned = 0
            self.scanned = len(self.buffer)
            if self.scanned > MAX_REPLY_BYTES:
                self.buffer.clear()
                self.scanned = 0
                ended = True
        return lines, ended

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.close(self.replies)
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()

    def exit_description(self) -> str:
        code = self.process.poll()
        if code is None:
            return "stopped answering"
        if code < 0:
            return f"was killed by signal {signal.Signals(-code).name}"
        return f"exited with status {code}"


class WorkerPool:
    """Runs tasks over `count` warm workers, each task bounded by `timeout` seconds."""

    def __init__(
        self,
        config: WorkerConfig,
        count: int,
        log_dir: Path,
    ) -> None:
        self.config = config
        self.count = count
        self.log_dir = log_dir
        self.workers: list[_Worker] = []
        self.launchers: list[str] = []
        self.answers: bytes | None = None

    def _spawn(self, index: int) -> _Worker:
        worker = _Worker(index, self.config, self.log_dir / f"worker-{index}.log")
        if self.answers is not None:
            worker.give(self.answers)
        return worker

    def share(self, answers: dict[str, Any]) -> None:
        """Send every worker, and every worker started later, the answers the batch process
        computed (trusted.shared_answers); with `answers_sent` in the config, workers wait for
        them before they are ready."""
        self.answers = json.dumps(answers).encode() + b"\n"
        for worker in self.workers:
            worker.give(self.answers)

    def spawn(self) -> None:
        """Start every worker without waiting: they load the rubric and start their zygotes
        (a second or two) while the caller does its own preparation."""
        self.workers = [self._spawn(index) for index in range(self.count)]

    def wait_ready(self) -> list[str]:
        """Wait until every worker is ready; how each launches children. A worker that cannot
        start is a broken setup: raise."""
        for worker in self.workers:
            self._await_ready(worker)
        self.launchers = [worker.ready or "" for worker in self.workers]
        return self.launchers

    def _await_ready(self, worker: _Worker) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        with selectors.DefaultSelector() as selector:
            selector.register(worker.replies, selectors.EVENT_READ)
            while worker.ready is None:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"grading worker {worker.index} did not start within {START_TIMEOUT:g} s"
                    )
                selector.select(timeout=1.0)
                lines, ended = worker.read_lines()
                for line in lines:
                    worker.ready = json.loads(line).get("ready")
                if ended and worker.ready is None:
                    log = self.log_dir / f"worker-{worker.index}.log"
                    tail = log.read_text(errors="replace")[-3000:]
                    raise RuntimeError(
                        f"grading worker {worker.index} "
                        f"{worker.exit_description()} while starting:\n{tail}"
                    )

    def close(self) -> None:
        for worker in self.workers:
            worker.kill()
        self.workers = []

    def run(
        self,
        tasks: Iterable[Task],
        timeout: float,
        on_result: Callable[[Task, dict[str, Any], float], None],
    ) -> None:
        """Grade every task; `on_result(task, reply, seconds)` runs in this process, in
        completion order. A reply is a worker's answer, or {"error": ..., "detail": ...}."""
        pending = deque(tasks)
        with selectors.DefaultSelector() as selector:
            for worker in self.workers:
                selector.register(worker.replies, selectors.EVENT_READ, worker)
            while pending or any(w.task is not None for w in self.workers):
                for worker in self.workers:  # a dead one refuses: replaced at its pipe's end
                    if worker.task is None and pending and worker.send(pending[0], timeout):
                        pending.popleft()
                busy = [w for w in self.workers if w.task is not None]
                wait = max(min(w.deadline for w in busy) - time.monotonic(), 0) if busy else 0
                for key, _ in selector.select(timeout=min(wait, 1.0)):
                    worker = key.data
                    lines, ended = worker.read_lines()
                    for line in lines:
                        self._finish(worker, json.loads(line), pending, timeout, on_result)
                    if ended:
                        selector.unregister(worker.replies)
                        replacement = self._replace(worker, on_result, None)
                        selector.register(replacement.replies, selectors.EVENT_READ, replacement)
                now = time.monotonic()
                for worker in list(self.workers):
                    if worker.task is not None and now > worker.deadline:
                        selector.unregister(worker.replies)
                        replacement = self._replace(worker, on_result, timeout)
                        selector.register(replacement.replies, selectors.EVENT_READ, replacement)

    @staticmethod
    def _finish(
        worker: _Worker,
        reply: dict[str, Any],
        pending: deque[Task],
        timeout: float,
        on_result: Callable[[Task, dict[str, Any], float], None],
    ) -> None:
        """Hand the worker its next task first, then record its result: the worker grades
        while this process writes."""
        task, worker.task = worker.task, None
        seconds = time.monotonic() - worker.started
        reply.setdefault("worker", f"local-{worker.index}")
        if pending and worker.send(pending[0], timeout):
            pending.popleft()
        if task is not None:
            on_result(task, reply, seconds)

    def _replace(
        self,
        worker: _Worker,
        on_result: Callable[[Task, dict[str, Any], float], None],
        overran: float | None,
    ) -> _Worker:
        """Kill a worker that died or overran, report its task, start a fresh one."""
        task = worker.task
        worker.kill()
        if task is not None:
            if overran is not None:
                reply = {
                    "error": "grader_timeout",
                    "detail": (
                        f"grading did not finish within {overran:g} s; the grading process was "
                        "stopped"
                    ),
                }
            else:
                reply = {
                    "error": "internal_error",
                    "detail": f"the grading process {worker.exit_description()}",
                }
            reply["worker"] = f"local-{worker.index}"
            on_result(task, reply, time.monotonic() - worker.started)
        replacement = self._spawn(worker.index)
        self._await_ready(replacement)
        self.workers[worker.index] = replacement
        return replacement


def entry(argv: list[str]) -> None:
    """A worker process's main: the config (JSON) and the reply pipe's descriptor."""
    config_data = json.loads(argv[0])
    config_data["preload"] = tuple(config_data["preload"])
    protected = config_data["protected"]
    config_data["protected"] = Protected(tuple(protected["secret"]), tuple(protected["outputs"]))
    with os.fdopen(int(argv[1]), "wb") as reply_stream:
        worker_main(WorkerConfig(**config_data), reply_stream)


# A worker imports the grader the batch itself runs, wherever the batch was started: `python -m`
# would put the current directory first on sys.path, and a folder there named `grader` (a clone
# of this repository, a course folder) would shadow the installed package.
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
_BOOTSTRAP = (
    "import sys; sys.path[0] = sys.argv.pop(1); "
    "from grader.batch.workers import entry; entry(sys.argv[1:])"
)


def worker_command(config: WorkerConfig, reply_fd: int) -> list[str]:
    """The command line of one worker process (independent of the current directory)."""
    return [
        sys.executable,
        "-c",
        _BOOTSTRAP,
        _PACKAGE_ROOT,
        json.dumps(asdict(config)),
        str(reply_fd),
    ]


if __name__ == "__main__":
    entry(sys.argv[1:])
