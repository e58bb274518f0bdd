"""The seccomp filter for the sandboxed child: system calls student code never needs.

Default-allow, with a deny list: every socket (network, and also UNIX sockets, which would
reach other processes' services), new processes (fork, vfork, clone without CLONE_THREAD; clone3
answers ENOSYS so glibc falls back to clone for threads), memory the data limit does not count
(shared anonymous mappings, memfd), and the calls that change the system or escape a sandbox
(mount, unshare, setns, bpf, keyrings, io_uring, modules...).

Nothing may reach another process: the kernel lets a process act on any other process of its
uid, and without the uid switch that includes the grader (lowering its RLIMIT_FSIZE to 0 kills
it at its next write). So every call that names a process by pid, group or descriptor is
allowed only on the caller itself (pid 0), or denied outright where nothing in numpy or torch
needs it; and every kernel object two processes can share by name is denied (SysV message
queues, semaphores and shared memory, POSIX message queues), since without an IPC namespace
(Docker) they reach every process on the host, outlive the child, and carry hidden inputs to a
process whose output is shown. fallocate is denied (EPERM, which glibc's posix_fallocate
does not emulate with writes) because it fills a disk in milliseconds, faster than the parent
can look at the work folder; written bytes arrive slowly enough to be caught. Threads keep
working, so numpy and torch run normally. Built on
pyseccomp (ctypes over libseccomp.so.2).
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any

CLONE_THREAD = 0x00010000
MAP_SHARED, MAP_ANONYMOUS = 0x01, 0x20
SELF = 0
"""The pid that means "the calling thread" to every call below."""

ONLY_ON_ITSELF = {
    "prlimit64": 0,
    "setpriority": 1,
    "getpriority": 1,
    "sched_setaffinity": 0,
    "sched_getaffinity": 0,
    "sched_setscheduler": 0,
    "sched_getscheduler": 0,
    "sched_setparam": 0,
    "sched_getparam": 0,
    "sched_setattr": 0,
    "sched_getattr": 0,
    "sched_rr_get_interval": 0,
    "move_pages": 0,
    "get_robust_list": 0,
}
"""Calls that act on (or observe) a process named by the argument at this index, allowed only
with pid 0: the caller. glibc's setrlimit/getrlimit are prlimit64(0, ...), and torch asks for
its own CPU affinity with pid 0. setpriority and getpriority also take a group or a user in
argument 0: only PRIO_PROCESS (0) is allowed."""
PRIO_PROCESS = 0

DENIED = (
    "fork",
    "vfork",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "mount",
    "umount2",
    "unshare",
    "setns",
    "pivot_root",
    "chroot",
    "bpf",
    "keyctl",
    "add_key",
    "request_key",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "perf_event_open",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "userfaultfd",
    "tkill",
    "socket",
    "socketpair",
    "memfd_create",
    "shmget",
    "shmat",
    "shmdt",
    "shmctl",
    "msgget",
    "msgsnd",
    "msgrcv",
    "msgctl",
    "semget",
    "semop",
    "semtimedop",
    "semctl",
    "ipc",
    "mq_open",
    "mq_unlink",
    "mq_timedsend",
    "mq_timedreceive",
    "mq_notify",
    "mq_getsetattr",
    "fallocate",
    "kcmp",
    "ioprio_set",
    "ioprio_get",
    "migrate_pages",
    "process_madvise",
    "process_mrelease",
    "pidfd_open",
    "pidfd_send_signal",
    "pidfd_getfd",
    "open_by_handle_at",
    "name_to_handle_at",
    "fanotify_init",
    "inotify_init",
    "inotify_init1",
    "acct",
    "settimeofday",
    "clock_settime",
    "sethostname",
    "setdomainname",
)


class SeccompUnavailable(OSError):
    """libseccomp or its Python binding is missing, or the kernel refused the filter."""


def library_names() -> dict[str, str | None]:
    """The shared libraries pyseccomp loads, resolved once by the parent: resolving runs
    `ldconfig` in a subprocess, twice, which would add 15 ms to every child start."""
    import ctypes.util

    return {name: ctypes.util.find_library(name) for name in ("c", "seccomp")}


def load_bindings(libraries: dict[str, str | None]) -> Any:
    """Import pyseccomp, finding its libraries by the names the parent resolved. A zygote
    calls this before it forks, so that its children do not each pay the 10 ms import."""
    import ctypes.util

    original = ctypes.util.find_library
    ctypes.util.find_library = lambda name: libraries.get(name) or original(name)
    try:
        import pyseccomp
    finally:
        ctypes.util.find_library = original
    return pyseccomp


def install(libraries: dict[str, str | None] | None = None) -> list[str]:
    """Load the filter into this process; every thread and child it creates inherits it."""
    if sys.platform != "linux":
        raise SeccompUnavailable("seccomp exists only on Linux")
    try:
        seccomp = load_bindings(libraries or {})
    except (ImportError, OSError, TypeError) as error:  # OSError: no libseccomp.so.2
        raise SeccompUnavailable(f"pyseccomp/libseccomp unavailable: {error}") from None
    me = os.getpid()
    deny = seccomp.ERRNO(errno.EPERM)
    try:
        rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        shared_anonymous = MAP_SHARED | MAP_ANONYMOUS
        rules.add_rule(
            seccomp.ERRNO(errno.ENOMEM),
            "mmap",
            seccomp.Arg(3, seccomp.MASKED_EQ, shared_anonymous, shared_anonymous),
        )
        rules.add_rule(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_THREAD, 0))
        rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
        rules.add_rule(deny, "kill", seccomp.Arg(0, seccomp.NE, me))
        rules.add_rule(deny, "tgkill", seccomp.Arg(0, seccomp.NE, me))
        # These queue a signal with data, to any process the caller may signal: kill by
        # another name.
        rules.add_rule(deny, "rt_sigqueueinfo", seccomp.Arg(0, seccomp.NE, me))
        rules.add_rule(deny, "rt_tgsigqueueinfo", seccomp.Arg(0, seccomp.NE, me))
        for name, position in ONLY_ON_ITSELF.items():
            try:
                rules.add_rule(deny, name, seccomp.Arg(position, seccomp.NE, SELF))
            except (ValueError, RuntimeError, OSError):
                continue  # a call this architecture does not have
        for name in ("setpriority", "getpriority"):
            rules.add_rule(deny, name, seccomp.Arg(0, seccomp.NE, PRIO_PROCESS))
        for name in DENIED:
            try:
                rules.add_rule(deny, name)
            except (ValueError, RuntimeError, OSError):
                continue  # a call this architecture does not have
        rules.load()
    except (RuntimeError, OSError, ValueError) as error:
        raise SeccompUnavailable(f"the kernel refused the filter: {error}") from None
    return [
        "seccomp: no sockets, no new processes, no signals to others, no ptrace, "
        "no calls on other processes (limits, priority, scheduling, memory), "
        "no SysV or POSIX IPC, no uncounted shared memory"
    ]
