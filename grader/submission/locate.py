"""Finding a student's files, however they were uploaded, and staging them for the sandbox.

Gradescope keeps the folders students upload, so the entry file may sit a few levels down, next
to junk such as __MACOSX or .DS_Store. Only regular files are staged: symbolic links are never
followed, so a link to /etc/shadow or to the reference stays behind.

The entry (say hw2.py) may also arrive in another form (grader.submission.formats): a Jupyter
notebook hw2.ipynb, or a data-only answers file hw2.yaml. Such a file is converted here, in the
grader and without running any of it, into module source that stage() writes into the work
folder as hw2.py; the sandbox and everything after it then see an ordinary module. The
conversion is done while locating, not while staging, because what the student must be told
about it (skipped IPython lines, a notebook that is not valid) belongs in the notes, which are
read first. When several forms are present, the first registered form wins; the note says so.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import SubmissionError
from grader.rubric.files import SubmissionFiles
from grader.submission import formats
from grader.submission.bounded import ConversionError, bounded_conversion
from grader.submission.digest import data_entry, file_entry, manifest_digest
from grader.submission.formats import (
    FormatError,
    SubmissionFormat,
    format_of,
    notebook,
    python_source,
)
from grader.submission.formats.base import MAX_FILE_BYTES, Asked, Reading, SheetPart

JUNK_PARTS = {"__MACOSX", "__pycache__", ".git", ".ipynb_checkpoints"}


@dataclass(frozen=True)
class LocatedSubmission:
    """Where the entry file was found, which files go with it, and their content hash.

    For a notebook or answers file, `entry` is that file, `module_source` the module generated
    from it and `staged_name` the name it is staged under (the rubric's entry). When the file
    found cannot be graded (an invalid notebook, a file over its size limit), `entry` is None,
    as for a missing file, and `problem` says why.

    `root` is the folder the student handed in, or the file itself when the submission is one
    file: every file here lies within it, so nothing beside a submission is ever looked at.

    For a written sheet, `readings` say how each answer found was read, and `sheet` is True:
    a target the module does not define was then not answered.
    """

    root: Path
    entry: Path | None
    files: tuple[Path, ...]
    content_sha256: str
    notes: tuple[str, ...]
    module_source: str | None = None
    staged_name: str | None = None
    problem: str | None = None
    readings: Mapping[str, Reading] = field(default_factory=dict)
    sheet: bool = False


def _regular_files(
    root: Path, *, recursive: bool = True, max_bytes: int | None = MAX_FILE_BYTES
) -> list[Path]:
    """Every regular file below root, sorted, skipping junk and never following links (and
    files over max_bytes, unless it is None)."""
    found: list[Path] = []
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(
            d for d in dirnames if d not in JUNK_PARTS and not d.startswith(".") and recursive
        )
        for filename in sorted(filenames):
            if filename.startswith("."):
                continue
            path = Path(directory) / filename
            try:
                info = path.lstat()
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode) and (max_bytes is None or info.st_size <= max_bytes):
                found.append(path)
    return found


def _size(path: Path) -> int:
    try:
        return path.lstat().st_size
    except OSError:
        return 0


def _forms(asked: Asked) -> list[SubmissionFormat]:
    """The forms the entry may take: write-ups only when the rubric says what they answer."""
    return [form for form in formats.FORMATS if asked.sheet or not form.any_name]


def _entry_names(asked: Asked) -> dict[str, tuple[str, ...]]:
    """The file names standing for the entry, by form, in order of precedence."""
    return {form.name: form.file_names(asked.entry) for form in _forms(asked)}


def _relative(path: Path, root: Path) -> str:
    return printable(str(path.relative_to(root)))


def _choose_entry(
    root: Path, candidates: list[Path], asked: Asked
) -> tuple[Path | None, list[str]]:
    """The entry by precedence of form, then the shallowest; notes naming what was passed over."""
    notes: list[str] = []
    found: dict[str, list[Path]] = {}
    for kind, names in _entry_names(asked).items():
        matches = sorted(
            (p for p in candidates if p.name in names),
            key=lambda p: (len(p.relative_to(root).parts), str(p)),
        )
        if matches:
            found[kind] = matches
    if not found:
        # The one rule every front end shares: no file carries the entry's name, but the
        # student handed in exactly one Python file or notebook; it is graded as the entry.
        stand_ins = [
            p
            for p in candidates
            if p.suffix in python_source.FORMAT.suffixes + notebook.FORMAT.suffixes
        ]
        if len(stand_ins) == 1:
            return stand_ins[0], [_stand_in_note(stand_ins[0].name, asked.entry)]
        write_ups = [
            p
            for p in candidates
            if any(p.suffix in form.suffixes for form in _forms(asked) if form.any_name)
        ]
        if not stand_ins and len(write_ups) == 1:
            return write_ups[0], []
        if not stand_ins and write_ups:
            # A README or notes beside the answers is common, and grading the wrong one would
            # score a whole sheet 0: the student names the one to grade instead.
            listed = ", ".join(_relative(p, root) for p in write_ups[:10])
            sheet = asked.entry.rsplit(".", 1)[0]
            notes.append(
                f"several write-ups ({listed}) and none named {sheet}.md, {sheet}.tex or "
                f"{sheet}.txt, so which one holds the answers is not known: name it {sheet}.md "
                "(or .tex, .txt)"
            )
        return None, notes
    kinds = list(found)
    entries = found[kinds[0]]
    entry = entries[0]
    if len(entries) > 1:
        others = ", ".join(_relative(p, root) for p in entries[1:])
        named = " or ".join(sorted({p.name for p in entries}))
        notes.append(
            f"several files are named {named}; graded {_relative(entry, root)}, ignored {others}"
        )
    if len(kinds) > 1:
        passed_over = [_relative(p, root) for kind in kinds[1:] for p in found[kind]]
        first, *then = [names[0] for names in _entry_names(asked).values()]
        notes.append(
            f"graded {_relative(entry, root)}; also found {', '.join(passed_over)}, "
            f"which {'was' if len(passed_over) == 1 else 'were'} not graded: "
            f"{first} comes first, then {', then '.join(then)}"
        )
    return entry, notes


def _stand_in_note(name: str, entry: str) -> str:
    return (
        f"graded {printable(name)} as {entry}: no file is named {entry}, and it is the "
        f"only Python file or notebook handed in (name it {entry} to be sure)"
    )


def _read_bounded(path: Path, limit: int) -> bytes | None:
    """The file's bytes, or None if it holds more than `limit` (read no further than that,
    and without following a link)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        data = file.read(limit + 1)
    return None if len(data) > limit else data


def _read(entry: Path, form: SubmissionFormat) -> bytes:
    """The entry's bytes within its form's size limit; FormatError saying why not."""
    size = _size(entry)
    try:
        data = None if size > form.max_bytes else _read_bounded(entry, form.max_bytes)
    except OSError as error:
        raise FormatError(f"{entry.name} cannot be read ({error.strerror}).") from None
    if data is None:
        raise FormatError(form.too_large(entry.name, max(size, form.max_bytes + 1)))
    return data


def locate(
    path: Path, spec: SubmissionFiles, sheet: tuple[SheetPart, ...] = ()
) -> LocatedSubmission:
    """Find the entry file (by form, then the shallowest match) and the helper files beside
    it, converting a notebook, answers file or written sheet into module source; `sheet` holds
    the parts a written sheet may answer (see grader.submission.asked)."""
    asked = Asked(spec.entry, sheet)
    if not path.exists():
        raise SubmissionError(f"{path}: no such file or directory")
    # The path the user typed is trusted (it may be a link); links inside it are not followed.
    path = path.resolve()
    if not (path.is_dir() or path.is_file()):
        raise SubmissionError(f"{path}: a submission is a folder or a regular file")
    entry: Path | None
    if path.is_file():
        # A single file is the whole submission, whatever its name: the files beside it may
        # be a classmate's (a plain folder with one file per student), so none is staged.
        root, entry, candidates = path, path, [path]
        notes = (
            []
            if path.name == spec.entry or format_of(path) is not python_source.FORMAT
            else [_stand_in_note(path.name, spec.entry)]
        )
    else:
        root, candidates = path, _regular_files(path, max_bytes=None)
        entry, notes = _choose_entry(root, candidates, asked)
    if entry is None:
        # With no entry, a note is why none was chosen (several write-ups): the problem shown.
        return _unreadable(root, [], notes[-1]) if notes else _unreadable(root, notes, None)
    form = format_of(entry)
    try:
        data = _read(entry, form)
        with bounded_conversion(entry.name, (FormatError,)):
            converted = form.convert(data, entry.name, asked)
    except (FormatError, ConversionError) as error:
        return _unreadable(root, notes, str(error))
    notes[:0] = converted.notes[:1]
    notes += converted.notes[1:]
    staged_name = entry.name if converted.module_source is None else spec.entry
    files = [entry] + [
        candidate
        for candidate in candidates
        if candidate != entry
        and candidate.parent == entry.parent
        and candidate.name != staged_name
        and _size(candidate) <= MAX_FILE_BYTES
        and any(fnmatch.fnmatch(candidate.name, pattern) for pattern in spec.also)
    ]
    # The digest covers what is graded (the student's own files, not a module generated from
    # them), so the same work gets the same seed however it arrives.
    digest = manifest_digest(
        data_entry(file.name, data) if file == entry else file_entry(file.name, file)
        for file in files
    )
    return LocatedSubmission(
        root,
        entry,
        tuple(files),
        digest,
        tuple(notes),
        module_source=converted.module_source,
        staged_name=staged_name,
        readings=converted.readings,
        sheet=form.any_name,
    )


def _unreadable(root: Path, notes: list[str], problem: str | None) -> LocatedSubmission:
    """No entry to grade: none was found (problem None), or the one found cannot be read."""
    return LocatedSubmission(
        root, None, (), hashlib.sha256().hexdigest(), tuple(notes), problem=problem
    )


def printable(name: str) -> str:
    """A file name as text that is valid Unicode: names that are not UTF-8 arrive with lone
    surrogates, which strict JSON readers refuse, so each undecodable byte becomes U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def missing_entry_message(submission: LocatedSubmission, spec: SubmissionFiles) -> str:
    """Why nothing could be graded: the problem with the file found, or else a listing of what
    the student did upload."""
    if submission.problem is not None:
        problem = submission.problem.rstrip()
        return problem + ("" if problem.endswith((".", "?")) else ".")
    if submission.root.is_dir():
        uploaded = [_relative(p, submission.root) for p in _regular_files(submission.root)]
    else:
        uploaded = []
    listing = ", ".join(uploaded[:10]) + (" ..." if len(uploaded) > 10 else "")
    python_files = [name for name in uploaded if name.endswith((".py", ".ipynb"))]
    if len(python_files) > 1:
        listing += (
            f"; several Python files or notebooks and none named {spec.entry}, so which one to "
            "grade is not known"
        )
    notebook_name = notebook.FORMAT.file_names(spec.entry)[0]
    if any(name.lower().endswith(".pdf") for name in uploaded):
        listing += (
            "; a PDF cannot be graded: the grader reads sources (a .py file, a notebook, or a "
            "write-up's .md, .tex or .txt source where the assignment takes written answers), "
            "it does not read PDFs or images"
        )
    return (
        f"{spec.entry} was not found in the submission"
        + (f" (it contains: {listing})" if uploaded else " (it is empty)")
        + f". Upload your work as {spec.entry} (or as a notebook, {notebook_name})."
    )


def stage(submission: LocatedSubmission, workdir: Path) -> str:
    """Copy the entry and helper files into workdir (flat), or write the module generated from
    a notebook or answers file in the entry's place; return the entry's name there."""
    assert submission.entry is not None
    converted = submission.module_source is not None
    for file in submission.files:
        if file != submission.root and submission.root not in file.parents:
            raise SubmissionError(f"{file} is not part of the submission {submission.root}")
        if not (converted and file == submission.entry):
            shutil.copyfile(file, workdir / file.name, follow_symlinks=False)
    name = submission.staged_name or submission.entry.name
    if submission.module_source is not None:
        (workdir / name).write_text(submission.module_source, encoding="utf-8")
    return name
