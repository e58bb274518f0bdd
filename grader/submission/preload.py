"""Which of the rubric's libraries one grading's zygote preloads: those that the submission or
the harness imports, read from their import statements as text.

Light (the standard library and the rubric's file fields) because a command starts its zygote
as soon as this list is known, before it imports the grading stack, so that the zygote's imports
(2 to 3 s with torch) overlap with the trusted process's. The list is known from the rubric
alone when its harness imports every library the rubric preloads (`rubric_preload`): no
submission can change it then. Otherwise it waits for the submission to be located
(`preload_for`).
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from grader.rubric.files import RubricFiles, RubricSource, beside

if TYPE_CHECKING:
    from grader.rubric.model import LoadedRubric
    from grader.submission.locate import LocatedSubmission

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


def python_sources(located: LocatedSubmission) -> list[str]:
    """The start of the submission's module source and of every Python file in it."""
    sources = [located.module_source[:SCANNED_BYTES]] if located.module_source else []
    paths = sorted({*located.files, *([located.entry] if located.entry else [])})
    for path in paths:
        if path.suffix == ".py":
            with contextlib.suppress(OSError), open(path, "rb") as file:
                sources.append(file.read(SCANNED_BYTES).decode("utf-8", "replace"))
    return sources


def read_harness(path: Path | None) -> str | None:
    """The harness's source for the scan; None without one, or when it cannot be read (the
    grading then says why, where it loads the harness)."""
    if path is None:
        return None
    with contextlib.suppress(OSError):
        return path.read_text(encoding="utf-8", errors="replace")
    return None


def submission_preload(
    preload: list[str], harness: str | None, located: LocatedSubmission
) -> list[str]:
    """The libraries among `preload` that the located submission or the harness imports. A
    batch worker preloads them all, for a whole class; one grading need not pay 2 s of torch
    for a student who never imports it."""
    return imports([*python_sources(located), *([harness] if harness else [])], preload)


def decided_by_harness(preload: list[str], harness: str | None) -> list[str] | None:
    """`submission_preload`'s answer for every submission, before any is located: when the
    harness imports every library in `preload`, no submission can change the list (a
    training harness importing numpy and torch, say). None when the submission's imports
    decide."""
    found = imports([harness] if harness else [], preload)
    return found if found == preload else None


def preload_for(loaded: LoadedRubric, located: LocatedSubmission) -> list[str]:
    """What one submission's zygote preloads, for a validated rubric."""
    preload = loaded.rubric.submission.preload
    return submission_preload(preload, read_harness(loaded.harness_path), located)


def rubric_preload(source: RubricSource) -> list[str] | None:
    """`preload_for`'s answer from the rubric file alone, before its questions are validated,
    when the harness decides it (`decided_by_harness`); None when the submission's imports
    decide, or when the rubric's file fields do not validate (validating the whole rubric then
    names the problem)."""
    try:
        files = RubricFiles.model_validate(source.data)
    except ValidationError:
        return None
    harness = None if files.harness is None else beside(source.path, files.harness)
    return decided_by_harness(files.submission.preload, read_harness(harness))
