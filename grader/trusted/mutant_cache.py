"""Lurking mutants remembered across processes, in the user's cache folder.

Finding a part's lurking mutants means making every mutant of its reference and running each on
probe cases: 0.7 s for HW2, paid by `grader grade`, `grader check` and every batch worker,
always with the same outcome for the same reference, rubric part and grader. So the outcome is
stored under a key that digests all it depends on (the reference module's file, the part's check
and function spec, the library versions, and the source of the code that mutates, draws and
compares), as data only: which mutants lurk, by their numbers, never code or pickles. What is
read back is checked field by field, and every mutant it names is rebuilt from the reference and
must show the change it was stored with; anything else (a corrupt, truncated, foreign or stale
file) is a miss, and the mutants are found again. A cache folder that cannot be written is
simply not used.

The folder is $GRADER_CACHE_DIR if set (empty: no cache), else $XDG_CACHE_HOME/grader/, else
~/.cache/grader/; entries go in its `lurking/` folder, one JSON file per key.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
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


def entry_key(reference_path: Path, part_spec: str) -> str:
    """The digest naming a part's entry: `part_spec` is the part's check and function spec
    (JSON), `reference_path` the reference module, read whole (the reference function, its
    helpers and its generator all live there)."""
    digest = hashlib.sha256()
    for piece in (str(FORMAT).encode(), _environment().encode(), part_spec.encode()):
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
