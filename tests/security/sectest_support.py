"""What the security suite shares: the course it grades, the modes it grades in, one graded run.

Every attack is a real submission graded by the real `grader grade` command in a subprocess.
The course (rubric, reference module, custom tests, a fake /autograder/source, another student's
submission) is written once per session into a world-readable workspace, with a CANARY string
that is random per session in every place a submission must not reach:

- the reference module (it runs in the grader process only),
- the rubric's hidden answer and hidden case input,
- an environment variable of the grader process and the grader's command line,
- a fake /autograder/source folder and another student's submission.

The observation channel: question 2 ("attack") and 3 ("long attack") are property checks whose
trusted predicate `observe` (in the reference, i.e. in the grader process) appends the value the
student's function returned, as one JSON line, to the file named by GRADER_SECURITY_LOG. An
attack returns a description of what it managed to do ("denied: PermissionError ..." or the
stolen text), so each test knows what the attack really observed, and can tell "denied" from
"the attack was pointed at the wrong place".
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

import pytest
from machine import (  # shared with the top-level conftest
    Account,
    wait_until,
)

REPO = Path(__file__).resolve().parents[2]
GRADER = Path(sys.executable).parent / "grader"
CLI_TIMEOUT = 120
"""Seconds before a hung `grader grade` fails the test instead of hanging the suite."""

CANARY_ENV = "GRADER_SECURITY_CANARY"
LOG_ENV = "GRADER_SECURITY_LOG"
REFERENCE_MODULE_NAME = "grader_reference_security"
"""The name load_reference gives the reference module in the grader process's sys.modules."""

ALL_MODES = ("default", "no-namespaces", "unprivileged")
EXPENSIVE_MODES = ("default", "unprivileged")
WITHOUT_LANDLOCK = ("no-landlock", "unprivileged-no-landlock")
"""Modes for the attacks Landlock alone would stop: as root with the uid switch (a kernel before
5.13, some containers), and as an unprivileged TA, where only seccomp stands in the way."""


def modes(*names: str) -> pytest.MarkDecorator:
    """Run a test in these modes only (ids stay test_x[default], ...)."""
    return pytest.mark.parametrize("mode", names, indirect=True)


# --- the course ------------------------------------------------------------------------------

RUBRIC = """\
assignment: security-suite
title: Security suite
total_points: 7
seed: 4242
reference: ../reference/security.py
submission: {entry: answers.py, also: ["*.py"]}
limits: {call_timeout: 3, import_timeout: 30, memory_mb: 1024}
custom_tests:
  - {module: ../reference/security_custom_tests.py, points: 1}
questions:
  - number: "1"
    title: Control question
    points: 1
    visibility: visible
    parts:
      - {name: control, points: 1, target: CONTROL, answer: {reference: control_answer},
         check: {kind: numeric}}
  - number: "2"
    title: Attack
    points: 1
    visibility: after_published
    parts:
      - name: attack
        points: 1
        target: attack
        function: {args: [x], public: [{x: 1}]}
        check: {kind: property, predicate: observe}
  - number: "3"
    title: Long attack
    points: 1
    visibility: after_due_date
    parts:
      - name: long attack
        points: 1
        target: long_attack
        timeout: 20
        function: {args: [x], public: [{x: 1}]}
        check: {kind: property, predicate: observe}
  - number: "4"
    title: Tampering
    points: 1
    visibility: visible
    parts:
      - {name: number, points: 0.5, target: NUMBER, answer: {reference: number_answer},
         check: {kind: numeric}}
      - {name: vector, points: 0.5, target: VECTOR, answer: {reference: vector_answer},
         check: {kind: array}}
  - number: "5"
    title: Hidden answer
    points: 1
    visibility: hidden
    parts:
      - {name: secret, points: 1, target: SECRET, answer: {value: "$canary-hidden-answer"},
         check: {kind: exact, case_sensitive: true}}
  - number: "6"
    title: Hidden inputs
    points: 1
    visibility: visible
    parts:
      - name: echo
        points: 1
        target: echo
        function:
          args: [x]
          reference: echo_reference
          public: [{x: "public input"}]
          hidden: [{x: "$canary-hidden-input"}]
        check: {kind: exact, case_sensitive: true}
"""

REFERENCE = '''\
"""Reference module of the security suite: trusted, imported by the grader process only."""

import json
import os

CANARY = "$canary-reference"


def control_answer():
    return 42


def number_answer():
    return 2.5


def vector_answer():
    return [1.0, 2.0, 3.0]


def echo_reference(x):
    return "echo:" + str(x)


def _plain(value):
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) else repr(value)


def observe(value, **case):
    """Record what the attack returned (the test reads it); never give credit."""
    path = os.environ.get("GRADER_SECURITY_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps(value, default=_plain) + "\\n")
    return False, "observed by the security suite"
'''

CUSTOM_TESTS = '''\
"""Custom tests of the security suite (gradescope-utils), run in the trusted grader process."""
# $canary-custom-tests

import unittest
from typing import Any

from gradescope_utils.autograder_utils.decorators import number, weight

submission: Any = None  # set by the grader
reference: Any = None  # set by the grader


class TestCustom(unittest.TestCase):
    @weight(1)
    @number("7")
    def test_custom_is_seven(self):
        """Custom test: CUSTOM is 7"""
        self.assertEqual(submission.CUSTOM, 7)
'''

SOLUTION = '''\
"""The course's solution, as a fake /autograder/source would hold it."""
CONTROL = 42
SECRET = "$canary-autograder-source"
'''

OTHER_STUDENT = '''\
"""Another student's submission: no submission may read it."""
CONTROL = 42
NOTE = "$canary-other-student"
'''

EXPECTED_TESTS = {
    # number: (visibility, max_score), in the order results.json lists them
    "1": ("visible", 1.0),
    "2": ("after_published", 1.0),
    "3": ("after_due_date", 1.0),
    "4": ("visible", 1.0),
    "5": ("hidden", 1.0),
    "6": ("visible", 1.0),
    "7": ("visible", 1.0),
}
CONTROL_ONLY = {"1": 1.0}
"""Expected scores of a submission that answers the control question and nothing else."""
NOTHING = {}
"""Expected scores when nothing could be graded (every question 0)."""

PRELUDE = '''\
import os
import sys

CONTROL = 42


def _attempt(action):
    """Run one attack step and describe what happened, as text."""
    try:
        return "ok: " + str(action())[:4000]
    except BaseException as error:
        return f"denied: {type(error).__name__}: {error}"[:600]


def _tripwire(what):
    """Fires only in the grader process, recognised by its loaded reference module: there it
    records the canary in a marker file. In the sandbox it does nothing."""
    try:
        reference = sys.modules.get($reference_module_name)
        if reference is None:
            return
        with open($tripwire, "a") as marker:
            marker.write(f"{what} ran in pid {os.getpid()}; canary: {reference.CANARY}\\n")
    except BaseException:
        pass

'''


@dataclass(frozen=True)
class Course:
    """The files of the session's course, and the canary hidden in them."""

    workspace: Path
    canary: str
    rubric: Path
    reference: Path
    custom_tests: Path
    autograder_source: Path
    solution: Path
    other_submission: Path
    grader_source: Path

    @property
    def submission_id(self) -> str:
        return f"{self.canary}-submission-id"


def write_course(workspace: Path, canary: str) -> Course:
    """The course files, world-readable (the worst case: only the sandbox protects them)."""
    source = workspace / "autograder" / "source"
    fill = {"canary": canary}
    files = {
        source / "rubrics" / "security.yaml": RUBRIC,
        source / "reference" / "security.py": REFERENCE,
        source / "reference" / "security_custom_tests.py": CUSTOM_TESTS,
        source / "solution.py": SOLUTION,
        workspace / "submissions" / "other-student" / "answers.py": OTHER_STUDENT,
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(text).substitute(fill), encoding="utf-8")
    for path in [workspace, *workspace.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return Course(
        workspace=workspace,
        canary=canary,
        rubric=source / "rubrics" / "security.yaml",
        reference=source / "reference" / "security.py",
        custom_tests=source / "reference" / "security_custom_tests.py",
        autograder_source=source,
        solution=source / "solution.py",
        other_submission=workspace / "submissions" / "other-student" / "answers.py",
        grader_source=REPO / "grader" / "grading" / "engine.py",
    )


# --- modes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mode:
    """How `grader grade` is run: which layers are switched off, and as which user."""

    name: str
    account: Account
    disable: str = ""
    switch_user: bool = False
    """Run the grader through setpriv as `account` (pytest runs as root)."""

    @property
    def expects_uid_switch(self) -> bool:
        """The child becomes the sandbox user: the grader runs as root and the uid layer is on."""
        disabled = f"{self.disable},{os.environ.get('SECTEST_ALSO_DISABLE', '')}"
        return self.account.uid == 0 and "uid" not in disabled

    def command(self, args: list[str]) -> list[str]:
        grader = [str(GRADER), *args]
        if not self.switch_user:
            return grader
        return [
            "setpriv",
            f"--reuid={self.account.uid}",
            f"--regid={self.account.gid}",
            "--clear-groups",
            "--",
            *grader,
        ]


# --- processes -------------------------------------------------------------------------------


def processes_with(token: str) -> list[int]:
    """Processes whose command line or name contains `token` (attacks put it in what they
    start)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            text = (entry / "cmdline").read_bytes() + b"\0" + (entry / "comm").read_bytes()
        except OSError:
            continue
        if token.encode() in text:
            found.append(int(entry.name))
    return found


# --- one graded run --------------------------------------------------------------------------


@dataclass
class Run:
    """One finished `grader grade` of an attack submission."""

    mode: Mode
    course: Course
    folder: Path
    submission: Path
    results_path: Path
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    results: dict[str, Any] = field(default_factory=dict)
    observed: list[Any] = field(default_factory=list)
    children: list[int] = field(default_factory=list)
    orphans: list[int] = field(default_factory=list)
    """Children of a killed grader still alive 3 s later (killed by the suite since)."""

    @property
    def out(self) -> Path:
        return self.results_path.parent

    def describe(self) -> str:
        return (
            f"mode {self.mode.name}, exit {self.returncode}, {self.seconds:.1f} s\n"
            f"--- stdout ---\n{self.stdout[-4000:]}\n--- stderr ---\n{self.stderr[-4000:]}"
        )

    def test(self, number: str) -> dict[str, Any]:
        for test in self.results.get("tests", []):
            if test.get("number") == number:
                return test
        raise AssertionError(f"results.json has no test {number}:\n{self.describe()}")

    def part(self, number: str, index: int = 0) -> dict[str, Any]:
        return self.test(number)["extra_data"]["parts"][index]

    def scores(self) -> dict[str, float]:
        return {test["number"]: test["score"] for test in self.results["tests"]}

    @property
    def observation(self) -> Any:
        """What the attack function returned (exactly one call is expected)."""
        assert len(self.observed) == 1, (
            f"expected one observation from the attack, got {self.observed!r}\n{self.describe()}"
        )
        return self.observed[0]

    @property
    def layers(self) -> dict[str, Any]:
        return self.results["extra_data"]["sandbox_layers"]

    def applied_text(self) -> str:
        return " | ".join(self.layers.get("applied", []))


def render(sources: tuple[str, ...], values: dict[str, Any], *, prelude: bool = True) -> str:
    """An attack's source with $placeholders replaced by Python literals of `values`."""
    literals = {
        key: repr(str(value)) if isinstance(value, Path) else repr(value)
        for key, value in values.items()
    }
    body = "\n".join(textwrap.dedent(source) for source in sources)
    if prelude:
        body = PRELUDE + body
    return Template(body).substitute(literals)


def read_observed(path: Path) -> list[Any]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    children: list[int] = field(default_factory=list)
    """With kill_after: the grader's child processes just before it was killed."""
    workdirs: list[Path] = field(default_factory=list)
    """With kill_after: their working folders (a killed grader leaves them behind)."""


def run_grader(
    mode: Mode,
    args: list[str],
    env: dict[str, str],
    cwd: Path,
    out: Path,
    timeout: float = CLI_TIMEOUT,
    kill_after: float | None = None,
) -> Finished:
    """Run `grader` in its own session (so that even a successful killpg of its group cannot
    reach pytest), with stdout/stderr going to files (so an escaped daemon holding a pipe
    cannot hang the suite). With kill_after, SIGKILL the grader that many seconds after its
    first child process appeared, as an outside time limit would."""
    stdout_path, stderr_path = out / "grader-stdout.txt", out / "grader-stderr.txt"
    started = time.monotonic()
    children: list[int] = []
    workdirs: list[Path] = []
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            mode.command(args),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
        if kill_after is not None:
            assert wait_until(lambda: children_of(process.pid), 30), "the grader started no child"
            time.sleep(kill_after)
            children = children_of(process.pid)
            for pid in children:
                with contextlib.suppress(OSError):
                    workdirs.append(Path(os.readlink(f"/proc/{pid}/cwd")))
            process.kill()
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise AssertionError(
                f"`grader grade` did not finish within {timeout} s (mode {mode.name})"
            ) from None
    return Finished(
        code,
        stdout_path.read_text(errors="replace"),
        stderr_path.read_text(errors="replace"),
        time.monotonic() - started,
        children,
        workdirs,
    )


def grader_environment(mode: Mode, extra: dict[str, str], home: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GRADER_SANDBOX_", "GRADER_SECURITY_"))
    }
    env.update({"COLUMNS": "200", "HOME": str(home)})
    # SECTEST_ALSO_DISABLE=landlock,seccomp (say) weakens every mode, to watch the suite fail.
    disable = ",".join(filter(None, [mode.disable, os.environ.get("SECTEST_ALSO_DISABLE", "")]))
    if disable:
        env["GRADER_SANDBOX_DISABLE"] = disable
    env.update(extra)
    return env


def chown_tree(path: Path, account: Account) -> None:
    if os.geteuid() != 0 or account.uid == 0:
        return
    for item in [path, *path.rglob("*")]:
        os.chown(item, account.uid, account.gid, follow_symlinks=False)


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
