"""Guarantee 10: no process that has seen a hidden input is alive while a process whose answers
may be shown runs, so no channel between two live processes carries a hidden input out.

The channel used here needs no file system access beyond what every child has: open file
description (OFD) locks on the interpreter's own os.py, which every child can read. The child
that gets the hidden case of question 6 writes the input into the lock table (one read lock per
byte, at an offset that encodes the byte) and stays alive; a child that answers a visible
request later (the custom test of question 7 reads CUSTOM, which a module `__getattr__`
computes) reads the table back with F_OFD_GETLK and returns what it found, which the custom
test's failure message would show. The lock table is the kernel's: namespaces, Landlock and a
uid switch all leave it shared.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sectest_support import (
    ALL_MODES,
    CLI_TIMEOUT,
    WITHOUT_LANDLOCK,
    Mode,
    chown_tree,
    grader_environment,
    modes,
    run_grader,
)

pytestmark = pytest.mark.sandbox

FULL_MARKS_FOR_THE_ATTACKER = {"1": 1.0, "6": 1.0}

LOCK_CHANNEL = """
import fcntl
import struct

F_RDLCK, F_WRLCK, F_UNLCK, F_OFD_GETLK, F_OFD_SETLK = 0, 1, 2, 36, 37
BASE, WIDTH = 1 << 20, 96
_HELD = []


def _lock(kind, start):
    return struct.pack("hhqqi", kind, 0, start, 1, 0)


def _send(text):
    handle = open(os.__file__, "rb")
    for index, byte in enumerate(text.encode()[:WIDTH]):
        fcntl.fcntl(handle, F_OFD_SETLK, _lock(F_RDLCK, BASE + index * 256 + byte))
    _HELD.append(handle)  # the locks live as long as this process


def _receive():
    found = bytearray()
    with open(os.__file__, "rb") as handle:
        for index in range(WIDTH):
            for byte in range(256):
                probe = _lock(F_WRLCK, BASE + index * 256 + byte)
                if struct.unpack("hhqqi", fcntl.fcntl(handle, F_OFD_GETLK, probe))[0] != F_UNLCK:
                    found.append(byte)
                    break
            else:
                break
    return found.decode(errors="replace")


def echo(x):
    if x != "public input":
        _send(x)
    return "echo:" + str(x)


def __getattr__(name):
    if name == "CUSTOM":
        return "received: " + _receive()
    raise AttributeError(name)
"""


@modes(*ALL_MODES, *WITHOUT_LANDLOCK)
def test_a_hidden_input_cannot_reach_a_visible_answer_through_file_locks(attack):
    run = attack(LOCK_CHANNEL, scores=FULL_MARKS_FOR_THE_ATTACKER)
    custom = run.test("7")["output"]
    assert "received: " in custom, f"the receiving side did not run: {custom}"


CORRECT_STUDENT = "CONTROL = 42\n\ndef echo(x):\n    return 'echo:' + x\n"
PRELUDE = "import os\nCONTROL = 42\n"


@modes("default", "unprivileged", "no-landlock")
def test_a_hidden_input_cannot_reach_a_visible_answer_in_a_batch(
    mode: Mode, course, workspace: Path, request
):
    """The same attack in `grader batch`, whose warm workers keep a second child for hidden
    cases: every student still gets a row with the grader's own scores."""
    folder = workspace / "runs" / f"batch-{request.node.name.replace('/', '-')}"
    source, outdir = folder / "class", folder / "out"
    students = {"attacker": PRELUDE + LOCK_CHANNEL, "honest": CORRECT_STUDENT}
    for name, text in students.items():
        (source / name).mkdir(parents=True)
        (source / name / "answers.py").write_text(text)
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    outdir.mkdir()
    chown_tree(outdir, mode.account)
    env = grader_environment(mode, {}, home=folder)
    finished = run_grader(
        mode,
        ["batch", str(course.rubric), str(source), "-o", str(outdir), "--workers", "1"],
        env,
        folder,
        outdir,
        timeout=CLI_TIMEOUT,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    written = "".join(
        path.read_text(errors="replace")
        for path in outdir.rglob("*")
        if path.is_file() and path.suffix in (".json", ".csv", ".html")
    )
    assert course.canary not in written, "the hidden input reached the batch's outputs"
    for name in students:
        results = json.loads((outdir / "results" / f"{name}.json").read_text())
        scores = {test["number"]: test["score"] for test in results["tests"]}
        assert scores["1"] == 1.0 and scores["6"] == 1.0, (name, scores)
        assert "received: " in json.dumps(results) or name == "honest"
    assert os.path.getsize(outdir / "grades.csv") > 0
