"""The forms a submission's entry may take, registered in one place.

`FORMATS` is in order of precedence: when a student uploads several forms of the entry, the
first one found is graded (and the notes say which were passed over). Adding a form is a new
module defining its `FORMAT` (see grader.submission.formats.base) plus its line here.
"""

from __future__ import annotations

from pathlib import Path

from grader.submission.formats import answers_file, notebook, python_source, written_sheet
from grader.submission.formats.base import Converted, FormatError, SubmissionFormat

__all__ = ["FORMATS", "Converted", "FormatError", "SubmissionFormat", "format_of"]

FORMATS: tuple[SubmissionFormat, ...] = (
    python_source.FORMAT,
    notebook.FORMAT,
    answers_file.FORMAT,
    written_sheet.FORMAT,
)


def format_of(path: Path) -> SubmissionFormat:
    """The format a file is read in, by its suffix; a file handed in by name with any other
    suffix is read as the first format (Python source)."""
    return next((form for form in FORMATS if path.suffix in form.suffixes), FORMATS[0])
