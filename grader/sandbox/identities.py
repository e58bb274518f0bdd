"""Sandbox uids claimed machine-wide, one per live session, so that no two children share one.

As root, a child becomes a uid of its own (the sandbox layer "uid"). Without seccomp a child
can start processes that leave its session, and ending the child means killing every process
of its uid. If two gradings on one machine (two TAs' batches, a batch's workers, a Dask
worker's threads, a test suite in several processes) gave their children the same uid, ending
one child would kill the other's. Every sandbox session therefore claims a uid for its
lifetime with a lock file in a folder only root can write: the sandbox user (the `grader-sandbox`
account, or GRADER_SANDBOX_UID, or 64213) when it is free, otherwise the next uid above 64213
that no account has. A lock ends with its file descriptor, so a killed grader frees its uids.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from grader.sandbox.plan import DEFAULT_SANDBOX_UID, sandbox_identity

UID_LOCKS = "grader-sandbox-uids"
"""The lock folder's name, under /run (or the system's temporary folder without one)."""

MAX_CANDIDATES = 10_000
"""uids tried before giving up: far more than the children one machine can run at once."""


def lock_folder() -> Path:
    """A folder only root can write, for the uid claims of every grading process here."""
    base = Path("/run") if os.access("/run", os.W_OK) else Path(tempfile.gettempdir())
    folder = base / UID_LOCKS
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    status = folder.lstat()
    if not folder.is_dir() or folder.is_symlink() or status.st_uid != 0 or status.st_mode & 0o022:
        raise RuntimeError(f"{folder} is not a folder only root can write")
    return folder


class UidClaim:
    """One claimed (uid, gid), held until `release()` (or until this process ends)."""

    def __init__(self, identity: tuple[int, int], fd: int) -> None:
        self.identity = identity
        self._fd: int | None = fd

    def release(self) -> None:
        """Free the uid for another session; idempotent."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def __del__(self) -> None:
        self.release()


def _candidates() -> Iterator[tuple[int, int]]:
    """The sandbox user first, then uids above the default one that no account has."""
    import pwd

    first = sandbox_identity()
    yield first
    for candidate in range(DEFAULT_SANDBOX_UID + 1, DEFAULT_SANDBOX_UID + MAX_CANDIDATES):
        if candidate == first[0]:
            continue
        try:
            pwd.getpwuid(candidate)
        except KeyError:
            yield candidate, candidate


def claim_identity() -> UidClaim | None:
    """A uid no other session on this machine holds, as root; None when the grader is not
    root (its children keep its own uid, and there is nothing to share)."""
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
        return UidClaim(identity, fd)
    raise RuntimeError(f"no free sandbox uid among {MAX_CANDIDATES} in {folder}")
