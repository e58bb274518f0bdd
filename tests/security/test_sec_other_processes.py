"""Guarantee 11 (the grader's own process and limits) and 10 (no IPC to carry hidden inputs):
the submission cannot act on another process by pid, group or descriptor, and cannot create a
kernel object another process could open by name.

The kernel lets a process lower the limits of, renice, move, or inspect any process of its own
uid; without the uid switch (a TA who is not root) that includes the grader, which dies at its
next write once its RLIMIT_FSIZE is 0. Without an IPC namespace (Docker) a SysV message queue
reaches every process on the host and outlives the child. Each call below is made for real
against the grader's pid (the child's parent); `attack` then checks that the grader finished
with its own scores, which it could not have done had its file-size limit been lowered.
"""

from __future__ import annotations

import ctypes
import os
import platform
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sectest_support import ALL_MODES, WITHOUT_LANDLOCK, Run, modes

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(
        platform.machine() != "x86_64", reason="the attacks use x86_64 system call numbers"
    ),
]

CALLS_ON_THE_GRADER = """
import ctypes
import resource

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def _syscall(number, *args):
    result = libc.syscall(number, *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    if result < 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))
    return result


class PerfEventAttr(ctypes.Structure):
    _fields_ = [("type", ctypes.c_uint32), ("size", ctypes.c_uint32),
                ("config", ctypes.c_uint64), ("rest", ctypes.c_uint8 * 112)]


def attack(x):
    grader = os.getppid()
    buffer = ctypes.create_string_buffer(64)
    local = (ctypes.c_void_p * 2)(ctypes.addressof(buffer), 64)
    remote = (ctypes.c_void_p * 2)(0x400000, 64)
    nodes = ctypes.c_ulong(1)
    head, length = ctypes.c_void_p(), ctypes.c_size_t()
    perf = PerfEventAttr(1, ctypes.sizeof(PerfEventAttr), 0)  # software, cpu-clock
    steps = {
        "prlimit FSIZE 0": lambda: resource.prlimit(grader, resource.RLIMIT_FSIZE, (0, 0)),
        "prlimit NOFILE 3": lambda: resource.prlimit(grader, resource.RLIMIT_NOFILE, (3, 3)),
        "prlimit read": lambda: resource.prlimit(grader, resource.RLIMIT_FSIZE),
        "setpriority": lambda: os.setpriority(os.PRIO_PROCESS, grader, 19),
        "setpriority group": lambda: os.setpriority(os.PRIO_PGRP, os.getpgid(grader), 19),
        "getpriority": lambda: os.getpriority(os.PRIO_PROCESS, grader),
        "sched_setaffinity": lambda: os.sched_setaffinity(grader, {0}),
        "sched_getaffinity": lambda: os.sched_getaffinity(grader),
        "sched_setscheduler": lambda: os.sched_setscheduler(
            grader, os.SCHED_IDLE, os.sched_param(0)),
        "sched_getscheduler": lambda: os.sched_getscheduler(grader),
        "ioprio_set": lambda: _syscall(251, 1, grader, 3 << 13),  # IOPRIO_WHO_PROCESS, idle
        "ioprio_get": lambda: _syscall(252, 1, grader),
        "migrate_pages": lambda: _syscall(256, grader, 64, ctypes.byref(nodes),
                                          ctypes.byref(nodes)),
        "move_pages": lambda: _syscall(279, grader, 0, None, None, None, 0),
        "get_robust_list": lambda: _syscall(274, grader, ctypes.byref(head),
                                            ctypes.byref(length)),
        "kcmp": lambda: _syscall(312, os.getpid(), grader, 0, 0, 0),  # KCMP_FILE
        "pidfd_open": lambda: _syscall(434, grader, 0),
        "process_vm_readv": lambda: _syscall(310, grader, local, 1, remote, 1, 0),
        "perf_event_open": lambda: _syscall(298, ctypes.byref(perf), grader, -1, -1, 0),
    }
    return {name: _attempt(step) for name, step in steps.items()}
"""


def assert_all_denied(run: Run) -> None:
    outcomes = run.observation
    allowed = {name: text for name, text in outcomes.items() if not text.startswith("denied")}
    assert not allowed, f"calls on the grader went through: {allowed}\n{run.describe()}"
    odd = {k: v for k, v in outcomes.items() if not v.startswith("denied: PermissionError")}
    assert not odd, f"denied for another reason than EPERM (a malformed attack?): {odd}"


@modes(*ALL_MODES, *WITHOUT_LANDLOCK)
def test_no_call_reaches_the_grader_process(attack):
    run = attack(CALLS_ON_THE_GRADER)
    assert_all_denied(run)


SYSV_TOKEN = 0x5EC0_1D00


def _sysv_objects() -> list[tuple[str, int, int]]:
    """(kind, key, id) of every SysV object whose key is one of the attack's."""
    found = []
    for kind in ("msg", "sem", "shm"):
        for line in Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]:
            key, ident = (int(field) for field in line.split()[:2])
            if key & ~0xFF == SYSV_TOKEN:
                found.append((kind, key, ident))
    return found


@pytest.fixture
def host_queue() -> Iterator[int]:
    """A message queue of the host (of this test), which a child without an IPC namespace
    could otherwise open by its key; afterwards no object with one of the attack's keys may
    remain (any that does is removed, by id, so a failing sandbox leaves nothing behind)."""
    libc = ctypes.CDLL(None, use_errno=True)
    queue = libc.msgget(SYSV_TOKEN + 4, 0o1000 | 0o666)  # IPC_CREAT
    assert queue >= 0, os.strerror(ctypes.get_errno())
    yield queue
    libc.msgctl(queue, 0, None)  # IPC_RMID
    leftovers = _sysv_objects()
    flags = {"msg": "-q", "sem": "-s", "shm": "-m"}
    for kind, _, ident in leftovers:
        subprocess.run(["ipcrm", flags[kind], str(ident)], check=False)
    queues = list(Path("/dev/mqueue").glob("grader-sectest*"))
    for path in queues:
        path.unlink(missing_ok=True)
    assert not leftovers and not queues, f"IPC objects outlived the child: {leftovers} {queues}"


SYSV_IPC = f"""
import ctypes

libc = ctypes.CDLL(None, use_errno=True)
librt = ctypes.CDLL("librt.so.1", use_errno=True)
IPC_CREAT = 0o1000
KEY = {SYSV_TOKEN}


def _checked(result):
    if result == -1:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))
    return result


def attack(x):
    return {{
        "msgget": _attempt(lambda: _checked(libc.msgget(KEY + 1, IPC_CREAT | 0o666))),
        "semget": _attempt(lambda: _checked(libc.semget(KEY + 2, 1, IPC_CREAT | 0o666))),
        "shmget": _attempt(lambda: _checked(libc.shmget(KEY + 3, 4096, IPC_CREAT | 0o666))),
        "msgget existing": _attempt(lambda: _checked(libc.msgget(KEY + 4, 0))),
        "mq_open": _attempt(lambda: _checked(librt.mq_open(
            b"/grader-sectest-queue", os.O_CREAT | os.O_RDWR, 0o666, None))),
    }}
"""


@modes(*ALL_MODES, *WITHOUT_LANDLOCK)
def test_sysv_and_posix_ipc_are_denied(attack, host_queue):
    run = attack(SYSV_IPC)
    outcomes = run.observation
    for name, outcome in outcomes.items():
        assert re.match(r"denied: PermissionError", outcome), (name, outcome, run.describe())
