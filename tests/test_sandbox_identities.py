"""Sandbox uids are claimed machine-wide, one per live session: two gradings on one machine (two
batches, a batch's workers, a test suite in several processes) never give their children the
same uid, so ending one child (which, without seccomp, kills every process of its uid) never
kills another grading's child."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from grader.sandbox import identities
from grader.sandbox.identities import claim_identity, lock_folder
from grader.sandbox.runner import SandboxSession

as_root = pytest.mark.skipif(
    os.name != "posix" or os.geteuid() != 0, reason="uids are claimed as root only"
)


def lockable(uid: int) -> bool:
    """Whether no process holds the claim on `uid` right now."""
    fd = os.open(lock_folder() / str(uid), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


@as_root
def test_claims_held_at_once_are_all_different_uids() -> None:
    claims = [claim_identity() for _ in range(6)]
    try:
        uids = [claim.identity[0] for claim in claims if claim is not None]
        assert len(uids) == 6 and len(set(uids)) == 6
    finally:
        for claim in claims:
            if claim is not None:
                claim.release()


@as_root
def test_a_released_uid_is_free_to_claim_again() -> None:
    claim = claim_identity()
    assert claim is not None
    uid = claim.identity[0]
    assert not lockable(uid)
    claim.release()
    assert lockable(uid)


@as_root
def test_the_configured_sandbox_uid_is_claimed_first_when_free(monkeypatch) -> None:
    free_uid = 3_000_000 + os.getpid() % 100_000  # no account, no other claimant
    monkeypatch.setenv("GRADER_SANDBOX_UID", str(free_uid))
    claim = claim_identity()
    assert claim is not None
    try:
        assert claim.identity == (free_uid, free_uid)
    finally:
        claim.release()


@as_root
def test_another_process_claim_is_respected_and_freed_when_it_dies() -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import sys, time
                from grader.sandbox.identities import claim_identity
                claim = claim_identity()
                print(claim.identity[0], flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        held = int(holder.stdout.readline())
        mine = claim_identity()
        assert mine is not None
        try:
            assert mine.identity[0] != held
        finally:
            mine.release()
    finally:
        holder.kill()
        holder.wait()
    assert lockable(held)


def test_without_root_nothing_is_claimed(monkeypatch) -> None:
    monkeypatch.setattr(identities.os, "geteuid", lambda: 1000)
    assert claim_identity() is None


SLEEPER = """
import os, subprocess, sys
def spawn():
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                            start_new_session=True).pid
def pid():
    return os.getpid()
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def gone_soon(pid: int) -> bool:
    deadline = time.monotonic() + 5
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@as_root
def test_ending_a_session_without_seccomp_spares_a_concurrent_session(
    monkeypatch, interpreter_reachable
) -> None:
    monkeypatch.setenv("GRADER_SANDBOX_DISABLE", "seccomp")
    # in the system's temporary folder, which the sandbox uids may enter
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as second:
        for folder in (first, second):
            (Path(folder) / "sub.py").write_text(SLEEPER)
        with SandboxSession(Path(second), "sub.py") as neighbour:
            neighbour_pid = neighbour.call("pid", [], 10).value
            with SandboxSession(Path(first), "sub.py") as session:
                if session.plan["uid"] is None:
                    pytest.skip(f"no uid switch here: {session.plan.get('uid_reason')}")
                assert session.plan["uid"] != neighbour.plan["uid"]
                daemon = session.call("spawn", [], 10).value
            assert gone_soon(daemon)  # ending the session swept its uid
            assert alive(neighbour_pid)  # and nothing of the neighbour's
            assert neighbour.call("pid", [], 10).value == neighbour_pid


@as_root
def test_a_session_holds_its_uid_until_it_ends(interpreter_reachable) -> None:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "sub.py").write_text("X = 1\n")
        with SandboxSession(Path(folder), "sub.py") as session:
            uid = session.plan["uid"]
            if uid is None:
                pytest.skip(f"no uid switch here: {session.plan.get('uid_reason')}")
            assert session.value("X", 10).value == 1
            assert not lockable(uid)
    assert lockable(uid)
