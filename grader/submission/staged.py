"""A submission ready to grade: located and converted once, staged into as many private work
folders as the grading needs.

The front end opens it (`open_submission`), hands it to the engine, and closes it after the
engine has ended every sandboxed child, so no folder is removed while a child may still be
writing into it.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from grader.rubric.files import SubmissionFiles
from grader.submission.formats.base import SheetPart
from grader.submission.locate import LocatedSubmission, locate, missing_entry_message, stage

if TYPE_CHECKING:
    from grader.rubric.model import LoadedRubric
    from grader.sandbox.zygote import WarmChildren


@dataclass
class StagedSubmission:
    """What the engine grades. `id` identifies the submission for its random cases (the id
    Gradescope or the batch gave it, else its content hash)."""

    located: LocatedSubmission
    spec: SubmissionFiles
    id: str
    _folders: contextlib.ExitStack
    _prefix: str

    @property
    def readable(self) -> bool:
        """Whether there is an entry to import at all."""
        return self.located.entry is not None and self.located.problem is None

    @property
    def entry_name(self) -> str:
        """The module's file name in a work folder."""
        assert self.located.entry is not None
        return self.located.staged_name or self.located.entry.name

    @property
    def handed_in_name(self) -> str:
        """The name of the file the student handed in (hw2.ipynb), which messages name, rather
        than the module it was staged as (hw2.py)."""
        return self.located.entry.name if self.located.entry is not None else self.entry_name

    def why_unreadable(self) -> str:
        return missing_entry_message(self.located, self.spec)

    def workdir(self) -> Path:
        """A new, private work folder with the submission staged in it; removed when the
        submission is closed."""
        folder = Path(self._folders.enter_context(tempfile.TemporaryDirectory(prefix=self._prefix)))
        stage(self.located, folder)
        return folder


@contextlib.contextmanager
def open_submission(
    path: Path,
    spec: SubmissionFiles,
    *,
    submission_id: str | None = None,
    prefix: str = "grader-work-",
    sheet: tuple[SheetPart, ...] = (),
) -> Iterator[StagedSubmission]:
    """Locate and convert the submission at `path` (SubmissionError when there is no such
    path); its work folders last until the block ends. `sheet` holds the parts a written sheet
    may answer (grader.submission.asked.sheet_parts of the rubric)."""
    located = locate(Path(path), spec, sheet)
    with contextlib.ExitStack() as folders:
        yield StagedSubmission(
            located, spec, submission_id or located.content_sha256, folders, prefix
        )


@contextlib.contextmanager
def open_for_grading(
    loaded: LoadedRubric, path: Path, submission_id: str | None, children: WarmChildren
) -> Iterator[StagedSubmission]:
    """One submission opened as the engine grades it (the rubric's sheet parts), its grading's
    zygote given the preload list now that the submission is located, unless the rubric alone
    gave it before (`grader grade` and Gradescope's run_autograder)."""
    from grader.submission.asked import sheet_parts
    from grader.submission.preload import preload_for

    spec = loaded.rubric.submission
    sheet = sheet_parts(loaded.rubric)
    with open_submission(path, spec, submission_id=submission_id, sheet=sheet) as staged:
        if not children.started:
            children.start(preload_for(loaded, staged.located))
        yield staged
