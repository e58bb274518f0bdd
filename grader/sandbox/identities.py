"""Sandbox uids claimed machine-wide, one per live session, so that no two children share one.

As root, a child becomes a uid of its own (the sandbox layer "uid"). Without seccomp a child
can start processes that leave its session, and ending the child means killing every process
of its uid. If two gradings on one machine (two TAs' batches, a batch's workers, a Dask
worker's threads, a test suite in several processes) gave their children the same uid, ending
one child would kill the other's. Every sandbox session therefore claims a uid for its
lifetime with a lock file in a folder only root can write: the sandbox user (the `grader-sandbox`
account, or GRADER_SANDBOX_UID, or 64213) when it is free, otherwise the next uid above 64213
that no account has. A lock ends with its file descriptor, so a killed grader frees its uids.

A freed uid may still have processes: those of a grader that was killed (a daemon its child
started has no death signal), or of a session that never ended. So a lock file is empty only
while the uid has none: its holder writes in it when it claims the uid and empties it only when
it releases the uid with every process of it dead (`UidClaim.release(emptied=True)`). Whoever
claims a uid whose file is not empty first kills what is left (`empty_uid`), and skips the uid
if something is left all the same.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from grader.sandbox.plan import DEFAULT_SANDBOX_UID, sandbox_identity

UID_LOCKS = "grader-sandbox-uids"
"""The lock folder's name, under /run (or the system's temporary folder without one)."""

MAX_CANDIDATES = 10_000
"""uids tried before giving up: far more than the children one machine can run at once."""
EMPTYING_ROUNDS = 3
"""Times `empty_uid` kills what a uid has left before it gives up on that uid."""
EMPTYING_WAIT = 0.5
"""Seconds `empty_uid` waits for the processes kill(-1) killed to be gone, per round."""
KILLED_WAIT = 0.05
"""Seconds `empty_uid` waits for the processes it killed by pid to be gone before it resorts
to kill(-1)."""
KILL_EVERY_PROCESS = "import os, signal; os.kill(-1, signal.SIGKILL)"
"""Run as the uid to empty: kill(-1) signals every process that uid may signal, in one pass the
kernel makes atomic with fork."""


def lock_folder() -> Path:
    """A folder only root can write, for the uid claims of every grading process here."""
    base = Path("/run") if os.access("/run", os.W_OK) else Path(tempfile.gettempdir())
    folder = base / UID_LOCKS
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    status = folder.lstat()
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != 0 or status.st_mode & 0o022:
        what = "a folder" if stat.S_ISDIR(status.st_mode) else "not a folder"
        raise RuntimeError(
            f"{folder} must be a folder only root can write, to hold the sandbox uids' claims, "
            f"but it is {what} of uid {status.st_uid} with mode {stat.filemode(status.st_mode)}"
            f" (another local user may have made it first): remove {folder}, or make /run "
            "writable by root so that the claims go to /run"
        )
    return folder


class UidClaim:
    """One claimed (uid, gid), held until `release()` (or until this process ends)."""

    def __init__(self, identity: tuple[int, int], fd: int) -> None:
        self.identity = identity
        self._fd: int | None = fd

    def release(self, emptied: bool = False) -> None:
        """Free the uid for another session; idempotent. `emptied`: the holder made sure no
        process of the uid is left, so the next one need not look (see the module's doc)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                if emptied:
                    os.ftruncate(fd, 0)
                os.close(fd)

    def __del__(self) -> None:
        self.release()


@functools.cache
def has_account(uid: int) -> bool:
    """Whether an account has `uid`. Remembered for the process's life: a lookup can cost
    milliseconds (5.5 ms for the first 20 uids above 64213 with NSS's files and systemd), and
    every claim passes over the uids the other sessions hold."""
    import pwd

    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


def _candidates() -> Iterator[tuple[int, int]]:
    """The sandbox user first, then uids above the default one that no account has."""
    first = sandbox_identity()
    yield first
    for candidate in range(DEFAULT_SANDBOX_UID + 1, DEFAULT_SANDBOX_UID + MAX_CANDIDATES):
        if candidate != first[0] and not has_account(candidate):
            yield candidate, candidate


def processes_of(uid: int) -> list[int]:
    """The processes whose real uid is `uid`, zombies left out (they can no longer run). The
    real uid is read from the text of /proc/<pid>/status: the file's owner is root for a process
    that is not dumpable, as the sandbox child is after its uid switch."""
    found: list[int] = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            lines = (entry / "status").read_text().splitlines()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in lines if ":" in line)
        with contextlib.suppress(KeyError, IndexError, ValueError):
            if int(fields["Uid"].split()[0]) == uid and not fields["State"].lstrip().startswith(
                "Z"
            ):
                found.append(int(entry.name))
    return found


def empty_uid(uid: int, gid: int) -> bool:
    """Kill every process of `uid`; whether none is left. Each round kills, as root, the pids
    a look at /proc finds; that misses a process that forks and exits faster than /proc can be
    read, so what is still there is sent kill(-1) as the uid itself, which reaches them all at
    once (at the cost of starting Python as that uid)."""
    for _ in range(EMPTYING_ROUNDS):
        left = processes_of(uid)
        if not left:
            return True
        for pid in left:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if _none_left(uid, KILLED_WAIT):
            return True
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                [sys.executable, "-I", "-S", "-c", KILL_EVERY_PROCESS],
                user=uid,
                group=gid,
                extra_groups=[],
                env={},
                cwd="/",
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=2 * EMPTYING_WAIT,
                check=False,
            )
        if _none_left(uid, EMPTYING_WAIT):
            return True
    return False


def _none_left(uid: int, seconds: float) -> bool:
    """Whether every process of `uid` is gone within `seconds` (a killed one takes a moment)."""
    deadline = time.monotonic() + seconds
    while processes_of(uid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def claim_identity() -> UidClaim | None:
    """A uid no other session on this machine holds and no process has, as root; None when
    the grader is not root (its children keep its own uid, and there is nothing to share)."""
    if os.name != "posix" or os.geteuid() != 0:
        return None
    folder = lock_folder()
    for identity in _candidates():
        fd = os.open(folder / str(identity[0]), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        left_behind = os.pread(fd, 1, 0) != b""
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        if left_behind and not empty_uid(*identity):
            os.close(fd)  # the file stays written: the next claimant tries again
            continue
        return UidClaim(identity, fd)
    raise RuntimeError(f"no free sandbox uid among {MAX_CANDIDATES} in {folder}")
