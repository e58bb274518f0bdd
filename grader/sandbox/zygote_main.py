"""The program that runs inside a zygote: a warm interpreter that forks sandboxed children.

A fresh interpreter that imports numpy and torch costs about a second; a fork of one that
already has costs a few milliseconds. The zygote pays the imports once, then forks one child per
request, and each child applies every sandbox layer itself (exactly as a freshly started child
does) before it imports the student's code.

What a child inherits is the zygote's memory, so the zygote must never hold anything worth
stealing: it is started like a child (`python -I -c BOOTSTRAP`, scrubbed environment), it never
receives reference answers, hidden inputs or another student's data (a spawn request carries a
work folder, an entry file name and a sandbox plan), and it runs no student code. It must also
stay single-threaded: a fork copies only the calling thread, so a library lock held by another
thread would stay locked in the child forever, and unshare(CLONE_NEWUSER) refuses a
multi-threaded caller. The thread-count variables are set to 1 before the imports and the thread
count is checked and reported.

Its preload list comes with its start-up configuration or, when its grader spawned it before
reading the rubric, as the first message on its SOCK_SEQPACKET control socket. Requests then
arrive on that socket, each with the child's three pipe ends attached; the zygote answers with
the child's pid and a pidfd (to signal it without a pid-reuse race), and later with its exit
status once reaped.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import selectors
import socket
import sys
from typing import Any

from grader.sandbox import layers, seccomp_filter, warmup

MESSAGE_BYTES = 1 << 20


def _data_bytes() -> int:
    """This process's data segment (VmData): what RLIMIT_DATA counts."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    return 0


def _thread_count() -> int:
    return len(os.listdir("/proc/self/task"))


def preload(modules: list[str]) -> dict[str, Any]:
    """Import the modules every child may use and run their warm-ups (warmup.py), and say
    what that cost in data segment."""
    before = _data_bytes()
    loaded, failed = [], {}
    for name in modules:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except Exception as error:  # a missing optional library is reported, not fatal
            failed[name] = f"{type(error).__name__}: {error}"
    warmed, cold = warmup.warm(loaded)
    return {
        "loaded": loaded,
        "failed": failed,
        "warmed": warmed,
        "warm_up_failed": cold,
        "data_bytes": max(_data_bytes() - before, 0),
    }


def _reseed() -> None:
    """A forked child would otherwise share the zygote's random state with every other child:
    reseed the generators a fresh interpreter seeds from the OS (Python's `random` module
    reseeds itself after fork)."""
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.seed()


def run_child(
    control: socket.socket, fds: list[int], request: dict[str, Any], data_allowance: int
) -> None:
    """In the forked process: become a fresh-looking child and run child_main, never return."""
    try:
        control.close()
        os.setsid()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(3, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 1024)
        os.environ.clear()
        os.environ.update(request["env"])
        config = request["config"]
        os.chdir(config["workdir"])
        plan = config["plan"]
        plan["parent"] = os.getppid()
        if "RLIMIT_DATA" in plan.get("rlimits", {}):
            # The preloaded libraries are the grader's, not the student's allocation.
            plan["rlimits"]["RLIMIT_DATA"] += data_allowance
        _reseed()
        child = sys.modules["grader_child"]
        child.main(config)
    except BaseException:  # nothing may return into the zygote's loop
        pass
    os._exit(70)


class Zygote:
    """Serves spawn requests and reports the exit status of every child it forked."""

    def __init__(self, control: socket.socket, data_allowance: int) -> None:
        self.control = control
        self.data_allowance = data_allowance
        self.selector = selectors.DefaultSelector()
        self.selector.register(control, selectors.EVENT_READ, None)
        self.children: dict[int, int] = {}  # pidfd -> pid

    def send(self, message: dict[str, Any], fds: list[int] | None = None) -> None:
        socket.send_fds(self.control, [json.dumps(message).encode()], fds or [])

    def spawn(self, request: dict[str, Any], fds: list[int]) -> None:
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
            self.send({"error": f"a spawn request needs 3 descriptors, got {len(fds)}"})
            return
        pid = os.fork()
        if pid == 0:
            run_child(self.control, fds, request, self.data_allowance)
        for fd in fds:
            os.close(fd)
        pidfd = os.pidfd_open(pid)
        self.children[pidfd] = pid
        self.selector.register(pidfd, selectors.EVENT_READ, pid)
        self.send({"spawned": pid}, [pidfd])

    def reap(self, pidfd: int, pid: int) -> None:
        self.selector.unregister(pidfd)
        os.close(pidfd)
        del self.children[pidfd]
        _, status = os.waitpid(pid, 0)
        self.send({"exited": pid, "code": os.waitstatus_to_exitcode(status)})

    def serve(self) -> None:
        while True:
            for key, _ in self.selector.select():
                if key.data is not None:
                    self.reap(key.fd, key.data)
                    continue
                data, fds, _, _ = socket.recv_fds(self.control, MESSAGE_BYTES, 3)
                if not data:
                    return  # the grader closed its end: nothing more to serve
                self.spawn(json.loads(data), fds)


def _preload_list(control: socket.socket) -> list[str] | None:
    """The preload list of a zygote spawned before its grader knew it: the grader's first
    message. None when the grader closed its end first (it stopped before grading)."""
    data = control.recv(MESSAGE_BYTES)
    if not data:
        return None
    modules = json.loads(data)["preload"]
    return [str(name) for name in modules]


def main(config: dict[str, Any]) -> None:
    report = layers.Report()
    layers.die_with_parent(config["parent"], report)
    control = socket.socket(fileno=config["control_fd"])
    modules = config["preload"] if "preload" in config else _preload_list(control)
    if modules is None:
        os._exit(0)
    loaded = preload(modules)
    # Paid here once rather than in every child: the first seeding loads what seeding needs
    # (20 ms), and the seccomp bindings take 10 ms to import.
    _reseed()
    if config["seccomp_libraries"]:
        with contextlib.suppress(ImportError, OSError, TypeError):
            seccomp_filter.load_bindings(config["seccomp_libraries"])
    loaded["threads"] = _thread_count()  # counted last, after everything that could start one
    if loaded["threads"] != 1:
        loaded["refused"] = (
            f"the zygote has {loaded['threads']} threads after importing and warming "
            f"{', '.join(loaded['loaded'])}; forking it could hang children"
        )
    socket.send_fds(control, [json.dumps({"ready": loaded}).encode()], [])
    if "refused" not in loaded:
        Zygote(control, loaded["data_bytes"]).serve()
    os._exit(0)
