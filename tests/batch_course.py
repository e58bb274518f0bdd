"""A small course and synthetic Gradescope exports for the batch tests.

The course is tiny on purpose (two questions, short limits) so that a batch of pathological
submissions finishes in seconds; the HW2 examples are used where real grading matters.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml

RUBRIC = """\
assignment: tiny
title: Tiny batch course
total_points: 3
seed: 7
reference: tiny_reference.py
submission:
  entry: answers.py
limits:
  call_timeout: 2
  import_timeout: 4
  total_seconds: 20
  memory_mb: 512
questions:
  - number: "1"
    title: A constant
    points: 2
    parts:
      - name: the answer
        points: 2
        target: ANSWER
        answer: {value: 0.5}
        check: {kind: numeric, rtol: 1.0e-6}
        mistakes:
          - id: doubled
            value: 1.0
            credit: 0.25
            feedback: You doubled it; the half belongs there.
  - number: "2"
    title: A function
    points: 1
    parts:
      - name: square
        points: 1
        target: square
        function:
          args: [x]
          reference: square
          public: [{x: 3}]
          hidden: [{x: -4}]
        check: {kind: numeric}
"""

REFERENCE = '''\
"""Reference of the tiny batch course."""


def square(x):
    return x * x
'''

CORRECT = "ANSWER = 0.5\n\ndef square(x):\n    return x * x\n"
DOUBLED = "ANSWER = 1.0\n\ndef square(x):\n    return x * x\n"
HALF_WRONG = "ANSWER = 0.5\n\ndef square(x):\n    return 2 * x\n"
PATHOLOGICAL = {
    "loops_at_import": "while True:\n    pass\n",
    "memory_bomb": "ANSWER = 0.5\nhog = []\nwhile True:\n    hog.append(bytearray(1 << 24))\n",
    "fork_bomb": ("import os\nANSWER = 0.5\ndef square(x):\n    while True:\n        os.fork()\n"),
    "crashes": "import os\nANSWER = 0.5\ndef square(x):\n    os._exit(3)\n",
    "floods_output": (
        "import sys\nANSWER = 0.5\ndef square(x):\n    chunk = 'x' * (1 << 20)\n"
        "    for _ in range(1024):\n        sys.stdout.write(chunk)\n"
        "        sys.__stderr__.write(chunk)\n    return x * x\n"
    ),
    "sleeps": "import time\nANSWER = 0.5\ndef square(x):\n    time.sleep(30)\n",
    "says_invalid_unicode": (
        "ANSWER = 0.5\ndef square(x):\n    raise ValueError('\\ud800 is not text')\n"
    ),
}
"""What each one does to the grader; every one must end with a row of its own."""


@dataclass(frozen=True)
class Course:
    rubric: Path
    reference: Path


def write_course(folder: Path) -> Course:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.yaml").write_text(RUBRIC, encoding="utf-8")
    (folder / "tiny_reference.py").write_text(REFERENCE, encoding="utf-8")
    return Course(folder / "tiny.yaml", folder / "tiny_reference.py")


@dataclass(frozen=True)
class Student:
    name: str
    sid: str
    email: str


def metadata_entry(students: list[Student]) -> dict:
    """One submission's entry in submission_metadata.yml, with Gradescope's Ruby-style keys."""
    return {
        ":submitters": [{":name": s.name, ":sid": s.sid, ":email": s.email} for s in students],
        ":created_at": "2026-02-10 23:51:07.938335000 Z",
        ":score": 0.0,
        ":status": "processed",
        ":results": {"score": 0.0, "tests": []},
        ":history": [],
    }


def write_export_zip(
    path: Path,
    submissions: dict[str, tuple[list[Student], dict[str, str]]],
    without_folder: dict[str, list[Student]] | None = None,
) -> Path:
    """An "Export Submissions" zip: `submissions` maps a numeric id to (students, files), the
    files given by their path inside submission_<id>/ (nested as uploaded); `without_folder`
    adds metadata entries whose folder is not in the zip."""
    top = "assignment_4242_export"
    metadata = {
        f"submission_{sid}": metadata_entry(students) for sid, (students, _) in submissions.items()
    }
    metadata.update(
        {
            f"submission_{sid}": metadata_entry(students)
            for sid, students in (without_folder or {}).items()
        }
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            f"{top}/submission_metadata.yml", yaml.safe_dump(metadata, sort_keys=False)
        )
        for sid, (_, files) in submissions.items():
            for name, text in files.items():
                archive.writestr(f"{top}/submission_{sid}/{name}", text)
    return path


def write_plain_folder(folder: Path, submissions: dict[str, str]) -> Path:
    """A folder with one sub-folder per student, each holding answers.py."""
    for name, source in submissions.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        (folder / name / "answers.py").write_text(source, encoding="utf-8")
    return folder
