"""Guarantee 11: strict policy runs student code only where the file system is confined.

Network, IPC and UTS namespaces share the file system, so they do not count: what confines it
is Landlock, or a uid switch to a user the file permissions keep out of everything the grader
protects (the course, the TA's input, the outputs). These tests run without Landlock, the case
where that difference decides: the session's course is world-readable (the worst case), so the
uid switch alone does not protect it and strict policy must refuse, naming it; a course that
only root can read, graded as root, is confined by the uid switch alone and grades normally,
with the attack's reads and writes denied by file permissions.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from sectest_support import (
    CLI_TIMEOUT,
    Course,
    Mode,
    chown_tree,
    grader_environment,
    modes,
    run_grader,
)

pytestmark = pytest.mark.sandbox

READS_AND_WRITES = """
def _leave_a_mark():
    with open(os.path.join(os.path.dirname($results), "ran-at-import.txt"), "w") as marker:
        marker.write(f"student code ran as uid {os.getuid()}")

MARK = _attempt(_leave_a_mark)

def attack(x):
    return {
        "mark": MARK,
        "reference": _attempt(lambda: open($reference).read()),
        "rubric": _attempt(lambda: open($rubric).read()),
        "beside the results": _attempt(lambda: open($results + ".planted", "w").write("x")),
    }
"""


@modes("no-landlock", "unprivileged-no-landlock")
def test_strict_policy_refuses_a_child_that_could_read_the_course(attack, mode, course):
    run = attack(
        READS_AND_WRITES,
        extra_args=("--policy", "strict"),
        expect_exit=4,
        scores=None,
        check_layers=False,
    )
    assert not (run.out / "ran-at-import.txt").exists(), "student code ran under strict policy"
    assert run.observed == [] and run.results["tests"] == []
    why = run.results["output"]
    assert "file system is not confined" in why, why
    if mode.expects_uid_switch:  # the uid switch happened, but the course is world-readable
        assert str(course.reference.parent) in why, why
    else:
        assert "runs as that user" in why, why


@modes("no-landlock", "unprivileged-no-landlock")
def test_lenient_policy_grades_and_names_what_the_child_can_reach(attack, mode, course):
    run = attack("def attack(x):\n    return 'reads nothing'\n", check_layers=False)
    layers = run.layers
    assert layers["exposed"], layers
    if mode.expects_uid_switch:
        assert layers["confines"]["files"] == ["uid"], layers
        assert any(str(course.reference.parent) in line for line in layers["exposed"]), layers
    else:
        assert layers["confines"]["files"] == [], layers


def private_copy(course: Course, where: Path) -> Course:
    """The session's course in a folder only root can enter."""
    shutil.copytree(course.workspace, where)
    where.chmod(0o700)
    moved = {
        name: where / Path(getattr(course, name)).relative_to(course.workspace)
        for name in (
            "rubric",
            "reference",
            "custom_tests",
            "autograder_source",
            "solution",
            "other_submission",
        )
    }
    return Course(where, course.canary, grader_source=course.grader_source, **moved)


@modes("no-landlock")
def test_strict_policy_grades_when_file_permissions_confine_the_sandbox_user(
    attack, mode, course, workspace
):
    if not mode.expects_uid_switch:
        pytest.skip("needs root, for the uid switch")
    private = private_copy(course, workspace / f"private-course-{os.getpid()}")
    try:
        run = attack(READS_AND_WRITES, extra_args=("--policy", "strict"), graded_course=private)
    finally:
        shutil.rmtree(private.workspace, ignore_errors=True)
    seen = run.observation
    for name in ("mark", "reference", "rubric", "beside the results"):
        assert seen[name].startswith("denied: PermissionError"), (name, seen[name])
    assert run.layers["confines"]["files"] == ["uid"] and run.layers["exposed"] == []


def run_batch(mode: Mode, course: Course, folder: Path, private_source: bool) -> Path:
    source, outdir = folder / "class", folder / "out"
    classmate = "CONTROL = 42\nNOTE = 'classmate-secret'\n"
    attacker = (  # full marks on the control question only if the classmate's file is unreadable
        "try:\n"
        f"    STOLEN = open({str(source / 'classmate' / 'answers.py')!r}).read()\n"
        "    CONTROL = 0\n"
        "except OSError:\n    CONTROL = 42\n"
    )
    for name, text in {"attacker": attacker, "classmate": classmate}.items():
        (source / name).mkdir(parents=True)
        (source / name / "answers.py").write_text(text)
    for path in [source, *source.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    if private_source:
        source.chmod(0o700)
    finished = run_grader(
        mode,
        [
            "batch",
            str(course.rubric),
            str(source),
            "-o",
            str(outdir),
            "--workers",
            "1",
            "--policy",
            "strict",
        ],
        grader_environment(mode, {}, home=folder),
        folder,
        folder,
        timeout=CLI_TIMEOUT,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    chown_tree(outdir, mode.account)
    return outdir


@modes("no-landlock")
@pytest.mark.parametrize("private_source", [False, True], ids=["readable-input", "private-input"])
def test_a_strict_batch_without_landlock_never_lets_a_child_read_the_class(
    mode, course, workspace, request, private_source
):
    """As root without Landlock: a class (and course) the sandbox user can read is refused for
    every student (each still gets a row saying why); once only root can read them, grading
    runs and the classmate's file stays out of reach."""
    if not mode.expects_uid_switch:
        pytest.skip("needs root, for the uid switch")
    folder = workspace / "runs" / f"confinement-batch-{request.node.callspec.id}"
    graded = private_copy(course, folder / "course") if private_source else course
    outdir = run_batch(mode, graded, folder, private_source)
    rows = (outdir / "grades.csv").read_text()
    written = "".join(p.read_text(errors="replace") for p in outdir.rglob("*.json"))
    assert "classmate-secret" not in written + rows
    for name in ("attacker", "classmate"):
        assert name in rows
    if not private_source:
        assert not list((outdir / "results").glob("*.json")), "student code ran"
        assert "policy_refused" in rows, rows
        return
    results = json.loads((outdir / "results" / "attacker.json").read_text())
    assert results["tests"][0]["score"] == 1.0
    assert (outdir / "gradebook.sqlite").stat().st_mode & 0o077 == 0
