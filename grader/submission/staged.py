"""A submission ready to grade: located and converted once, staged into as many private work
folders as the grading needs.

The front end opens it (`open_submission`), hands it to the engine, and closes it after the
engine has ended every sandboxed child, so no folder is removed while a child may still be
writing into it.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from grader.rubric.model import LoadedRubric, SubmissionFiles
from grader.submission.formats.base import SheetPart
from grader.submission.locate import LocatedSubmission, locate, missing_entry_message, stage

SCANNED_BYTES = 1 << 20
"""How much of each Python file `imports` reads: import statements come first, and the scan
of a student's file in the trusted process stays bounded."""


def imports(sources: list[str], modules: list[str]) -> list[str]:
    """The modules among `modules` that an import statement in `sources` names (read as text
    with one regular expression, never parsed or run). A module imported in a way this does not
    see is still imported by the child when it runs, only without its start paid ahead."""
    found = []
    for module in modules:
        top = re.escape(module.split(".")[0])
        statement = re.compile(rf"^[ \t]*(?:from|import)[ \t]+[^#\n]*\b{top}\b", re.MULTILINE)
        if any(statement.search(source) for source in sources):
            found.append(module)
    return found


def preload_for(loaded: LoadedRubric, located: LocatedSubmission) -> list[str]:
    """What one submission's zygote preloads: the rubric's libraries that the submission or
    the harness imports. A batch worker preloads them all, for a whole class; one grading
    need not pay 2 s of torch for a student who never imports it."""
    sources = python_sources(located)
    if loaded.harness_path is not None:
        with contextlib.suppress(OSError):
            sources.append(loaded.harness_path.read_text(encoding="utf-8", errors="replace"))
    return imports(sources, loaded.rubric.submission.preload)


def python_sources(located: LocatedSubmission) -> list[str]:
    """The start of the submission's module source and of every Python file in it."""
    sources = [located.module_source[:SCANNED_BYTES]] if located.module_source else []
    paths = sorted({*located.files, *([located.entry] if located.entry else [])})
    for path in paths:
        if path.suffix == ".py":
            with contextlib.suppress(OSError), open(path, "rb") as file:
                sources.append(file.read(SCANNED_BYTES).decode("utf-8", "replace"))
    return sources


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
