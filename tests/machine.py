"""The machine-level test set-up shared by every test folder: users and the interpreter.

Tests that run the grader as root with the uid switch, or as an unprivileged user, need other
users to reach the Python interpreter and need a real unprivileged account. Concurrent pytest
sessions on one machine share these changes safely (see interpreter_reachable below).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pwd
import re
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.sandbox.plan import interpreter_paths, unreachable_by_others

SECTEST_USER = "grader-sectest"


@dataclass(frozen=True)
class Account:
    """A user `grader grade` runs as."""

    name: str
    uid: int
    gid: int


def current_account() -> Account:
    entry = pwd.getpwuid(os.geteuid())
    return Account(entry.pw_name, entry.pw_uid, entry.pw_gid)


def processes_of(uid: int) -> list[int]:
    """Live (not zombie) processes owned by `uid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            found.append(int(entry.name))
    return found


def kill_pids(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def wait_until(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


REACHABLE_STATE = Path(tempfile.gettempdir()) / "grader-sectest-reachable.json"
"""Shared by concurrent sessions: the folders' original modes and the sessions holding them."""


@contextlib.contextmanager
def _reachable_state() -> Iterator[dict[str, Any]]:
    """The shared state, read and written under an exclusive lock (on this very file, which
    every session has and which is never deleted)."""
    with open(__file__, "rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            state = json.loads(REACHABLE_STATE.read_text()) if REACHABLE_STATE.exists() else {}
        except ValueError:
            state = {}
        state.setdefault("modes", {})
        state["holders"] = [pid for pid in state.get("holders", []) if alive(pid)]
        yield state
        if state["holders"] or state["modes"]:
            REACHABLE_STATE.write_text(json.dumps(state))
        else:
            REACHABLE_STATE.unlink(missing_ok=True)


@contextlib.contextmanager
def interpreter_reachable() -> Iterator[dict[str, int]]:
    """Make the interpreter reachable by other users for this session, and put it back after.

    When pytest runs as root, the uid-switch layer (the child becomes the `grader-sandbox` user
    or uid 64213) and the "unprivileged" mode (the grader itself runs as an unprivileged user)
    both need other users to reach the Python interpreter. On this machine it lives under
    /root, which is mode 700, so the grader would report the uid layer unavailable and the
    unprivileged user could not start Python at all. This fixture adds o+x (search only, not
    read) to every folder on the way to sys.executable, sys.prefix and sys.base_prefix that
    lacks it (grader.sandbox.plan.unreachable_by_others finds them), and restores each
    folder's original mode at teardown. While the session runs, other processes on the machine
    also see those folders searchable.

    Concurrent sessions share the change: the original modes and the pids of the sessions that
    need them are kept in /tmp/grader-sectest-reachable.json (under a lock), and the last live
    session to finish restores the modes (a session that crashed is skipped, and its change is
    undone by the next session to finish). When pytest does not run as root this fixture
    changes nothing.
    """
    if os.geteuid() != 0:
        yield {}
        return
    with _reachable_state() as state:
        for _ in range(32):
            blocked = unreachable_by_others(interpreter_paths())
            if blocked is None:
                break
            mode = blocked.stat().st_mode
            assert stat.S_ISDIR(mode), f"{blocked} is not a folder"
            state["modes"].setdefault(str(blocked), stat.S_IMODE(mode))
            blocked.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
        assert unreachable_by_others(interpreter_paths()) is None
        state["holders"].append(os.getpid())
        changed = dict(state["modes"])
    try:
        yield changed
    finally:
        with _reachable_state() as state:
            state["holders"] = [pid for pid in state["holders"] if pid != os.getpid()]
            if not state["holders"]:
                for path, mode in state["modes"].items():
                    with contextlib.suppress(OSError):
                        Path(path).chmod(mode)
                state["modes"] = {}


@contextlib.contextmanager
def unprivileged_account() -> Iterator[Account]:
    """The account of the "unprivileged" mode. As root: a real system user created for this
    session (useradd --system --no-create-home), named grader-sectest-<pytest pid> so that
    concurrent sessions never share one, and deleted at teardown after its remaining processes
    (if any) are killed by pid. Users of sessions that died without teardown are removed first.
    Not as root: the current user."""
    if os.geteuid() != 0:
        yield current_account()
        return
    _remove_stale_users()
    name = f"{SECTEST_USER}-{os.getpid()}"
    subprocess.run(
        [
            "useradd",
            "--system",
            "--no-create-home",
            "--user-group",
            "--shell",
            "/usr/sbin/nologin",
            name,
        ],
        check=True,
    )
    account = _account(name)
    try:
        yield account
    finally:
        _delete_user(account)


def _account(name: str) -> Account:
    entry = pwd.getpwnam(name)
    return Account(entry.pw_name, entry.pw_uid, entry.pw_gid)


def _delete_user(account: Account) -> None:
    kill_pids(processes_of(account.uid))
    wait_until(lambda: not processes_of(account.uid), 5)
    subprocess.run(["userdel", account.name], check=False, capture_output=True)


def _remove_stale_users() -> None:
    for entry in pwd.getpwall():
        found = re.fullmatch(rf"{SECTEST_USER}-(\d+)", entry.pw_name)
        if found and not alive(int(found.group(1))):
            _delete_user(Account(entry.pw_name, entry.pw_uid, entry.pw_gid))
