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
it releases the uid with every process of it killed (`UidClaim.release(emptied=True)`).
Whoever claims a uid whose file is not empty first kills what is left (`empty_uid`), and skips
the uid if that fails.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from grader.errors import SandboxSettingError
from grader.sandbox.plan import DEFAULT_SANDBOX_UID, disabled_layers, sandbox_identity

UID_LOCKS = "grader-sandbox-uids"
"""The lock folder's name, under /run (or the system's temporary folder without one)."""

MAX_CANDIDATES = 10_000
"""uids tried before giving up: far more than the children one machine can run at once."""
EMPTYING_ROUNDS = 3
"""Times `empty_uid` tries before it gives up on a uid."""
EMPTYING_TIMEOUT = 2.0
"""Seconds `empty_uid` gives one try."""
KILL_EVERY_PROCESS = ("/bin/sh", "-c", "kill -s KILL -- -1")
"""Run as the uid to empty: kill(-1) signals every process that uid may signal but itself. The
shell's own kill takes 2 to 6 ms, where starting Python takes 26."""


def check_settings() -> None:
    """Raise SandboxSettingError for a sandbox setting of this machine that no child could be
    started with (GRADER_SANDBOX_DISABLE, GRADER_SANDBOX_UID/GID, the lock folder): a batch
    checks them before it starts, rather than failing every submission on them."""
    off = disabled_layers()
    if os.name == "posix" and os.geteuid() == 0 and "uid" not in off:
        sandbox_identity()
        lock_folder()


def lock_folder() -> Path:
    """A folder only root can write, for the uid claims of every grading process here."""
    base = Path("/run") if os.access("/run", os.W_OK) else Path(tempfile.gettempdir())
    folder = base / UID_LOCKS
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    status = folder.lstat()
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != 0 or status.st_mode & 0o022:
        what = "a folder" if stat.S_ISDIR(status.st_mode) else "not a folder"
        raise SandboxSettingError(
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


def empty_uid(uid: int, gid: int) -> bool:
    """Kill every process of `uid`; whether that was done. A look at /proc cannot do it: a
    process that forks and exits at once changes pid 8,000 times a second in Python, and a look
    takes 3.6 ms, so a kill of the pids it found misses it, and a look that found none proves
    nothing. kill(-1) sent as the uid itself reaches every process of it in one pass the kernel
    makes atomic with fork; a killed process starts no other, and while the uid is claimed
    nobody else starts one as it."""
    if uid == 0:
        raise ValueError("uid 0 is root's: kill(-1) as root would end nearly every process")
    for _ in range(EMPTYING_ROUNDS):
        try:
            done = subprocess.run(
                KILL_EVERY_PROCESS,
                user=uid,
                group=gid,
                extra_groups=[],
                env={},
                cwd="/",
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=EMPTYING_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            continue  # could not start, or stopped on its way (by a process of the uid)
        if done.returncode == 0:
            return True
    return False


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
    raise SandboxSettingError(
        f"no free sandbox uid among {MAX_CANDIDATES} in {folder}: too many sandboxed children "
        "are running, or their uids were left with processes that could not be killed"
    )
