"""Content digests that decide whether a submission changed since it was last graded.

A digest is the SHA-256 of a manifest listing each file's name, size and own SHA-256, one JSON
line per file in name order. Concatenating names and bytes instead is ambiguous: `hw2.py` plus
`zz.txt` can be written as one `hw2.py` holding both, and a rerun would keep the old grade.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

BLOCK = 1 << 20


def file_entry(name: str, path: Path) -> tuple[str, int, str]:
    """(name, size, sha256) of a file, read in blocks so that memory stays flat."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while block := handle.read(BLOCK):
            digest.update(block)
            size += len(block)
    return name, size, digest.hexdigest()


def data_entry(name: str, data: bytes) -> tuple[str, int, str]:
    return name, len(data), hashlib.sha256(data).hexdigest()


def manifest_digest(entries: Iterable[tuple[str, int, str]]) -> str:
    """The digest of the manifest of `entries`; names may hold lone surrogates (file names
    that are not UTF-8), which JSON escapes without merging two names into one."""
    manifest = "".join(json.dumps(list(entry)) + "\n" for entry in sorted(entries))
    return hashlib.sha256(manifest.encode("ascii")).hexdigest()
