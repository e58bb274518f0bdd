"""Finding a student's files, however they were uploaded, and staging them for the sandbox.

Gradescope keeps the folders students upload, so the entry file may sit a few levels down, next
to junk such as __MACOSX or .DS_Store. Only regular files are staged: symbolic links are never
followed, so a link to /etc/shadow or to the reference stays behind.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from grader.errors import SubmissionError
from grader.rubric import SubmissionFiles

JUNK_PARTS = {"__MACOSX", "__pycache__", ".git", ".ipynb_checkpoints"}
MAX_FILE_BYTES = 50 << 20


@dataclass(frozen=True)
class LocatedSubmission:
    """Where the entry file was found, which files go with it, and their content hash."""

    root: Path
    entry: Path | None
    files: tuple[Path, ...]
    content_sha256: str
    notes: tuple[str, ...]


def _regular_files(root: Path, *, recursive: bool = True) -> list[Path]:
    """Every regular file below root, sorted, skipping junk and never following links."""
    found: list[Path] = []
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in JUNK_PARTS and not d.startswith(".")
                             and recursive)
        for filename in sorted(filenames):
            if filename.startswith("."):
                continue
            path = Path(directory) / filename
            try:
                info = path.lstat()
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_FILE_BYTES:
                found.append(path)
    return found


def locate(path: Path, spec: SubmissionFiles) -> LocatedSubmission:
    """Find the entry file (the shallowest match) and the helper files beside it."""
    if not path.exists():
        raise SubmissionError(f"{path}: no such file or directory")
    # The path the user typed is trusted (it may be a link); links inside it are not followed.
    path = path.resolve()
    if not (path.is_dir() or path.is_file()):
        raise SubmissionError(f"{path}: a submission is a folder or a regular file")
    if path.is_file():  # a single file is the entry, whatever its name; helpers sit beside it
        root, entries = path.parent, [path]
        candidates = [p for p in _regular_files(root, recursive=False) if p != path] + [path]
        notes = [] if path.name == spec.entry else [f"graded {path.name} as {spec.entry}"]
    else:
        root, candidates, notes = path, _regular_files(path), []
        entries = sorted((p for p in candidates if p.name == spec.entry),
                         key=lambda p: (len(p.relative_to(root).parts), str(p)))
    entry = entries[0] if entries else None
    if len(entries) > 1:
        others = ", ".join(str(p.relative_to(root)) for p in entries[1:])
        notes.append(f"several files are named {spec.entry}; graded "
                     f"{entry.relative_to(root)}, ignored {others}")
    files: list[Path] = []
    if entry is not None:
        files.append(entry)
        files += [candidate for candidate in candidates
                  if candidate != entry and candidate.parent == entry.parent
                  and any(fnmatch.fnmatch(candidate.name, pattern) for pattern in spec.also)]
    # The hash covers what is graded, so the same code gets the same seed however it arrives.
    digest = hashlib.sha256()
    for file in sorted(files, key=lambda f: f.name):
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return LocatedSubmission(root, entry, tuple(files), digest.hexdigest(), tuple(notes))


def missing_entry_message(submission: LocatedSubmission, spec: SubmissionFiles) -> str:
    """Why nothing could be graded, listing what the student did upload."""
    if submission.root.is_dir():
        uploaded = [str(p.relative_to(submission.root)) for p in _regular_files(submission.root)]
    else:
        uploaded = []
    listing = ", ".join(uploaded[:10]) + (" ..." if len(uploaded) > 10 else "")
    return (f"{spec.entry} was not found in the submission"
            + (f" (it contains: {listing})" if uploaded else " (it is empty)")
            + f". Upload your work as {spec.entry}.")


def stage(submission: LocatedSubmission, workdir: Path) -> str:
    """Copy the entry and helper files into workdir (flat); return the entry's name there."""
    assert submission.entry is not None
    for file in submission.files:
        shutil.copyfile(file, workdir / file.name, follow_symlinks=False)
    return submission.entry.name
