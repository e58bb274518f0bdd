"""Python source: the rubric's entry as it is, staged unchanged.

Nothing is converted; what the grader can do before the import is tell the student in plain
words why Python would refuse to read the file.
"""

from __future__ import annotations

import io
import tokenize

from grader.submission.formats.base import MAX_FILE_BYTES, Asked, Converted, SubmissionFormat


def encoding_note(data: bytes, name: str) -> str | None:
    """Why Python will refuse to read the source (it says "(unicode error) 'utf-8' codec
    can't decode byte 0xe9 in position 3"), in words a student can act on; None if it is fine."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        return (
            f"{name} is not valid {error.encoding.upper()} text: line {line}, column "
            f"{column} has the byte 0x{data[error.start]:02x}. Save it as UTF-8 (or declare "
            "its encoding in a first-line comment such as # -*- coding: latin-1 -*-)."
        )
    except (SyntaxError, LookupError):
        return None  # a bad coding line: Python's own message at import says so
    return None


def too_large_message(name: str, size: int) -> str:
    return (
        f"{name} is {size / (1 << 20):.1f} MB, more than the "
        f"{MAX_FILE_BYTES >> 20} MB a submission file may have."
    )


def convert_source(data: bytes, name: str, asked: Asked) -> Converted:
    note = encoding_note(data, name)
    return Converted(None, (note,) if note else ())


FORMAT = SubmissionFormat(
    name="python",
    suffixes=(".py",),
    max_bytes=MAX_FILE_BYTES,
    too_large=too_large_message,
    convert=convert_source,
)
