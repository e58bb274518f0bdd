"""Work folders of one grading: a new one per restart, all removed after the children end."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from batch_course import write_course

from grader.grading.engine import Engine
from grader.rubric.model import load_rubric
from grader.submission.staged import open_submission
from grader.trusted.reference import load_reference

WRITES_FROM_A_THREAD = """\
import itertools
import threading

ANSWER = 0.5


def _keep_writing():
    for count in itertools.count():
        try:
            with open(f"file{count % 50}.txt", "w") as handle:
                handle.write("x")
        except OSError:
            pass


def square(x):
    threading.Thread(target=_keep_writing, daemon=True).start()
    return x * x
"""


@pytest.mark.sandbox
def test_work_folders_are_removed_even_while_a_child_is_still_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    course = write_course(tmp_path / "course")
    loaded = load_rubric(course.rubric)
    submission = tmp_path / "student"
    submission.mkdir()
    (submission / "answers.py").write_text(WRITES_FROM_A_THREAD)
    engine = Engine(loaded, load_reference(loaded.reference_path))
    for _ in range(3):
        with open_submission(submission, loaded.rubric.submission) as staged:
            assert engine.grade(staged).score == 3.0
        assert not [p.name for p in temporary.iterdir() if p.name.startswith("grader-work-")]
