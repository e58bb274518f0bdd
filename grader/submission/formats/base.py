"""The contract every submission format fulfils, so that a format lives in one module.

A student may hand in the rubric's entry (say hw2.py) in another form: a notebook, an answers
file, and next a written answer sheet. Each form is one `SubmissionFormat`: which file names
stand for the entry, how large such a file may be, and how its bytes become the source of a
Python module, in the grader and without running anything. The sandbox and everything after it
then see an ordinary module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from grader.written.declare import Written

MAX_FILE_BYTES = 50 << 20
"""Largest file of a submission, entry or helper: source with embedded data is a few MB."""


class FormatError(ValueError):
    """The file cannot be graded in its form; the message names the file and says why, in
    words the student can act on."""


ReadingStatus = Literal["read", "needs_review"]
"""How surely a written answer was read: `read` answers are graded like code; `needs_review`
ones go to a human (pending, never 0)."""


@dataclass(frozen=True)
class Reading:
    """How one target's answer was read from a written sheet, kept in the trusted process.

    `shown` is the answer as read, in one normalised notation: the student sees it in the
    feedback ("read as ..."), and a TA reviewing a class decides once per distinct `shown` of a
    part. `excerpt` is the sheet's own text it came from (bounded), `line` its first line in the
    handed-in file, and `reason` says why a `needs_review` reading is not sure.
    """

    status: ReadingStatus
    shown: str
    line: int
    excerpt: str
    reason: str = ""


@dataclass(frozen=True)
class Converted:
    """What reading a file produced: the module to stage in its place (None: the file is
    Python already and is staged as it is), notes for the student (the first is shown at the
    top), and, for a written sheet, how each target was read (a target absent from both the
    module and `readings` was not answered)."""

    module_source: str | None
    notes: tuple[str, ...] = ()
    readings: Mapping[str, Reading] = field(default_factory=dict)


@dataclass(frozen=True)
class SheetPart:
    """One part a written sheet may answer, as the rubric declares it: the target the answer
    is staged as, the question's number (the default section), the `written:` declaration, and
    for a formula the function's argument names and one public case (the shapes a formula is
    tried on), for a choice the check's options."""

    target: str
    question: str
    written: Written
    args: tuple[str, ...] = ()
    sample: Mapping[str, Any] | None = None
    options: tuple[str, ...] = ()

    @property
    def section(self) -> str:
        return self.written.section or self.question


@dataclass(frozen=True)
class Asked:
    """What the rubric asks a submission for, as a converter needs it: the entry's name (the
    module is staged under it) and the parts a written sheet may answer (none: the assignment
    is not graded from sheets, and write-ups are not looked for)."""

    entry: str
    sheet: tuple[SheetPart, ...] = ()


@dataclass(frozen=True)
class SubmissionFormat:
    """One form an entry may take.

    `suffixes` name the files that stand for the entry (its stem plus each suffix, in order).
    `max_bytes` bounds what is read of such a file, and `too_large(name, size)` tells the
    student so. `convert(data, name, asked)` turns the file's bytes into a `Converted` (raising
    FormatError when it cannot), `asked.entry` being the name the module is staged under.
    `any_name` formats are also looked for under any name (a write-up, `report.tex`) when the
    submission holds exactly one such file and the rubric declares what they answer.
    """

    name: str
    suffixes: tuple[str, ...]
    max_bytes: int
    too_large: Callable[[str, int], str]
    convert: Callable[[bytes, str, Asked], Converted]
    any_name: bool = False

    def file_names(self, entry: str) -> tuple[str, ...]:
        """The names standing for `entry` in this form (hw2.py -> hw2.ipynb)."""
        stem = Path(entry).stem
        return tuple(stem + suffix for suffix in self.suffixes)
