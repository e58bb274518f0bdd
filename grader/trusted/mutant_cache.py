"""Lurking mutants remembered across processes, in the user's cache folder.

Finding a part's lurking mutants means making every mutant of its reference and running each on
probe cases: 0.7 s for HW2, paid by `grader grade`, `grader check` and every batch worker,
always with the same outcome for the same reference, rubric part and grader. So the outcome is
stored under a key that digests all it depends on (every Python file under the reference
module's folder, which it may import or load, and the versions of the libraries they import;
the part's check and function spec; Python, numpy and torch; the source of the grader's code
that mutates, draws and compares), as data only: which mutants lurk, by their numbers, never
code or pickles. What is read back is checked field by field, and every mutant it names is
rebuilt from the reference and must show the change it was stored with; anything else (a
corrupt, truncated, foreign or stale file) is a miss, and the mutants are found again. A cache
folder that cannot be written is simply not used. Every outcome is stored: a mutant left out
for being slow was stopped by a count of lines (trusted.line_budget), the same on any machine.

The folder is $GRADER_CACHE_DIR if set (empty: no cache), else $XDG_CACHE_HOME/grader/, else
~/.cache/grader/; entries go in its `lurking/` folder, one JSON file per key.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
import sys
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from grader.atomic import write_bytes

CACHE_ENV = "GRADER_CACHE_DIR"
FORMAT = 1
"""Changed whenever what an entry holds changes: an entry of another format is a miss."""
MAX_ENTRY_BYTES = 1 << 20
"""Far above any real entry (a few hundred bytes per lurking mutant): a larger file is foreign."""

_GRADER = Path(__file__).resolve().parents[1]
_CODE = (
    "trusted/mutation.py",
    "trusted/line_budget.py",
    "trusted/cases.py",
    "trusted/mutant_cache.py",
    *sorted(f"checks/{path.name}" for path in (_GRADER / "checks").glob("*.py")),
)
"""The grader's own code whose change may change which mutants lurk: making them, drawing the
probe cases, comparing answers."""


@dataclass(frozen=True)
class StoredMutant:
    """One lurking mutant as stored: the function mutated (the reference or a helper), the
    mutant's number there (node, replacement) and the change it makes, to check on rebuild."""

    where: str
    node: int
    choice: int
    change: str


def cache_folder() -> Path | None:
    """Where entries go; None when the cache is turned off."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        return Path(chosen) / "lurking" if chosen else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "grader" / "lurking"


@cache
def _environment() -> str:
    """The versions and code a screening's outcome depends on, besides the part itself."""
    try:
        torch = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch = "not installed"
    code = hashlib.sha256()
    for name in _CODE:
        code.update(name.encode() + b"\0" + (_GRADER / name).read_bytes() + b"\0")
    return json.dumps(
        {
            "python": sys.version,
            "machine": platform.machine(),
            "numpy": np.__version__,
            "torch": torch,
            "code": code.hexdigest(),
        },
        sort_keys=True,
    )


MAX_COURSE_FILES = 200
"""Python files under the reference's folder that a key may digest; a folder with more (a
reference kept at the top of a large tree) is not cached rather than read at every start."""


def _course_files(folder: Path) -> list[Path] | None:
    """Every Python file under the reference module's folder (hidden folders and caches left
    out): the reference may import or load any of them (a harness, a helper module), and a
    change in one changes which mutants lurk. None when there are too many to digest."""
    found = []
    for path in folder.rglob("*.py"):
        relative = path.relative_to(folder).parts
        if any(part.startswith(".") or part == "__pycache__" for part in relative):
            continue
        found.append(path)
        if len(found) > MAX_COURSE_FILES:
            return None
    return sorted(found)


IMPORT = re.compile(rb"^[ \t]*import[ \t]+([^\n#;]+)", re.MULTILINE)
FROM_IMPORT = re.compile(rb"^[ \t]*from[ \t]+([A-Za-z_][\w.]*)[ \t]+import\b", re.MULTILINE)


def _imported_versions(files: list[Path]) -> dict[str, str]:
    """The installed version of each top-level module the course files import (a third-party
    library's new version may answer differently), read from their import lines as text (a
    regular expression: parsing every course file would cost each command 60 ms)."""
    names: set[str] = set()
    for path in files:
        text = path.read_bytes()
        items = [item.split() for line in IMPORT.findall(text) for item in line.split(b",")]
        modules = [words[0] for words in items if words]
        modules += FROM_IMPORT.findall(text)
        names.update(m.split(b".")[0].decode("ascii", "replace") for m in modules if m)
    versions = {}
    for name in sorted(names - set(sys.stdlib_module_names)):
        try:
            versions[name] = metadata.version(name)
        except (metadata.PackageNotFoundError, ValueError):
            # a distribution named otherwise (yaml is PyYAML's): the module's own version, if
            # loaded; a key that differs between processes is only a miss, never a wrong entry
            loaded = getattr(sys.modules.get(name), "__version__", None)
            versions[name] = loaded if isinstance(loaded, str) else "unknown"
    return versions


@cache
def _course_digest(folder: Path) -> str | None:
    """The digest of the course's own code under `folder` and of the library versions it
    imports, once per process (a rubric's parts share it); None when it is too large."""
    files = _course_files(folder)
    if files is None:
        return None
    digest = hashlib.sha256()
    digest.update(json.dumps(_imported_versions(files), sort_keys=True).encode() + b"\0")
    for path in files:
        relative = str(path.relative_to(folder))
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def entry_key(reference_path: Path, part_spec: str) -> str | None:
    """The digest naming a part's entry: `part_spec` is the part's check and function spec
    (JSON); the course's own code is every Python file under the reference module's folder,
    read whole, with the versions of the libraries they import. None when the folder holds
    too many files to digest (nothing is cached for it)."""
    course = _course_digest(reference_path.parent)
    if course is None:
        return None
    digest = hashlib.sha256()
    for piece in (
        str(FORMAT).encode(),
        _environment().encode(),
        part_spec.encode(),
        course.encode(),
    ):
        digest.update(piece + b"\0")
    digest.update(reference_path.read_bytes())
    return digest.hexdigest()


def read_entry(key: str) -> list[StoredMutant] | None:
    """The mutants stored under `key`; None when there is no entry or it is not one this code
    wrote for this key."""
    folder = cache_folder()
    if folder is None:
        return None
    try:
        with open(folder / f"{key}.json", "rb") as handle:
            data = handle.read(MAX_ENTRY_BYTES + 1)
        if len(data) > MAX_ENTRY_BYTES:
            return None
        stored = json.loads(data)
    except (OSError, ValueError, RecursionError):
        return None
    return _parsed(stored, key)


def _parsed(stored: Any, key: str) -> list[StoredMutant] | None:
    if not (
        isinstance(stored, dict)
        and stored.get("format") == FORMAT
        and stored.get("key") == key
        and isinstance(stored.get("lurking"), list)
    ):
        return None
    mutants = []
    for item in stored["lurking"]:
        if not isinstance(item, dict) or set(item) != {"where", "node", "choice", "change"}:
            return None
        where, node, choice, change = item["where"], item["node"], item["choice"], item["change"]
        if not (isinstance(where, str) and isinstance(change, str)):
            return None
        if not all(type(number) is int for number in (node, choice)):
            return None
        mutants.append(StoredMutant(where, node, choice, change))
    return mutants


def write_entry(key: str, mutants: list[StoredMutant]) -> None:
    """Store the mutants under `key`, atomically; a folder that cannot be written is skipped
    (the next process finds the mutants again)."""
    folder = cache_folder()
    if folder is None:
        return
    entry = {
        "format": FORMAT,
        "key": key,
        "lurking": [
            {"where": m.where, "node": m.node, "choice": m.choice, "change": m.change}
            for m in mutants
        ],
    }
    with contextlib.suppress(OSError):
        write_bytes(folder / f"{key}.json", (json.dumps(entry, indent=1) + "\n").encode())
