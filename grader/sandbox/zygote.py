"""Warm children: a zygote process that has imported numpy and torch once forks each child.

The trusted side of zygote_main.py. A `Zygote` is a Launcher for SandboxSession: sessions that
share one start children in milliseconds instead of paying an interpreter start and the
library imports per child (and per restart after hidden cases). It is Linux-only (it needs
pidfds and a fork that is safe with the libraries loaded); `warm_launcher` falls back to fresh
interpreters elsewhere and says why.

One zygote serves one grading process at a time: a session is single-threaded, and the exit
notices of its children are matched by pid.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.sandbox.bootstrap import THREAD_VARIABLES, bootstrap_source
from grader.sandbox.plan import seccomp_libraries

if TYPE_CHECKING:
    from grader.sandbox.runner import Launcher

DEFAULT_PRELOAD = ("numpy", "torch")
START_TIMEOUT = 120.0
MESSAGE_BYTES = 1 << 20


class ZygoteError(RuntimeError):
    """The zygote could not be started or stopped answering."""


class ForkedChild:
    """A child forked by the zygote, with the subset of subprocess.Popen a session uses."""

    def __init__(self, pid: int, pidfd: int | None, fds: tuple[int, int, int]) -> None:
        self.pid = pid
        self.pidfd = pidfd
        self.stdin = open(fds[0], "wb")  # noqa: SIM115 - closed by the session
        self.stdout = open(fds[1], "rb")  # noqa: SIM115
        self.stderr = open(fds[2], "rb")  # noqa: SIM115
        self.returncode: int | None = None
        self._exited = threading.Event()

    def exited(self, code: int) -> None:
        self.returncode = code
        self._exited.set()
        if self.pidfd is not None:
            with contextlib.suppress(OSError):
                os.close(self.pidfd)
            self.pidfd = None

    def wait(self, timeout: float | None = None) -> int:
        if not self._exited.wait(timeout):
            raise subprocess.TimeoutExpired(f"forked child {self.pid}", timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def poll(self) -> int | None:
        return self.returncode

    def kill(self) -> None:
        pidfd = self.pidfd
        if pidfd is not None and not self._exited.is_set():
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)


class Zygote:
    """A warm interpreter that forks sandboxed children on request; a Launcher.

    Started lazily by the first launch and restarted if it dies. `preload` names the modules
    imported before the first fork; one that is not installed is reported in `status`. A zygote
    spawned with `preload` None starts its interpreter and waits for the list (`load`), which a
    command knows only once it has read its rubric.
    """

    def __init__(self, preload: tuple[str, ...] | None = DEFAULT_PRELOAD) -> None:
        self.preload = None if preload is None else tuple(preload)
        self.process: subprocess.Popen[bytes] | None = None
        self.control: socket.socket | None = None
        self.status: dict[str, Any] = {}
        self._children: dict[int, ForkedChild] = {}
        self._spawned: list[dict[str, Any]] = []
        self._early_exits: dict[int, int] = {}
        self._lock = threading.Condition()
        self._reader: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> dict[str, Any]:
        """Start the zygote and wait until its imports and warm-ups are done; what it loaded,
        and the data-segment allowance its children get for them."""
        if self.preload is None:
            raise ZygoteError("the zygote's preload list is not known yet")
        self.spawn()
        return self.wait_ready()

    def spawn(self) -> None:
        """Start the zygote without waiting for it: its imports and warm-ups (seconds, with
        torch) then overlap with whatever the caller does before its first launch."""
        self.close()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/nonexistent"}
        env.update(dict.fromkeys(THREAD_VARIABLES, "1"))
        config: dict[str, Any] = {
            "parent": os.getpid(),
            "control_fd": theirs.fileno(),
            "seccomp_libraries": seccomp_libraries() if sys.platform == "linux" else {},
        }
        if self.preload is not None:
            config["preload"] = list(self.preload)
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-I",
                    "-B",
                    "-c",
                    bootstrap_source("zygote_main"),
                    json.dumps(config),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                cwd="/",
                env=env,
                pass_fds=[theirs.fileno()],
                start_new_session=True,
            )
        finally:
            theirs.close()
        self.control = ours

    def load(self, preload: tuple[str, ...]) -> None:
        """Send the preload list to a zygote spawned without one: its interpreter has started
        meanwhile, and it imports and warms the list now. A zygote that died meanwhile says so
        when it is waited for."""
        if self.preload is not None:
            raise ZygoteError("the zygote already has its preload list")
        self.preload = tuple(preload)
        if self.control is not None:
            with contextlib.suppress(OSError):
                message = json.dumps({"preload": list(self.preload)}).encode()
                socket.send_fds(self.control, [message], [])

    def wait_ready(self) -> dict[str, Any]:
        """Wait for the spawned zygote's readiness report (see start)."""
        if self.status:
            return self.status
        if self.preload is None:
            raise ZygoteError("the zygote's preload list is not known yet")
        ours = self.control
        if self.process is None or ours is None:
            raise ZygoteError("the zygote was not started")
        ours.settimeout(START_TIMEOUT)
        try:
            data, _, _, _ = socket.recv_fds(ours, MESSAGE_BYTES, 1)
        except OSError as error:
            self.close()
            raise ZygoteError(f"the zygote did not start: {error}") from None
        if not data:
            pipe = self.process.stderr
            stderr = (pipe.read() if pipe else b"").decode(errors="replace")[-2000:]
            self.close()
            raise ZygoteError(f"the zygote exited while starting: {stderr}")
        status = json.loads(data)["ready"]
        if "refused" in status:
            self.close()
            raise ZygoteError(status["refused"])
        self.status = status
        ours.settimeout(None)
        self._reader = threading.Thread(target=self._read, args=(ours,), daemon=True)
        self._reader.start()
        return self.status

    def close(self) -> None:
        """Stop the zygote; the children it forked die with it (they have a death signal)."""
        process, self.process = self.process, None
        control, self.control = self.control, None
        self.status = {}
        if process is not None:
            with contextlib.suppress(OSError):
                process.kill()
            process.wait()
            if process.stderr is not None:
                process.stderr.close()
        if control is not None:
            with contextlib.suppress(OSError):
                control.shutdown(socket.SHUT_RDWR)
            control.close()
        if self._reader is not None:
            self._reader.join(timeout=5)
            self._reader = None
        with self._lock:
            for child in self._children.values():
                child.exited(-signal.SIGKILL)
            self._children.clear()
            self._spawned.clear()
            self._lock.notify_all()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- launching ------------------------------------------------------------------------
    def launch(self, config: dict[str, Any], workdir: Path, env: dict[str, str]) -> ForkedChild:
        if not self.alive:
            self.start()
        elif not self.status:
            self.wait_ready()
        assert self.control is not None
        ends = [os.pipe() for _ in range(3)]
        theirs = [ends[0][0], ends[1][1], ends[2][1]]
        ours = (ends[0][1], ends[1][0], ends[2][0])
        request = {"config": config, "env": env}
        try:
            socket.send_fds(self.control, [json.dumps(request).encode()], theirs)
            reply = self._await_spawn()
        except BaseException:
            for fd in ours:
                os.close(fd)
            # A reply that arrives late would be taken for the next request's: start afresh.
            self.close()
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        if "error" in reply:
            for fd in ours:
                os.close(fd)
            raise ZygoteError(reply["error"])
        child = ForkedChild(reply["spawned"], reply.get("pidfd"), ours)
        with self._lock:
            if child.pid in self._early_exits:
                child.exited(self._early_exits.pop(child.pid))
            else:
                self._children[child.pid] = child
        return child

    def _await_spawn(self) -> dict[str, Any]:
        with self._lock:
            while not self._spawned:
                if not self._lock.wait(timeout=START_TIMEOUT) or self.control is None:
                    raise ZygoteError("the zygote stopped answering spawn requests")
            return self._spawned.pop(0)

    def _read(self, control: socket.socket) -> None:
        """Route the zygote's messages: spawn replies to the waiting launch, exit notices to
        their child. An exit may be reported before the launch has registered its child."""
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(control, MESSAGE_BYTES, 1)
            except OSError:
                data, fds = b"", []
            if not data:
                with self._lock:
                    for child in self._children.values():
                        child.exited(-signal.SIGKILL)
                    self._children.clear()
                    self.control = None if self.control is control else self.control
                    self._lock.notify_all()
                return
            message = json.loads(data)
            with self._lock:
                if "spawned" in message:
                    message["pidfd"] = fds[0] if fds else None
                    self._spawned.append(message)
                    self._lock.notify_all()
                elif "exited" in message:
                    pid: int = message["exited"]
                    ended = self._children.pop(pid, None)
                    if ended is None:
                        self._early_exits[pid] = message["code"]
                    else:
                        ended.exited(message["code"])


def spawn_zygote(preload: tuple[str, ...] | None = DEFAULT_PRELOAD) -> Zygote | None:
    """A zygote starting in the background where this platform allows one (see warm_launcher),
    for a caller with other work to do before its first child; with `preload` None, it waits
    for `Zygote.load`."""
    if sys.platform != "linux" or not hasattr(os, "pidfd_open"):
        return None
    zygote = Zygote(preload)
    try:
        zygote.spawn()
    except OSError:
        return None  # warm_launcher starts one afresh and reports why it could not
    return zygote


def warm_launcher(
    preload: tuple[str, ...] = DEFAULT_PRELOAD, spawned: Zygote | None = None
) -> tuple[Launcher, str]:
    """A started zygote where this platform allows one (`spawned`, if given, once it is
    ready), else fresh interpreters; and a line saying which, for the user."""
    # Imported here, once the zygote is spawned: the runner imports numpy (through the wire),
    # which a command starting its zygote first would otherwise pay before the spawn.
    from grader.sandbox.runner import FRESH_INTERPRETER

    if sys.platform != "linux" or not hasattr(os, "pidfd_open"):
        return FRESH_INTERPRETER, "fresh interpreter per child (a zygote needs Linux pidfds)"
    zygote = spawned or Zygote(preload)
    try:
        status = zygote.wait_ready() if zygote.process is not None else zygote.start()
    except (ZygoteError, OSError) as error:
        zygote.close()
        return FRESH_INTERPRETER, f"fresh interpreter per child (zygote refused: {error})"
    missing = "".join(f"; {name} not preloaded ({why})" for name, why in status["failed"].items())
    cold = "".join(
        f"; {name} not warmed ({why})" for name, why in status.get("warm_up_failed", {}).items()
    )
    warmed = ", ".join(status.get("warmed", []))
    loaded = ", ".join(status["loaded"]) or "no modules"
    return zygote, (
        f"zygote with {loaded} preloaded{f' ({warmed} warmed up)' if warmed else ''}{missing}{cold}"
    )


class WarmChildren:
    """A zygote for the sandboxed children of one grading. Its interpreter is spawned first
    (`spawn`), before the command reads its rubric; its preload list follows (`start`) as soon
    as it is known, from the rubric alone or once the submission is located (see
    grader.submission.preload): its imports and warm-ups (2 to 3 s with torch) run on another
    core while the trusted process imports the grading stack, validates the rubric and computes
    answers. `launcher()` waits for it, or falls back to a fresh interpreter per child;
    `description` then says which."""

    def __init__(self) -> None:
        self.preload: tuple[str, ...] | None = None
        self.zygote: Zygote | None = None
        self.description = "not started"

    @property
    def started(self) -> bool:
        return self.preload is not None

    def spawn(self) -> None:
        if self.zygote is None:
            self.zygote = spawn_zygote(None)

    def start(self, preload: list[str]) -> None:
        if self.started:
            raise ZygoteError("this grading's zygote is already started")
        self.preload = tuple(preload)
        if self.zygote is not None:
            self.zygote.load(self.preload)
        else:
            self.zygote = spawn_zygote(self.preload)

    def launcher(self) -> Launcher:
        if self.preload is None:
            raise ZygoteError("the zygote was not started")
        launcher, self.description = warm_launcher(self.preload, self.zygote)
        return launcher

    def close(self) -> None:
        if self.zygote is not None:
            self.zygote.close()


@contextlib.contextmanager
def warm_children(preload: list[str] | None = None) -> Iterator[WarmChildren]:
    """WarmChildren for the duration of one grading, started on `preload` if it is given, else
    spawned to wait for it; the zygote ends with it."""
    children = WarmChildren()
    try:
        if preload is not None:
            children.start(preload)
        else:
            children.spawn()
        yield children
    finally:
        children.close()
