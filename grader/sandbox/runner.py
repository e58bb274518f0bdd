"""The trusted side of the sandbox boundary: one child process per submission, on demand.

Every request gets its own deadline. A child that crashes, exits or overruns is killed with its
whole session, and the next request starts a fresh one, so one bad function costs one answer.
The grader never receives anything from the child but JSON data decoded by `wire`.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.sandbox import wire

SANDBOX_DIR = Path(__file__).parent
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits for one child; the rubric's `limits` block fills these in."""

    import_timeout: float = 60.0
    memory_mb: int = 2048
    file_mb: int = 64
    open_files: int = 256
    max_response_bytes: int = 32 << 20
    output_tail_bytes: int = 8192


@dataclass
class Reply:
    """What one request produced: a decoded value, or the reason there is none.

    `status` is one of: ok, missing, not_callable, exception, import_error, timeout, crashed,
    unsendable, protocol_error.
    """

    status: str
    value: Any = None
    error_type: str = ""
    message: str = ""
    traceback: str = ""
    output: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _bootstrap_source() -> str:
    """Python source that installs wire.py as grader.sandbox.wire, then runs child_main.py.

    The child gets the grader's code as text on its command line, so no file of the grader's
    has to be readable from inside the sandbox.
    """
    wire_source = (SANDBOX_DIR / "wire.py").read_text()
    child_source = (SANDBOX_DIR / "child_main.py").read_text()
    return (
        "import sys, types, json\n"
        "for _n in ('grader', 'grader.sandbox'):\n"
        "    _m = types.ModuleType(_n); _m.__path__ = []; sys.modules[_n] = _m\n"
        "_w = types.ModuleType('grader.sandbox.wire')\n"
        "sys.modules['grader.sandbox.wire'] = _w; sys.modules['grader.sandbox'].wire = _w\n"
        f"exec(compile({wire_source!r}, 'grader/sandbox/wire.py', 'exec'), _w.__dict__)\n"
        "_c = types.ModuleType('grader_child'); sys.modules['grader_child'] = _c\n"
        f"exec(compile({child_source!r}, 'grader/sandbox/child_main.py', 'exec'), _c.__dict__)\n"
        "_c.main(json.loads(sys.argv[1]))\n"
    )


_BOOTSTRAP: str | None = None


def bootstrap_source() -> str:
    global _BOOTSTRAP
    if _BOOTSTRAP is None:
        _BOOTSTRAP = _bootstrap_source()
    return _BOOTSTRAP


def child_environment(workdir: Path) -> dict[str, str]:
    """A scrubbed environment: nothing of the grader's variables reaches student code."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
    }
    env.update(dict.fromkeys(THREAD_VARIABLES, "1"))
    return env


class OutputTail(threading.Thread):
    """Drains the child's raw stdout/stderr so it never blocks, keeping only the last bytes."""

    def __init__(self, fd: int, keep: int) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.keep = keep
        self.tail = b""
        self.total = 0

    def run(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            self.total += len(chunk)
            self.tail = (self.tail + chunk)[-self.keep:]
        os.close(self.fd)

    def text(self) -> str:
        return self.tail.decode("utf-8", "replace")


@dataclass
class _Child:
    process: subprocess.Popen
    requests: int
    responses: int
    output: OutputTail
    buffer: bytearray = field(default_factory=bytearray)
    harness_loaded: bool = False


class SandboxSession:
    """Runs one submission's code in a child process and asks it for values and calls.

    The child imports the entry file once; requests after a crash or a timeout transparently
    start a new child (and pay the import again).
    """

    def __init__(self, workdir: Path, entry: str, limits: SandboxLimits | None = None,
                 harness_source: str | None = None) -> None:
        self.workdir = Path(workdir).resolve()
        self.entry = entry
        self.limits = limits or SandboxLimits()
        self.harness_source = harness_source
        self.child: _Child | None = None
        self.import_reply: Reply | None = None
        self.starts = 0

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> Reply:
        """Start a child and import the submission; the reply says whether that worked."""
        self.close()
        request_read, request_write = os.pipe()
        response_read, response_write = os.pipe()
        output_read, output_write = os.pipe()
        config = {
            "workdir": str(self.workdir),
            "entry": self.entry,
            "request_fd": request_read,
            "response_fd": response_write,
            "max_response_bytes": self.limits.max_response_bytes,
            "memory_mb": self.limits.memory_mb,
            "file_mb": self.limits.file_mb,
            "open_files": self.limits.open_files,
        }
        started = time.monotonic()
        try:
            process = subprocess.Popen(
                [sys.executable, "-I", "-c", bootstrap_source(), json.dumps(config)],
                stdin=subprocess.DEVNULL,
                stdout=output_write,
                stderr=output_write,
                pass_fds=(request_read, response_write),
                cwd=self.workdir,
                env=child_environment(self.workdir),
                start_new_session=True,
                close_fds=True,
            )
        finally:
            for fd in (request_read, response_write, output_write):
                os.close(fd)
        output = OutputTail(output_read, self.limits.output_tail_bytes)
        output.start()
        self.child = _Child(process, request_write, response_read, output)
        self.starts += 1
        reply = self._receive(started + self.limits.import_timeout, started)
        if reply.status == "ready":
            reply.status = "ok"
        elif reply.status == "timeout":
            reply.message = (f"importing the submission took longer than "
                             f"{self.limits.import_timeout:g} s")
        elif reply.status != "import_error":
            reply.message = reply.message or "the submission ended the process while importing"
        if not reply.ok:
            self.close()
        self.import_reply = reply
        return reply

    def close(self) -> None:
        """Kill the child's whole session and reap it; idempotent."""
        child, self.child = self.child, None
        if child is None:
            return
        for fd in (child.requests, child.responses):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.process.pid, signal.SIGKILL)
        child.process.wait()
        child.output.join(timeout=1.0)

    def __enter__(self) -> SandboxSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests -------------------------------------------------------------------------
    def value(self, name: str, timeout: float) -> Reply:
        """The value the submission bound to `name`."""
        return self.request({"op": "value", "name": name}, timeout)

    def call(self, name: str, args: list[Any], timeout: float,
             harness: str | None = None) -> Reply:
        """Call the submission's function `name` with positional `args` (plain data); with
        `harness`, call that harness function with the student's function and the args."""
        message = {"op": "call", "name": name, "args": [wire.encode(arg) for arg in args]}
        if harness is not None:
            loaded = self._load_harness(timeout)
            if loaded is not None:
                return loaded
            message["harness"] = harness
        return self.request(message, timeout)

    def _load_harness(self, timeout: float) -> Reply | None:
        """Send the harness module to the current child once; a failure reply, or None."""
        if self.child is not None and self.child.harness_loaded:
            return None
        if self.harness_source is None:
            return Reply("harness_error", message="this rubric has no harness module")
        reply = self.request({"op": "load_harness", "source": self.harness_source}, timeout)
        if not reply.ok:
            return reply
        assert self.child is not None
        self.child.harness_loaded = True
        return None

    def kind(self, name: str, timeout: float) -> Reply:
        """Whether `name` is a function or a value in the submission."""
        return self.request({"op": "kind", "name": name}, timeout)

    def request(self, message: dict[str, Any], timeout: float) -> Reply:
        if self.child is None:
            if self.import_reply is not None and not self.import_reply.ok:
                return self.import_reply
            started = self.start()
            if not started.ok:
                return started
        assert self.child is not None
        started = time.monotonic()
        try:
            os.write(self.child.requests, wire.dumps(message))
        except OSError:
            self.close()
            return Reply("crashed", message="the submission's process had already ended")
        reply = self._receive(started + timeout, started)
        if reply.status == "timeout":
            reply.message = f"did not finish within the {timeout:g} s time limit"
        if reply.status in ("timeout", "crashed", "protocol_error"):
            self.close()
        return reply

    def _receive(self, deadline: float, started: float) -> Reply:
        """Read one response line before the deadline, or explain why there is none."""
        assert self.child is not None
        child = self.child
        while b"\n" not in child.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Reply("timeout", seconds=time.monotonic() - started)
            ready, _, _ = select.select([child.responses], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(child.responses, 1 << 20)
            if not chunk:
                return self._crash_reply(started)
            child.buffer += chunk
            if len(child.buffer) > self.limits.max_response_bytes + 65536:
                return Reply("unsendable", message="the returned value is too large",
                             seconds=time.monotonic() - started)
        line, _, rest = bytes(child.buffer).partition(b"\n")
        child.buffer = bytearray(rest)
        seconds = time.monotonic() - started
        try:
            message = wire.loads(line)
            if not isinstance(message, dict):
                raise wire.WireError("response is not an object")
            status = str(message.get("status", "protocol_error"))
            value = wire.decode(message["value"]) if status == "ok" else None
        except (wire.WireError, KeyError, RecursionError) as error:
            return Reply("protocol_error", message=f"unreadable reply from the submission: "
                         f"{error}", seconds=seconds)
        return Reply(
            status,
            value=value,
            error_type=str(message.get("type", "")),
            message=str(message.get("message", "")),
            traceback=str(message.get("traceback", "")),
            output=str(message.get("output", "")),
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
        if code is not None and code < 0:
            what = f"was killed by signal {_signal_name(-code)}"
            if -code == signal.SIGKILL:
                what += " (often: out of memory)"
        elif code is not None:
            what = f"exited with status {code}"
        else:
            what = "closed its connection to the grader"
        return Reply("crashed", message=f"the submission's process {what}",
                     output=self.child.output.text()[-2000:],
                     seconds=time.monotonic() - started)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)
