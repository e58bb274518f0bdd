"""The contract every submission format fulfils, so that a format lives in one module.

A student may hand in the rubric's entry (say hw2.py) in another form: a notebook, an answers
file, and next a written answer sheet. Each form is one `SubmissionFormat`: which file names
stand for the entry, how large such a file may be, and how its bytes become the source of a
Python module, in the grader and without running anything. The sandbox and everything after it
then see an ordinary module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_BYTES = 50 << 20
"""Largest file of a submission, entry or helper: source with embedded data is a few MB."""


class FormatError(ValueError):
    """The file cannot be graded in its form; the message names the file and says why, in
    words the student can act on."""


@dataclass(frozen=True)
class Converted:
    """What reading a file produced: the module to stage in its place (None: the file is
    Python already and is staged as it is), and notes for the student, the first of which is
    shown at the top."""

    module_source: str | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SubmissionFormat:
    """One form an entry may take.

    `suffixes` name the files that stand for the entry (its stem plus each suffix, in order).
    `max_bytes` bounds what is read of such a file, and `too_large(name, size)` tells the
    student so. `convert(data, name, entry)` turns the file's bytes into a `Converted` (raising
    FormatError when it cannot), `entry` being the name the module is staged under.
    """

    name: str
    suffixes: tuple[str, ...]
    max_bytes: int
    too_large: Callable[[str, int], str]
    convert: Callable[[bytes, str, str], Converted]

    def file_names(self, entry: str) -> tuple[str, ...]:
        """The names standing for `entry` in this form (hw2.py -> hw2.ipynb)."""
        stem = Path(entry).stem
        return tuple(stem + suffix for suffix in self.suffixes)
