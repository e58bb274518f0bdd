"""The submission-format contract: every registered format is found by its file names, and a
new format registered in grader.submission.formats.FORMATS is found, converted and staged
without any other change."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.rubric.files import SubmissionFiles
from grader.submission import formats
from grader.submission.formats import FormatError, SubmissionFormat, format_of
from grader.submission.formats.base import Asked, Converted
from grader.submission.locate import locate, stage
from grader.submission.staged import open_submission

SPEC = SubmissionFiles(entry="hw2.py")


def _convert_lines(data: bytes, name: str, asked: Asked) -> Converted:
    """A toy written-answers format: `NAME = number` lines, read as data only."""
    lines = []
    for number, line in enumerate(data.decode().splitlines(), start=1):
        target, _, value = (part.strip() for part in line.partition("="))
        try:
            assert target.isidentifier()
            lines.append(f"{target} = {float(value)!r}")
        except (AssertionError, ValueError):
            raise FormatError(f"{name}: line {number} is not NAME = number") from None
    return Converted("\n".join(lines) + "\n", (f"{name} was graded as {asked.entry}",))


TOY = SubmissionFormat(
    name="sheet",
    suffixes=(".sheet",),
    max_bytes=1 << 10,
    too_large=lambda name, size: f"{name} is too large ({size} bytes)",
    convert=_convert_lines,
)


@pytest.fixture
def with_toy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "FORMATS", (*formats.FORMATS, TOY))


def test_registered_formats_have_distinct_names_and_suffixes():
    names = [form.name for form in formats.FORMATS]
    suffixes = [suffix for form in formats.FORMATS for suffix in form.suffixes]
    assert len(set(names)) == len(names) and len(set(suffixes)) == len(suffixes)
    for form in formats.FORMATS:
        assert form.file_names("hw2.py") == tuple("hw2" + s for s in form.suffixes)
        assert format_of(Path("x" + form.suffixes[0])) is form


def test_a_registered_toy_format_is_found_converted_and_staged(with_toy, tmp_path):
    (tmp_path / "hw2.sheet").write_text("ETA = 0.5\n")
    found = locate(tmp_path, SPEC)
    assert found.entry == tmp_path / "hw2.sheet"
    assert found.notes[0] == "hw2.sheet was graded as hw2.py"
    work = tmp_path / "work"
    work.mkdir()
    assert stage(found, work) == "hw2.py"
    assert (work / "hw2.py").read_text() == "ETA = 0.5\n"


def test_a_registered_format_comes_after_the_earlier_ones(with_toy, tmp_path):
    (tmp_path / "hw2.sheet").write_text("ETA = 0.5\n")
    (tmp_path / "hw2.py").write_text("ETA = 0.25\n")
    found = locate(tmp_path, SPEC)
    assert found.entry == tmp_path / "hw2.py"
    assert "hw2.sheet" in found.notes[-1] and found.notes[-1].endswith("then hw2.sheet")


@pytest.mark.parametrize("line", ["ETA is one half", "import os; os.system('x') # = 1"])
def test_a_toy_format_that_cannot_read_the_file_makes_it_unreadable(with_toy, tmp_path, line):
    (tmp_path / "hw2.sheet").write_text(line + "\n")
    with open_submission(tmp_path, SPEC) as submission:
        assert not submission.readable
        assert submission.why_unreadable() == "hw2.sheet: line 1 is not NAME = number."


def test_a_file_over_the_formats_limit_is_refused_before_conversion(with_toy, tmp_path):
    (tmp_path / "hw2.sheet").write_text("ETA = 0.5\n" * 200)
    found = locate(tmp_path, SPEC)
    assert found.entry is None and found.problem == "hw2.sheet is too large (2000 bytes)"


def test_each_work_folder_holds_its_own_copy_and_is_removed_on_close(tmp_path):
    (tmp_path / "student").mkdir()
    (tmp_path / "student" / "hw2.py").write_text("ETA = 0.5\n")
    with open_submission(tmp_path / "student", SPEC, submission_id="42") as submission:
        first, second = submission.workdir(), submission.workdir()
        assert first != second and submission.id == "42"
        assert (first / "hw2.py").read_text() == (second / "hw2.py").read_text() == "ETA = 0.5\n"
    assert not first.exists() and not second.exists()
