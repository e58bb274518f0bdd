"""Making text that students chose safe for the two readers that interpret it: terminals and
spreadsheets.

Names, e-mails, file names, exception messages and printed output are all written by students.
On a terminal an escape sequence in them can clear the screen, move the cursor to draw a fake
"Total: 7 / 7", hide lines or write the clipboard (OSC 52); in a spreadsheet a cell starting
with "=" is a formula (OWASP's CSV injection). Every writer goes through this module:
`SafeConsole` for rich output, `echo` for plain lines, `spreadsheet_cell` for CSV cells.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import click
from rich.console import Console
from rich.segment import Segment

_ESCAPE_SEQUENCE = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]                       # CSI: cursor moves, erase, colours
    | \x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?  # OSC, DCS, SOS, PM, APC strings
    | \x1b[ -/]*[0-~]                               # two-byte and nF escapes
    | \x9b[0-?]*[ -/]*[@-~]                         # 8-bit CSI
    | [\x90\x9d\x98\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?  # 8-bit string controls
    """,
    re.VERBOSE,
)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 controls but newline and tab (a lone carriage return rewrites its line), and the
bidirectional overrides that make text display in another order than it reads."""

FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
"""Cell starts a spreadsheet evaluates (OWASP), with the full-width forms some accept."""


def terminal_safe(text: str) -> str:
    """`text` with every escape sequence and control character removed, newlines and tabs
    kept."""
    if text.isprintable():  # the common case, checked in C
        return text
    text = text.replace("\r\n", "\n")
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))


class SafeConsole(Console):
    """A rich console that cleans every piece of text it renders, whatever it came in (a
    string, a table cell, a progress line). Styles are rendered after the cleaning, from
    rich's own data, and rich's control segments (a live display's cursor moves) are kept."""

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(
            segment
            if segment.control or segment.text.isprintable()
            else Segment(terminal_safe(segment.text), segment.style, segment.control)
            for segment in buffer
        )


def echo(message: str, *, err: bool = False) -> None:
    """click.echo of a line that may hold text a student chose."""
    click.echo(terminal_safe(message), err=err)


def spreadsheet_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading quote stops it from reading a formula
    (also after leading spaces, which some spreadsheets skip)."""
    stripped = value.lstrip(" ")
    if stripped[:1] in FORMULA_STARTS or value[:1] in FORMULA_STARTS:
        return "'" + value
    return value
