"""Sandbox uids are claimed machine-wide, one per live session: two gradings on one machine (two
batches, a batch's workers, a test suite in several processes) never give their children the
same uid, so ending one child (which, without seccomp, kills every process of its uid) never
kills another grading's child."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.errors import SandboxSettingError
from grader.sandbox import identities, runner
from grader.sandbox.identities import claim_identity, empty_uid, lock_folder
from grader.sandbox.plan import SandboxLimits, sandbox_identity
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
@pytest.mark.sandbox
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
@pytest.mark.sandbox
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
@pytest.mark.sandbox
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


def own_uid(offset: int) -> int:
    """A uid no account has and no other test process claims (one per test of this file; the
    configured-uid test above uses 3,000,000 and up)."""
    return 4_000_000 + (os.getpid() % 100_000) * 10 + offset


def live_processes_of(uid: int) -> list[int]:
    """The processes whose real uid is `uid`, zombies left out (they cannot run any more)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields["Uid"].split()[0]) == uid and not fields["State"].strip().startswith("Z"):
            found.append(int(entry.name))
    return found


SPAWN_AND_WAIT = """
import os, subprocess, sys, time
def spawn_and_wait():
    daemon = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                              start_new_session=True).pid
    with open("daemon.pid", "w") as out:
        out.write(str(daemon))
    time.sleep(60)
"""

GRADER_KILLED_MID_REQUEST = """
import sys
from pathlib import Path
from grader.sandbox.plan import SandboxLimits, sandbox_identity
from grader.sandbox.runner import SandboxSession
session = SandboxSession(Path(sys.argv[1]), "sub.py")
print(session.plan["uid"], flush=True)
session.call("spawn_and_wait", [], 60)
"""


def daemon_of(folder: Path, grader: subprocess.Popen[str]) -> int:
    """The pid the child of `grader` wrote in `folder` once its daemon started."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and grader.poll() is None:
        with contextlib.suppress(OSError, ValueError):
            return int((folder / "daemon.pid").read_text())
        time.sleep(0.05)
    raise AssertionError("the child never started its daemon")


@as_root
@pytest.mark.sandbox
def test_a_uid_freed_by_a_killed_grader_has_no_process_left_when_claimed_again(
    monkeypatch, interpreter_reachable
) -> None:
    uid = own_uid(1)
    monkeypatch.setenv("GRADER_SANDBOX_UID", str(uid))
    monkeypatch.setenv("GRADER_SANDBOX_DISABLE", "seccomp")
    with tempfile.TemporaryDirectory() as dead, tempfile.TemporaryDirectory() as fresh:
        (Path(dead) / "sub.py").write_text(SPAWN_AND_WAIT)
        (Path(fresh) / "sub.py").write_text("X = 1\n")
        grader = subprocess.Popen(
            [sys.executable, "-c", GRADER_KILLED_MID_REQUEST, dead],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert grader.stdout is not None
        if grader.stdout.readline().strip() == "None":
            grader.kill()
            grader.wait()
            pytest.skip("no uid switch here")
        daemon = 0
        try:
            daemon = daemon_of(Path(dead), grader)
            grader.kill()
            grader.wait()
            # its child died with it, its daemon did not, and its lock ended with it
            assert alive(daemon) and lockable(uid)
            with SandboxSession(Path(fresh), "sub.py") as session:
                assert session.plan["uid"] == uid
                assert gone_soon(daemon)  # killed: it can no longer run, and soon is gone
        finally:
            grader.kill()
            grader.wait()
            if daemon:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(daemon, signal.SIGKILL)


HOPPER = """
import ctypes, os, threading, time

def reap():
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            time.sleep(0.001)

def hop(seconds):
    # the hops' exits are reaped here at once: their zombies do not fill RLIMIT_NPROC
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    threading.Thread(target=reap, daemon=True).start()
    if os.fork():
        time.sleep(0.3)  # hopping well before this request's own sweep
        return 0
    os.closerange(0, 1024)
    os.setsid()
    hops, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if os.fork():
                os._exit(0)
        except OSError:
            time.sleep(0.001)
        hops += 1
        if hops % 20 == 0:
            with open("hops", "w") as out:
                out.write(str(hops))
    os._exit(0)
"""


def still_hopping(folder: Path) -> bool:
    """Whether the hopper counted more hops within half a second: it lives."""
    counted = folder / "hops"
    before = counted.read_text() if counted.exists() else ""
    time.sleep(0.5)
    return counted.exists() and counted.read_text() != before


@contextlib.contextmanager
def hopping_session(uid: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Path]]:
    """A session without seccomp, as `uid`, whose child started a hopper that outlived the
    sweep of the request that started it (the sweep kills by pid, and catches one now and
    then: the request is made again until one escapes); and the folder its hops are counted in.
    """
    monkeypatch.setenv("GRADER_SANDBOX_UID", str(uid))
    monkeypatch.setenv("GRADER_SANDBOX_DISABLE", "seccomp")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "sub.py").write_text(HOPPER)
        # room for the zombies the hops leave once the child that reaps them is killed
        with SandboxSession(folder, "sub.py", SandboxLimits(processes=2000)) as session:
            if session.plan["uid"] is None:
                pytest.skip(f"no uid switch here: {session.plan.get('uid_reason')}")
            for _ in range(10):
                assert session.call("hop", [5], 10).ok
                if still_hopping(folder):
                    break
            else:
                pytest.fail("no hopper outlived the sweep of the request that started it")
            yield session, folder


@as_root
@pytest.mark.sandbox
def test_a_process_that_keeps_forking_anew_does_not_outlive_its_session(
    monkeypatch, interpreter_reachable
) -> None:
    """A process that forks and exits at once changes pid faster than /proc can be read (a
    look at /proc takes milliseconds, a hop in Python a tenth of one): neither a kill of the
    pids found there nor a look that finds none says it is gone. Its hops, counted in a file,
    do."""
    with hopping_session(own_uid(2), monkeypatch) as (session, folder):
        session.end()
        assert not still_hopping(folder)


@as_root
@pytest.mark.sandbox
def test_a_process_that_keeps_forking_anew_does_not_outlive_its_child_into_the_next(
    monkeypatch, interpreter_reachable
) -> None:
    """A session starts a new child after a crash or a timeout, and for the hidden cases:
    closing the old one kills every process of the uid, so the next starts among none."""
    with hopping_session(own_uid(4), monkeypatch) as (session, folder):
        session.close()
        assert not still_hopping(folder)
        assert session.start().ok  # and the session goes on with a new child


@as_root
def test_a_session_that_fails_to_start_frees_its_uid_at_once(monkeypatch) -> None:
    uid = own_uid(3)
    monkeypatch.setenv("GRADER_SANDBOX_UID", str(uid))

    def refuse(workdir: Path, plan: dict[str, object]) -> None:
        raise PermissionError(f"cannot give {workdir} to uid {plan['uid']}")

    monkeypatch.setattr(runner, "hand_over", refuse)
    with tempfile.TemporaryDirectory() as folder, pytest.raises(PermissionError) as refused:
        (Path(folder) / "sub.py").write_text("X = 1\n")
        SandboxSession(Path(folder), "sub.py")
    assert refused.traceback  # kept, as an error report keeps it, with the session's frame
    assert lockable(uid)


@as_root
def test_a_lock_folder_another_user_made_is_refused_with_what_to_do(
    monkeypatch, tmp_path: Path
) -> None:
    """Without a writable /run the claims live in the temporary folder, where any local user
    may have made the folder first: the grader refuses it, and says how to get out."""
    monkeypatch.setattr(identities.os, "access", lambda path, mode: path != "/run")
    monkeypatch.setattr(identities.tempfile, "gettempdir", lambda: str(tmp_path))
    taken = tmp_path / identities.UID_LOCKS
    taken.mkdir(mode=0o777)
    os.chown(taken, 65534, 65534)
    with pytest.raises(SandboxSettingError) as refused:
        lock_folder()
    message = str(refused.value)
    assert str(taken) in message and "uid 65534" in message
    assert f"remove {taken}" in message and "/run" in message


@as_root
def test_each_uid_account_is_looked_up_once_per_process(monkeypatch) -> None:
    """A lookup can cost milliseconds (an account service behind NSS), and every claim passes
    over the uids others hold: a batch's workers would pay them again for every submission."""
    import pwd

    looked_up: list[int] = []
    real = pwd.getpwuid

    def counting(uid: int) -> pwd.struct_passwd:
        looked_up.append(uid)
        return real(uid)

    monkeypatch.setattr(pwd, "getpwuid", counting)
    identities.has_account.cache_clear()  # earlier tests of this process looked some up
    held = [claim_identity() for _ in range(4)]
    try:
        for _ in range(3):
            claim = claim_identity()
            assert claim is not None
            claim.release(emptied=True)
    finally:
        for claim in held:
            if claim is not None:
                claim.release(emptied=True)
    assert looked_up and len(looked_up) == len(set(looked_up))


PEEK = """
import os
def peek(path):
    try:
        os.close(os.open(path, os.O_RDONLY))
    except OSError as error:
        return type(error).__name__
    return "opened"
"""


@as_root
@pytest.mark.sandbox
def test_a_child_cannot_open_its_own_uid_lock_even_without_landlock(
    monkeypatch, interpreter_reachable
) -> None:
    """Only root may open a lock file: a child could otherwise hold one open, with its lock,
    and keep that uid from every other session after its own ended (none can take a uid from
    another: a lock is not stolen, and only root may remove a file in the lock folder)."""
    monkeypatch.setenv("GRADER_SANDBOX_DISABLE", "landlock")
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "sub.py").write_text(PEEK)
        with SandboxSession(Path(folder), "sub.py") as session:
            uid = session.plan["uid"]
            if uid is None:
                pytest.skip(f"no uid switch here: {session.plan.get('uid_reason')}")
            lock = str(lock_folder() / str(uid))
            assert session.call("peek", [lock], 10).value == "PermissionError"


@pytest.mark.parametrize("setting", ["0", "-1", "root", "64213.5"])
def test_a_sandbox_uid_setting_that_is_not_an_unprivileged_uid_is_refused(
    monkeypatch, setting: str
) -> None:
    """uid 0 would make "every process of the child's uid" every process of root's: the
    grader, and with kill(-1) the whole machine."""
    monkeypatch.setenv("GRADER_SANDBOX_UID", setting)
    with pytest.raises(ValueError, match="GRADER_SANDBOX_UID"):
        sandbox_identity()


def test_root_is_never_emptied() -> None:
    with pytest.raises(ValueError, match="uid 0"):
        empty_uid(0, 0)
