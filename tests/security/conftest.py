"""Fixtures of the security suite: the course, the three modes, listeners, and `attack`.

`attack(source)` grades a submission whose answers.py is `source` (plus a small prelude giving
it the right CONTROL answer and helpers), in the test's mode, through the real CLI, and checks
what must hold for every attack: exit code, a schema-valid results.json with exactly the rubric's
tests, visibilities and maximum scores, the expected scores, no canary anywhere in the results
or in what the attack observed, no trusted-process tripwire fired, the sandbox layers the mode
promises, and (for the unprivileged user) no process left behind.

Modes (the `mode` fixture; every attack test id ends in one):
- default: every layer, as the user running pytest. As root (CI) the child switches to the
  sandbox user, which needs the interpreter reachable: see `interpreter_reachable`.
- no-namespaces: GRADER_SANDBOX_DISABLE=namespaces, as in Docker, which forbids unshare.
- unprivileged: `grader grade` itself runs as an unprivileged user (as root: a system user
  `grader-sectest-<pid>` created for the session), so no uid switch is possible.
- no-landlock, unprivileged-no-landlock: the same without Landlock (an older kernel, some
  containers); only the tests of attacks Landlock would stop by itself run in these.

Safety: every attack is bounded (memory, forks, threads, bytes written); the grader runs in its
own session with its output in files; network targets are listeners on 127.0.0.1 only; kill(-1)
is tried only by a child that proved it runs as the sandbox uid.

To watch the suite fail, weaken every mode: SECTEST_ALSO_DISABLE=landlock (or seccomp, ...) is
appended to GRADER_SANDBOX_DISABLE, and the per-mode layer checks are skipped. Run it only in
the default mode as root (where RLIMIT_NPROC still bounds the fork bomb):
`SECTEST_ALSO_DISABLE=landlock,seccomp pytest tests/security -k "default and not kill_minus_one"`
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import secrets
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from machine import alive, current_account, kill_pids, processes_of, wait_until
from sectest_support import (
    ALL_MODES,
    CANARY_ENV,
    CONTROL_ONLY,
    EXPECTED_TESTS,
    LOG_ENV,
    REFERENCE_MODULE_NAME,
    Course,
    Mode,
    Run,
    chown_tree,
    grader_environment,
    read_observed,
    remove_tree,
    render,
    run_grader,
    write_course,
)

from grader.sandbox import landlock

SECTEST_USER = "grader-sectest"
_runs = itertools.count(1)


# --- session: course, interpreter, user -----------------------------------------------------


@pytest.fixture(scope="session")
def canary() -> str:
    return "CANARY-" + secrets.token_hex(12)


@pytest.fixture(scope="session")
def workspace() -> Iterator[Path]:
    """A world-traversable folder outside pytest's 0700 tmp tree, so that the unprivileged
    user can read the course and write its results."""
    folder = Path(tempfile.mkdtemp(prefix="grader-security-"))
    folder.chmod(0o755)
    yield folder
    remove_tree(folder)


@pytest.fixture(scope="session")
def course(workspace: Path, canary: str) -> Course:
    return write_course(workspace / "course", canary)


# --- modes -----------------------------------------------------------------------------------


@pytest.fixture(params=ALL_MODES)
def mode(request: pytest.FixtureRequest, interpreter_reachable: dict[str, int]) -> Mode:
    """default: every layer, as the user running pytest (root in CI: the uid switch happens).
    no-namespaces: GRADER_SANDBOX_DISABLE=namespaces, like Docker, which forbids unshare.
    unprivileged: the grader itself runs as an unprivileged user (no uid switch possible)."""
    name = request.param
    if name == "default":
        return Mode("default", current_account())
    if name == "no-namespaces":
        return Mode("no-namespaces", current_account(), disable="namespaces")
    if name == "no-landlock":
        return Mode("no-landlock", current_account(), disable="landlock")
    if name in ("unprivileged", "unprivileged-no-landlock"):
        account = request.getfixturevalue("unprivileged_account")
        disable = "landlock" if name.endswith("no-landlock") else ""
        return Mode(name, account, disable=disable, switch_user=os.geteuid() == 0)
    raise ValueError(f"unknown mode {name}")


# --- listeners on the loopback interface -----------------------------------------------------


class TcpListener:
    """A TCP server on 127.0.0.1 that counts connections (it answers nothing)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections: list[str] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        with socket.create_connection(("127.0.0.1", self.port), timeout=2):
            pass  # the listener can see a connection: its silence later means something
        assert wait_until(lambda: self.connections, 2), "the test listener saw no connection"
        self.connections.clear()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, peer = self.server.accept()
            except (TimeoutError, OSError):
                continue
            self.connections.append(f"{peer[0]}:{peer[1]}")
            connection.close()

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(2)
        self.server.close()


class UdpListener:
    """A UDP socket on 127.0.0.1 (say, a DNS resolver) that records datagrams."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.datagrams: list[bytes] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.sendto(b"self-test", ("127.0.0.1", self.port))
        assert wait_until(lambda: self.datagrams, 2), "the test UDP listener saw nothing"
        self.datagrams.clear()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                data, _ = self.sock.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            self.datagrams.append(data)

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(2)
        self.sock.close()


class UnixListener:
    """A Unix socket server (a pathname or an abstract name) that records connections."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(address)
        self.server.listen(8)
        self.server.settimeout(0.2)
        self.connections: list[bytes] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def self_test(self) -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.connect(self.address)
        assert wait_until(lambda: self.connections, 2), "the test unix listener saw nothing"
        self.connections.clear()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.server.accept()
            except (TimeoutError, OSError):
                continue
            connection.settimeout(0.5)
            try:
                data = connection.recv(256)
            except OSError:
                data = b""
            self.connections.append(data)
            connection.close()

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(2)
        self.server.close()


@pytest.fixture
def tcp_listener() -> Iterator[TcpListener]:
    listener = TcpListener()
    yield listener
    listener.close()


@pytest.fixture
def udp_listener() -> Iterator[UdpListener]:
    listener = UdpListener()
    yield listener
    listener.close()


@pytest.fixture
def unix_socket_of_the_grader_user(workspace: Path, mode: Mode) -> Iterator[UnixListener]:
    """A Unix socket like an ssh-agent's: owned by the user the grader runs as, mode 0600, in
    a 0700 folder of that user."""
    folder = Path(tempfile.mkdtemp(prefix="agent-", dir=workspace))
    listener = UnixListener(str(folder / "agent.sock"))
    os.chmod(listener.address, 0o600)
    if os.geteuid() == 0:
        os.chown(listener.address, mode.account.uid, mode.account.gid)
        os.chown(folder, mode.account.uid, mode.account.gid)
    folder.chmod(0o700)
    listener.self_test()
    yield listener
    listener.close()


@pytest.fixture
def abstract_unix_listener() -> Iterator[UnixListener]:
    listener = UnixListener("\0grader-sectest-" + secrets.token_hex(6))
    listener.self_test()
    yield listener
    listener.close()


@pytest.fixture
def stray_token() -> str:
    """A string that attacks put in the command line (or, with prctl, the 15-character name) of
    every process they try to start."""
    return "sst-" + secrets.token_hex(6)[:11]


# --- grading an attack ------------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text)[:80]


def _check_layers(run: Run) -> None:
    layers = run.layers
    isolating = layers.get("isolating", [])
    applied = run.applied_text()
    where = f"sandbox layers in mode {run.mode.name}: {json.dumps(layers)}"
    if "landlock" in run.mode.disable:
        assert "landlock" not in isolating, where
    elif landlock.abi_version() >= 1:
        assert "landlock" in isolating, where
    assert "seccomp:" in applied, where
    if run.mode.name == "no-namespaces":
        assert "namespaces" not in isolating, where
        assert "disabled" in layers["unavailable"].get("namespaces", ""), where
    if run.mode.name == "default" and os.geteuid() == 0:
        assert "namespaces" in isolating, where
    if run.mode.expects_uid_switch:
        assert "uid" in isolating, f"the uid switch was not exercised; {where}"
    else:
        assert "uid" not in isolating, where


def verify(
    run: Run,
    *,
    validator: Any,
    expect_exit: int | None,
    scores: dict[str, float] | None,
    check_layers: bool,
    check_strays: bool = True,
) -> None:
    """What must hold after every attack."""
    details = run.describe()
    if expect_exit is not None:
        assert run.returncode == expect_exit, f"grader exited {run.returncode}\n{details}"
    assert run.results_path.is_file(), f"no results.json\n{details}"
    raw = run.results_path.read_text(encoding="utf-8")
    errors = sorted(validator.iter_errors(run.results), key=str)
    assert not errors, f"results.json is not valid: {[e.message for e in errors]}\n{raw[:3000]}"
    canary = run.course.canary
    assert canary not in raw, f"the canary reached results.json:\n{raw[:6000]}"
    assert canary not in json.dumps(run.observed), (
        f"the attack obtained the canary: {run.observed!r}"
    )
    tripwire = run.out / "tripwire.txt"
    assert not tripwire.exists(), f"student code ran in the grader process: {tripwire.read_text()}"
    if scores is not None:
        listed = [(t["number"], t["visibility"], t["max_score"]) for t in run.results["tests"]]
        expected = [
            (number, visibility, points) for number, (visibility, points) in EXPECTED_TESTS.items()
        ]
        assert listed == expected, f"tests differ from the rubric's: {listed}\n{details}"
        want = {number: scores.get(number, 0.0) for number in EXPECTED_TESTS}
        assert run.scores() == pytest.approx(want), (
            f"scores {run.scores()} are not the grader's own {want}\n{details}"
        )
        assert run.results["score"] == pytest.approx(sum(want.values()))
        if check_layers and not os.environ.get("SECTEST_ALSO_DISABLE"):
            _check_layers(run)
    if check_strays and run.mode.account.uid not in (0, os.geteuid()):
        uid = run.mode.account.uid
        assert wait_until(lambda: not processes_of(uid), 3), (
            f"processes of {run.mode.account.name} outlived grading: {processes_of(uid)}"
        )


AttackRunner = Callable[..., Run]


@pytest.fixture
def attack(
    request: pytest.FixtureRequest,
    mode: Mode,
    course: Course,
    workspace: Path,
    schema_validator: Any,
) -> AttackRunner:
    """attack(*sources, ...) -> Run: grade an attack submission in the test's mode; its
    answers.py is the prelude followed by the sources, each dedented on its own.

    Keywords: values (more $placeholders for the source), files ({name: text or bytes} beside
    answers.py), symlinks ({name: target}), entry=False (no answers.py), prelude=False,
    extra_args, env, expect_exit (0), scores (CONTROL_ONLY; None for no score checks),
    check_layers (True), kill_after (SIGKILL the grader that long after its child started),
    check_strays (True: no process of the unprivileged user may outlive the run),
    graded_course (another course than the session's, e.g. one with private files).
    The source can use $reference, $rubric, $custom_tests, $solution,
    $autograder_source, $other_submission, $grader_source, $submission_dir, $results,
    $fake_results, $tripwire, $log, $canary_env, $grader_uid, $pytest_uid.
    """
    session_course = course

    def run(
        *sources: str,
        values: dict[str, Any] | None = None,
        files: dict[str, str | bytes] | None = None,
        symlinks: dict[str, Path] | None = None,
        entry: bool = True,
        prelude: bool = True,
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        expect_exit: int | None = 0,
        scores: dict[str, float] | None = CONTROL_ONLY,
        check_layers: bool = True,
        kill_after: float | None = None,
        check_strays: bool = True,
        graded_course: Course | None = None,
    ) -> Run:
        course = graded_course or session_course
        folder = workspace / "runs" / f"{next(_runs):03d}-{_slug(request.node.name)}"
        submission, out = folder / "submission", folder / "out"
        submission.mkdir(parents=True)
        out.mkdir()
        (out / "autograder-results").mkdir()
        results_path = out / "results.json"
        placeholders = {
            "reference": course.reference,
            "rubric": course.rubric,
            "custom_tests": course.custom_tests,
            "solution": course.solution,
            "autograder_source": course.autograder_source,
            "other_submission": course.other_submission,
            "grader_source": course.grader_source,
            "submission_dir": submission,
            "results": results_path,
            "fake_results": out / "autograder-results",
            "tripwire": out / "tripwire.txt",
            "log": out / "observed.jsonl",
            "canary_env": CANARY_ENV,
            "reference_module_name": REFERENCE_MODULE_NAME,
            "grader_uid": mode.account.uid,
            "pytest_uid": os.geteuid(),
            **(values or {}),
        }
        if entry:
            text = render(sources, placeholders, prelude=prelude)
            (submission / "answers.py").write_text(text, encoding="utf-8")
        for name, content in (files or {}).items():
            path = submission / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        for name, target in (symlinks or {}).items():
            (submission / name).symlink_to(target)
        for path in [folder, *folder.rglob("*")]:
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() else 0o644)
        chown_tree(out, mode.account)
        grader_env = grader_environment(
            mode,
            {
                LOG_ENV: str(out / "observed.jsonl"),
                CANARY_ENV: f"{course.canary}-environment",
                **(env or {}),
            },
            home=folder,
        )
        args = [
            "grade",
            str(course.rubric),
            str(submission),
            "-o",
            str(results_path),
            "--submission-id",
            course.submission_id,
            *extra_args,
        ]
        finished = run_grader(mode, args, grader_env, folder, out, kill_after=kill_after)
        orphans: list[int] = []
        if finished.children:
            wait_until(lambda: not any(map(alive, finished.children)), 3)
            orphans = [pid for pid in finished.children if alive(pid)]
            kill_pids(orphans)  # the suite started them (through the grader): clean up
            wait_until(lambda: not any(map(alive, orphans)), 3)
        for workdir in finished.workdirs:
            if workdir.name.startswith("grader-work-"):
                remove_tree(workdir)
        results: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            results = json.loads(results_path.read_text(encoding="utf-8"))
        graded = Run(
            mode=mode,
            course=course,
            folder=folder,
            submission=submission,
            results_path=results_path,
            returncode=finished.returncode,
            stdout=finished.stdout,
            stderr=finished.stderr,
            seconds=finished.seconds,
            results=results,
            observed=read_observed(out / "observed.jsonl"),
            children=finished.children,
            orphans=orphans,
        )
        verify(
            graded,
            validator=schema_validator,
            expect_exit=expect_exit,
            scores=scores,
            check_layers=check_layers,
            check_strays=check_strays,
        )
        return graded

    return run
