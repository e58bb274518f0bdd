"""The trusted side of the sandbox boundary: one child process per submission, on demand.

Every request gets its own deadline. A child that crashes, exits or overruns is killed with
every process it started, and the next request starts a fresh one, so one bad function costs
one answer. The grader never receives anything from the child but JSON data decoded by `wire`.

The protocol runs over the child's stdin and stdout (the child moves them aside before any
student code runs, so prints cannot reach it), read by a thread so that deadlines work the same
on Linux, macOS and Windows.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import queue
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from grader.sandbox import wire
from grader.sandbox.bootstrap import THREAD_VARIABLES, bootstrap_source
from grader.sandbox.identities import claim_identity, empty_uid
from grader.sandbox.plan import NOTHING_PROTECTED, Protected, SandboxLimits, build_plan, hand_over

END_OF_STREAM = b""
ANSWERS: dict[str, frozenset[str]] = {
    "value": frozenset({"ok", "missing", "exception", "unsendable"}),
    "kind": frozenset({"ok", "missing", "exception"}),
    "call": frozenset({"ok", "missing", "not_callable", "exception", "unsendable"}),
    "map": frozenset({"ok", "missing", "not_callable", "exception", "unsendable"}),
    "load_harness": frozenset({"ok", "harness_error"}),
}
"""The statuses the child may answer each request with. Any other status is forged (the
child's own code never sends it) and is the submission's protocol error: "timeout", "crashed"
and "protocol_error" are the grader's to say, never the child's, and "harness_error" only
answers a request that ran the rubric's harness."""
START_UP = frozenset({"layers", "policy_refused", "ready", "import_error", "import_hung"})
"""Statuses of the child's start-up. A request skips them: the child's genuine "ready" may
trail one the submission forged while it was being imported."""


OUTPUT_KEPT = wire.MAX_OUTPUT + 100
"""Characters kept of what a request printed: the child's cap and its note on what it dropped."""
WATCH_INTERVAL = 0.1
"""Seconds between two looks at the work folder: what a child can write in that time is how
far it can go over the folder's bounds."""
OVERRUN = "your code wrote"


class SandboxPolicyError(RuntimeError):
    """Strict policy refused to run student code: no layer it could apply keeps the child out
    of the files the grader protects."""


@dataclass
class Reply:
    """What one request produced: a decoded value, or the reason there is none.

    `status` is one of: ok, missing, not_callable, exception, import_error, timeout, crashed,
    unsendable, protocol_error, harness_error, policy_refused. Text fields hold what the
    child sent, cut to the caps in `wire` whatever the child claims to have cut.
    """

    status: str
    value: Any = None
    error_type: str = ""
    message: str = ""
    traceback: str = ""
    output: str = ""
    seconds: float = 0.0
    graders_fault: bool = False
    """Set by the grader only, for a harness that failed to load in a child that ran no student
    code (see verify_harness); every other failure is the submission's."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def child_environment(workdir: Path) -> dict[str, str]:
    """A scrubbed environment: nothing of the grader's variables reaches student code."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "LANG": "C.UTF-8",
    }
    env.update(dict.fromkeys(THREAD_VARIABLES, "1"))
    if os.name == "nt":  # Windows cannot start Python without these
        env.update({k: os.environ[k] for k in ("SYSTEMROOT", "SYSTEMDRIVE") if k in os.environ})
    return env


class OutputTail(threading.Thread):
    """Drains the child's raw stdout/stderr so it never blocks, keeping only the last bytes."""

    def __init__(self, stream: io.BufferedReader, keep: int) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.keep = keep
        self.tail = b""

    def run(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            while chunk := self.stream.read1(65536):
                self.tail = (self.tail + chunk)[-self.keep :]

    def text(self) -> str:
        return self.tail.decode("utf-8", "replace")


class ThreadLineReader(threading.Thread):
    """Reads protocol lines from the child into a queue; a line over the cap ends the stream.
    For Windows, whose pipes cannot be polled; elsewhere PollLineReader saves the two thread
    switches per reply."""

    def __init__(self, stream: IO[bytes], cap: int) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.cap = cap
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self.start()

    def run(self) -> None:
        try:
            while True:
                line = self.stream.readline(self.cap + 1)
                if not line.endswith(b"\n"):
                    self.lines.put(None if len(line) > self.cap else END_OF_STREAM)
                    return
                self.lines.put(line)
        except (OSError, ValueError):
            self.lines.put(END_OF_STREAM)

    def get(self, timeout: float) -> bytes | None:
        """The next line, None for a line over the cap, END_OF_STREAM; queue.Empty on timeout."""
        return self.lines.get(timeout=timeout)

    def finish(self) -> bool:
        """Whether the reader has stopped, so its stream may be closed."""
        self.join(timeout=1.0)
        return not self.is_alive()


class PollLineReader:
    """Reads protocol lines from the child's pipe in the calling thread, waiting with poll():
    a reply is handled as soon as it arrives, with no thread in between (a round trip to a
    warm child takes 0.2 ms, half of it the thread hand-over this avoids)."""

    def __init__(self, stream: IO[bytes], cap: int) -> None:
        self.fd = stream.fileno()
        self.cap = cap
        self.buffer = bytearray()
        self.scanned = 0  # bytes of the buffer known to hold no newline
        self.ended = False
        os.set_blocking(self.fd, False)
        self.poller = select.poll()
        self.poller.register(self.fd, select.POLLIN)

    def get(self, timeout: float) -> bytes | None:
        """The next line, None for a line over the cap, END_OF_STREAM; queue.Empty on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            end = self.buffer.find(b"\n", self.scanned)
            if 0 <= end <= self.cap:
                line = bytes(self.buffer[: end + 1])
                del self.buffer[: end + 1]
                self.scanned = 0
                return line
            self.scanned = len(self.buffer)
            if end > self.cap or len(self.buffer) > self.cap:
                self.ended = True
                self.buffer.clear()
                return None
            if self.ended:
                return END_OF_STREAM
            left = deadline - time.monotonic()
            if left <= 0 or not self.poller.poll(left * 1000):
                raise queue.Empty
            try:
                chunk = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if chunk:
                self.buffer += chunk
            else:
                self.ended = True

    def finish(self) -> bool:
        return True


LineReader = ThreadLineReader if os.name == "nt" else PollLineReader


@dataclass
class _Child:
    process: ChildProcess
    reader: ThreadLineReader | PollLineReader
    output: OutputTail
    harness_loaded: bool = False


def _kill_tree(process: ChildProcess) -> None:
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        process.kill()


def stray_processes(child_pid: int, uid: int | None) -> list[int]:
    """Processes the child started: in its session, or (when it runs as the sandbox user) any
    process of that user, since a daemon can leave the session but not its uid."""
    found: list[int] = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == child_pid:
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            owner = _real_uid(entry) if uid is not None else None
        except (OSError, IndexError, ValueError):
            continue
        if int(fields[3]) == child_pid or (uid is not None and owner == uid):
            found.append(int(entry.name))
    return found


def _real_uid(entry: Path) -> int:
    """The process's real uid from the text of /proc/<pid>/status: the file's owner is root
    for a process that is not dumpable, as the sandbox child is after its uid switch."""
    for line in (entry / "status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise ValueError("no Uid line")


def kill_strays(child_pid: int, uid: int | None) -> None:
    for pid in stray_processes(child_pid, uid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def folder_overrun(folder: Path, max_entries: int, max_bytes: int) -> str | None:
    """Why `folder` holds more than the child may write there (too many files and folders, or
    too many bytes on disk), or None. Stops counting at the bound, so a folder of a million
    files costs no more to check than one just over it."""
    entries, used, pending = 0, 0, [folder]
    while pending:
        try:
            scan = os.scandir(pending.pop())
        except OSError:
            continue
        with scan:
            for entry in scan:
                entries += 1
                if entries > max_entries:
                    return f"more than {max_entries} files"
                try:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(Path(entry.path))
                    used += entry.stat(follow_symlinks=False).st_blocks * 512
                except OSError:
                    continue
                if used > max_bytes:
                    return f"more than {max_bytes >> 20} MB"
    return None


def empty_folder(folder: Path, keep: frozenset[str]) -> None:
    """Remove everything in `folder` but the entries named in `keep`."""
    for entry in folder.iterdir():
        if entry.name in keep:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


class ChildProcess(Protocol):
    """What the session needs of a started child: the subset of subprocess.Popen it uses."""

    pid: int
    stdin: io.BufferedWriter
    stdout: io.BufferedReader
    stderr: io.BufferedReader

    def wait(self, timeout: float | None = None) -> int: ...

    def kill(self) -> None: ...


class Launcher(Protocol):
    """Starts a child that runs child_main with `config`, in `workdir`, in its own session."""

    def launch(
        self, config: dict[str, Any], workdir: Path, env: dict[str, str]
    ) -> ChildProcess: ...


class FreshInterpreter:
    """One new `python -I -B -c BOOTSTRAP` per child: nothing shared, and the imports paid by
    every child (see zygote.py for the warm alternative)."""

    def launch(self, config: dict[str, Any], workdir: Path, env: dict[str, str]) -> ChildProcess:
        separate: dict[str, Any] = (
            {"start_new_session": True}
            if os.name == "posix"
            else {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
        )
        process = subprocess.Popen(
            [sys.executable, "-I", "-B", "-c", bootstrap_source(), json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=workdir,
            env=env,
            close_fds=True,
            **separate,
        )
        return PipedProcess(process)


class PipedProcess:
    """A Popen started with three pipes, typed as having them (Popen's own attributes are
    Optional because a Popen may be started without pipes)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        stdin, stdout, stderr = process.stdin, process.stdout, process.stderr
        assert isinstance(stdin, io.BufferedWriter)  # PIPE with the default buffering
        assert isinstance(stdout, io.BufferedReader) and isinstance(stderr, io.BufferedReader)
        self.process = process
        self.pid = process.pid
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr

    def wait(self, timeout: float | None = None) -> int:
        return self.process.wait(timeout)

    def kill(self) -> None:
        self.process.kill()


FRESH_INTERPRETER = FreshInterpreter()


class SandboxSession:
    """Runs one submission's code in a child process and asks it for values and calls.

    The child applies the sandbox layers, imports the entry file once, and answers requests;
    requests after a crash or a timeout transparently start a new child (and pay the import
    again).
    """

    def __init__(
        self,
        workdir: Path,
        entry: str,
        limits: SandboxLimits | None = None,
        harness_source: str | None = None,
        policy: str = "lenient",
        launcher: Launcher | None = None,
        protected: Protected = NOTHING_PROTECTED,
    ) -> None:
        """As root, the session claims a uid of its own until `end()` (sandbox.identities):
        its children become that uid, and ending one kills no other session's process."""
        self.workdir = Path(workdir).resolve()
        self.entry = entry
        self.limits = limits or SandboxLimits()
        self.harness_source = harness_source
        self.launcher = launcher or FRESH_INTERPRETER
        self.claim = claim_identity()
        self.child: _Child | None = None
        self.import_reply: Reply | None = None
        self.layers: dict[str, Any] = {}
        self.starts = 0
        self.uid_emptied = False
        """Whether the last close killed every process of the session's uid (see _sweep)."""
        try:
            identity = self.claim.identity if self.claim is not None else None
            self.plan = build_plan(self.workdir, self.limits, policy, identity, protected)
            if self.plan.get("uid") is None and self.claim is not None:
                self.claim.release(emptied=True)  # the uid layer is off: nothing to hold
            hand_over(self.workdir, self.plan)
            self.staged = frozenset(entry.name for entry in self.workdir.iterdir())
        except BaseException:
            if self.claim is not None:  # no child ran: free the uid now, not when collected
                self.claim.release(emptied=True)
            raise
        self.watched_at = 0.0

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> Reply:
        """Start a child and import the submission; the reply says whether that worked."""
        self.close()
        config = {
            "workdir": str(self.workdir),
            "entry": self.entry,
            "plan": self.plan,
            "max_response_bytes": self.limits.max_response_bytes,
            # The child reports the line its import is running just before this (wall clock).
            "import_deadline": time.time() + self.limits.import_timeout,
        }
        started = time.monotonic()
        process = self.launcher.launch(config, self.workdir, child_environment(self.workdir))
        reader = LineReader(process.stdout, self.limits.max_response_bytes)
        output = OutputTail(process.stderr, self.limits.output_tail_bytes)
        output.start()
        self.child = _Child(process, reader, output)
        self.starts += 1
        deadline = started + self.limits.import_timeout
        reply = self._receive(deadline, started, frozenset({"layers", "policy_refused"}))
        if reply.status in ("layers", "policy_refused"):
            self.layers = reply.value if isinstance(reply.value, dict) else {}
        if reply.status == "layers":
            reply = self._receive(deadline, started, START_UP)
            while reply.status in ("layers", "policy_refused"):  # forged by the submission
                reply = self._receive(deadline, started, START_UP)
        if reply.status == "ready":
            reply.status = "ok"
        elif reply.status in ("timeout", "import_hung"):
            where = reply.traceback.rstrip() if reply.status == "import_hung" else ""
            reply.status, reply.traceback = "timeout", ""
            reply.message = (
                f"importing the submission took longer than {self.limits.import_timeout:g} s"
                + (f"; it was still running:\n{where}" if where else "")
            )
        elif reply.status == "protocol_error":
            reply.status = "import_error"
            reply.error_type = ""
        elif reply.status not in ("import_error", "policy_refused"):
            reply.message = reply.message or "the submission ended the process while importing"
        if not reply.ok:
            self.close()
        if reply.status == "policy_refused":
            raise SandboxPolicyError(reply.message)
        self.import_reply = reply
        return reply

    def close(self) -> None:
        """Kill the child and everything it started, and reap it; idempotent."""
        child, self.child = self.child, None
        if child is None:
            return
        _kill_tree(child.process)
        child.process.wait()
        if not self._forking_forbidden:
            self._sweep(child.process.pid)
        with contextlib.suppress(OSError):
            child.process.stdin.close()
        # A stream may only be closed once its reader has seen the end: closing it under a
        # blocked reader waits for the stream's lock, i.e. for an escaped daemon to exit.
        if child.reader.finish():
            child.process.stdout.close()
        child.output.join(timeout=1.0)
        if not child.output.is_alive():
            child.process.stderr.close()

    def _sweep(self, child_pid: int) -> None:
        """Kill what the dead child started. As a uid of its own, every process of that uid,
        in one kill(-1) a process that keeps forking anew cannot escape (sandbox.identities):
        the next child of this session (a restart, the hidden phase) starts among none of
        them. Without a uid, the processes of the child's session found in /proc."""
        uid = self.plan.get("uid")
        if uid is None:
            kill_strays(child_pid, None)
            return
        self.uid_emptied = empty_uid(uid, self.plan["gid"])
        if not self.uid_emptied:
            kill_strays(child_pid, uid)  # the best that can be done; the uid stays marked

    def end(self) -> None:
        """Close the child, then free the session's uid, saying whether no process of it is
        left: none could be started (no child ran, or seccomp forbade forking), or the last
        close killed every one."""
        self.close()
        if self.claim is None:
            return
        self.claim.release(
            emptied=self.plan.get("uid") is None
            or self.starts == 0
            or self._forking_forbidden
            or self.uid_emptied
        )

    def __enter__(self) -> SandboxSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.end()

    # -- requests -------------------------------------------------------------------------
    def value(self, name: str, timeout: float) -> Reply:
        """The value the submission bound to `name`."""
        return self.request({"op": "value", "name": name}, timeout)

    def call(self, name: str, args: list[Any], timeout: float, harness: str | None = None) -> Reply:
        """Call the submission's function `name` with positional `args` (plain data); with
        `harness`, call that harness function with the student's function and the args."""
        message = {"op": "call", "name": name, "args": [wire.encode(arg) for arg in args]}
        if harness is not None:
            loaded = self._load_harness(timeout)
            if loaded is not None:
                return loaded
            message["harness"] = harness
        return self.request(message, timeout)

    def map(self, name: str, calls: list[list[Any]], timeout: float) -> Reply:
        """Call the submission's function `name` once per argument list, in order, in one
        request (one round trip instead of one per call): the list of results, or the first
        call's failure. `timeout` bounds them all together."""
        message = {
            "op": "map",
            "name": name,
            "calls": [[wire.encode(arg) for arg in args] for args in calls],
        }
        return self.request(message, timeout)

    def kind(self, name: str, timeout: float) -> Reply:
        """Whether `name` is a function or a value in the submission."""
        return self.request({"op": "kind", "name": name}, timeout)

    def _load_harness(self, timeout: float) -> Reply | None:
        """Send the harness module to the current child once; a failure reply, or None."""
        if self.child is not None and self.child.harness_loaded:
            return None
        if self.harness_source is None:
            return Reply("harness_error", message="this rubric has no harness module")
        reply = self.request({"op": "load_harness", "source": self.harness_source}, timeout)
        if reply.status == "harness_error":
            self.close()  # nothing of this child may be alive beside the clean one
            return verify_harness(self, timeout)
        if not reply.ok:
            return reply
        assert self.child is not None
        self.child.harness_loaded = True
        return None

    def request(self, message: dict[str, Any], timeout: float) -> Reply:
        if self.child is None:
            if self.import_reply is not None and not self.import_reply.ok:
                return self.import_reply
            imported = self.start()
            if not imported.ok:
                return imported
        assert self.child is not None
        started = time.monotonic()
        try:
            self.child.process.stdin.write(wire.dumps(message))
            self.child.process.stdin.flush()
        except (OSError, ValueError):
            reply = self._crash_reply(started)
            self.close()
            return reply
        allowed = ANSWERS[message["op"]] | START_UP
        if message.get("harness") is not None:
            allowed |= {"harness_error"}
        reply = self._receive(started + timeout, started, allowed)
        while reply.status in START_UP:
            reply = self._receive(started + timeout, started, allowed)
        reply = self._overrun_reply(started) or reply
        if reply.status == "timeout":
            reply.message = f"did not finish within the {timeout:g} s time limit"
        if reply.status in ("timeout", "crashed", "protocol_error") or (
            reply.status == "unsendable" and reply.message.startswith("the returned value")
        ):
            self.close()
            if reply.status == "crashed" and reply.message.startswith(OVERRUN):
                empty_folder(self.workdir, self.staged)
        elif not self._forking_forbidden:
            kill_strays(self.child.process.pid, self.plan.get("uid"))
        return reply

    @property
    def _forking_forbidden(self) -> bool:
        """With seccomp the child cannot start processes, so there is nothing to reap, and no
        reason to sweep the sandbox uid (which a concurrent grading may share)."""
        return "seccomp" in " ".join(self.layers.get("applied", []))

    def _overrun_reply(self, started: float) -> Reply | None:
        """A crash charged to the submission if its work folder went over its bounds. Looks
        at most once per WATCH_INTERVAL, so that a part's hundreds of quick requests cost one
        look each 0.1 s, not one each."""
        now = time.monotonic()
        if now - self.watched_at < WATCH_INTERVAL:
            return None
        self.watched_at = now
        over = folder_overrun(self.workdir, self.limits.workdir_files, self.limits.workdir_mb << 20)
        if over is None:
            return None
        return Reply(
            "crashed",
            message=f"{OVERRUN} {over} in its work folder; its process was stopped",
            seconds=time.monotonic() - started,
        )

    def _receive(self, deadline: float, started: float, allowed: frozenset[str]) -> Reply:
        """Wait for one response line until the deadline, or explain why there is none. A
        status outside `allowed`, or anything malformed, is the submission's protocol error,
        told in the grader's words only. While waiting, look at the work folder every
        WATCH_INTERVAL: nothing else bounds the number of files, or their total size
        (RLIMIT_FSIZE bounds each file)."""
        assert self.child is not None
        while True:
            left = deadline - time.monotonic()
            try:
                line = self.child.reader.get(max(min(left, WATCH_INTERVAL), 0))
                break
            except queue.Empty:
                if left <= WATCH_INTERVAL:
                    return Reply("timeout", seconds=time.monotonic() - started)
                overrun = self._overrun_reply(started)
                if overrun is not None:
                    return overrun
        seconds = time.monotonic() - started
        if line is None:
            return Reply("unsendable", message="the returned value is too large", seconds=seconds)
        if line == END_OF_STREAM:
            return self._crash_reply(started)
        try:
            message = wire.loads(line)
            if not isinstance(message, dict):
                raise wire.WireError("not an object")
            status = message.get("status")
            if not isinstance(status, str) or status not in allowed:
                raise wire.WireError("a status this request cannot have")
            value = (
                wire.decode(message.get("value"))
                if status == "ok"
                else message.get("value")
                if status in ("layers", "policy_refused")
                else None
            )
            texts = [message.get(field, "") for field in ("type", "message", "traceback", "output")]
            if not all(isinstance(text, str) for text in texts):
                raise wire.WireError("a text field that is not text")
        except (wire.WireError, RecursionError) as error:
            return Reply(
                "protocol_error",
                message=f"the submission's process sent an unreadable reply ({error})",
                seconds=seconds,
            )
        error_type, text, trace, output = texts
        return Reply(
            status,
            value=value,
            error_type=error_type[: wire.MAX_NAME],
            message=text[: wire.MAX_MESSAGE],
            traceback=trace[-wire.MAX_TRACEBACK :],
            output=output[:OUTPUT_KEPT],
            seconds=seconds,
        )

    def _crash_reply(self, started: float) -> Reply:
        assert self.child is not None
        process = self.child.process
        try:
            code = process.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            code = None
        self.child.output.join(timeout=0.5)
        return Reply(
            "crashed",
            message=f"the submission's process {_describe_exit(code)}",
            output=self.child.output.text()[-2000:],
            seconds=time.monotonic() - started,
        )


_HARNESS_VERDICTS: dict[str, Reply] = {}


def verify_harness(session: SandboxSession, timeout: float) -> Reply:
    """The reply to a harness that failed to load next to the student's code. The student's
    child can send that failure itself, so the harness is blamed only if it also fails in a
    child that imports no student code (once per harness and process): then the reply is the
    grader's fault, in that child's words. Otherwise the failure is the submission's.

    The verdict is kept per harness source, in this process: a batch worker pays one clean
    child for a broken harness, not one per submission."""
    assert session.harness_source is not None
    source = session.harness_source
    if source not in _HARNESS_VERDICTS:
        with tempfile.TemporaryDirectory(prefix="grader-harness-") as folder:
            (Path(folder) / "harness_check.py").write_text("")
            with SandboxSession(
                Path(folder),
                "harness_check.py",
                session.limits,
                source,
                session.plan["policy"],
                session.launcher,
            ) as clean:
                started = clean.start()
                verdict = (
                    clean.request({"op": "load_harness", "source": source}, timeout)
                    if started.ok
                    else started
                )
        verdict.graders_fault = verdict.status == "harness_error"
        _HARNESS_VERDICTS[source] = verdict
    verdict = _HARNESS_VERDICTS[source]
    if verdict.graders_fault:
        return verdict
    return Reply("harness_error", message="the harness could not be loaded beside this code")


EXIT_SIGNALS = {
    "SIGKILL": " (often: out of memory)",
    "SIGXCPU": " (CPU time limit reached)",
    "SIGXFSZ": " (file size limit reached)",
    "SIGSYS": " (forbidden system call)",
}


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "closed its connection to the grader"
    if code >= 0:
        return f"exited with status {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        return f"was killed by signal {-code}"
    return f"was killed by signal {name}{EXIT_SIGNALS.get(name, '')}"
