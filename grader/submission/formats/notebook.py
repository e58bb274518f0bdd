"""Turning a Jupyter notebook into the module the sandbox imports, without running any of it.

Students in notebook courses hand in `hw2.ipynb` rather than `hw2.py`. Its code cells, top to
bottom, are what "Run All" would execute, so they become the module. Two things stand between
a notebook and a module:

* IPython syntax (`%matplotlib inline`, `!pip install ...`, `%%timeit` cells, `x = !ls`,
  `obj?`) is not Python. Such lines are replaced by `pass` (so a block whose body was a magic
  stays valid) and reported with their cell and line, rather than failing the whole import.
  A line only counts as IPython syntax where a Python statement could start: a `%` that
  continues a bracketed expression or sits inside a triple-quoted string is left alone.
* A traceback should point into the student's cell, not into a generated file. The generated
  module therefore compiles each cell under the name "hw2.ipynb, cell N" (registered with
  linecache, as IPython does), so a cell that raises at import shows its cell number, its own
  line number and the failing line.

Everything here is text processing on data the grader reads; the module source is only ever
imported in the sandboxed child. The notebook is parsed with `json` plus the structural checks
the conversion needs, not validated against the full nbformat schema: Jupyter itself opens (with
a logged warning) notebooks that VS Code, PyCharm or nbconvert saved with extra fields, and
refusing those would cost students their grade for their editor's quirks.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, replace

from grader.submission.formats import written_sheet
from grader.submission.formats.base import Asked, Converted, FormatError, SubmissionFormat

MAX_NOTEBOOK_BYTES = 20 << 20
"""Largest notebook accepted: real homework notebooks with plots are a few MB."""

MAX_JSON_CONTAINERS = 1_000_000
"""Most `{` and `[` a notebook may contain. json.loads turns a crafted 20 MB file of empty
objects into about 7 million dicts (close to 0.5 GB in the trusted grader process); a count of
the bytes, taken before parsing, bounds that at about 70 MB. Real notebooks hold thousands."""

MAX_LISTED = 20
"""Skipped lines named one by one in the note; the rest are counted."""

NOTEBOOK_FORMAT = 4


class NotebookError(FormatError):
    """The notebook cannot be converted; the message names the file and says what is wrong."""


@dataclass(frozen=True)
class SkippedLine:
    """One piece of IPython syntax left out of the module, for the student's note."""

    cell: int
    line: int | None  # None: the whole cell (a cell magic such as %%timeit)
    text: str

    def describe(self) -> str:
        where = f"cell {self.cell}" + (f", line {self.line}" if self.line is not None else "")
        shown = self.text if len(self.text) <= 70 else self.text[:67] + "..."
        what = f"the whole {shown.split()[0]} cell" if self.line is None else shown
        return f"{where}: {what}"


@dataclass(frozen=True)
class CodeCell:
    """A code cell ready to run: its number (1-based, counting every cell) and Python source."""

    number: int
    source: str


@dataclass(frozen=True)
class ConvertedNotebook:
    """The result of converting a notebook: its code cells and what was left out."""

    name: str
    cells: tuple[CodeCell, ...]
    skipped: tuple[SkippedLine, ...]

    def module_source(self) -> str:
        return module_source(self.name, self.cells)

    def notes(self) -> list[str]:
        """What the student should know about the conversion (empty if nothing was skipped)."""
        if not self.skipped:
            return []
        count = len(self.skipped)
        lines = [
            f"{self.name}: skipped {count} IPython command{'s' if count != 1 else ''} "
            "(magics, shell commands, help), which are not Python; the rest of the "
            "notebook ran (cells are numbered from 1 at the top, markdown cells "
            "included):"
        ]
        lines += [f"  {item.describe()}" for item in self.skipped[:MAX_LISTED]]
        if count > MAX_LISTED:
            lines.append(f"  ... and {count - MAX_LISTED} more")
        return ["\n".join(lines)]


def convert_notebook(data: bytes, name: str) -> ConvertedNotebook:
    """Parse the notebook's bytes and turn its code cells into runnable Python source."""
    cells: list[CodeCell] = []
    skipped: list[SkippedLine] = []
    for number, source in code_cells(data, name):
        python, left_out = strip_ipython(source, number)
        skipped += left_out
        if python.strip():
            cells.append(CodeCell(number, python))
    return ConvertedNotebook(name, tuple(cells), tuple(skipped))


# --- reading ---------------------------------------------------------------------------------


def _position(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


def code_cells(data: bytes, name: str) -> list[tuple[int, str]]:
    """(cell number, source) of every code cell, in order; NotebookError if `data` is not a
    notebook. Markdown, raw and unknown cells are skipped but still counted in the numbering,
    so that "cell 5" is the fifth cell the student sees."""
    return cells_of_type(data, name, "code")


def cells_of_type(data: bytes, name: str, cell_type: str) -> list[tuple[int, str]]:
    """(cell number, source) of every cell of `cell_type` (code, markdown), in order."""
    invalid = f"{name} is not a valid notebook"
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(too_large_message(name, len(data)))
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotebookError(
            f"{invalid}: it is not UTF-8 text ({_position(data, error.start)} has the byte "
            f"0x{data[error.start]:02x}). Save it again from Jupyter, which writes UTF-8."
        ) from None
    containers = data.count(b"{") + data.count(b"[")
    if containers > MAX_JSON_CONTAINERS:
        raise NotebookError(
            f"{invalid}: it holds {containers:,} JSON objects and lists, more than the "
            f"{MAX_JSON_CONTAINERS:,} the grader reads. Clear its outputs (Edit > Clear "
            "Outputs of All Cells) and save it again."
        )
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotebookError(
            f"{invalid}: line {error.lineno}, column {error.colno}: "
            f"{error.msg}. Is it the .ipynb file Jupyter saved?"
        ) from None
    except RecursionError:
        raise NotebookError(f"{invalid}: its JSON is nested too deeply") from None
    except ValueError as error:  # e.g. an integer longer than Python's digit limit
        raise NotebookError(f"{invalid}: {error}") from None
    return _cells_of(notebook, invalid, cell_type)


def _cells_of(notebook: object, invalid: str, cell_type: str) -> list[tuple[int, str]]:
    """The structural checks: what the conversion relies on, and nothing more."""
    if not isinstance(notebook, dict):
        kinds: dict[type, str] = {list: "a list", str: "a string"}
        kind = kinds.get(type(notebook), "a single value")
        raise NotebookError(
            f"{invalid}: it is JSON, but {kind}, not a notebook (a JSON object "
            'with "nbformat" and "cells")'
        )
    version = notebook.get("nbformat")
    if version is None:
        raise NotebookError(
            f'{invalid}: it is JSON, but has no "nbformat" version, so it is not a Jupyter notebook'
        )
    if isinstance(version, bool) or not isinstance(version, int):
        raise NotebookError(f'{invalid}: its "nbformat" version is {version!r}, not a number')
    if version != NOTEBOOK_FORMAT:
        raise NotebookError(
            f"{invalid}: it is in notebook format {version}, and the grader reads format "
            f"{NOTEBOOK_FORMAT} (Jupyter's format since 2015). Open it in a current Jupyter "
            "and save it again."
        )
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise NotebookError(f'{invalid}: it has no list of "cells"')
    found: list[tuple[int, str]] = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise NotebookError(f'{invalid}: cell {number} is not a cell (it has no "cell_type")')
        if cell["cell_type"] != cell_type:
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f'{invalid}: the "source" of cell {number} is not text')
        found.append((number, source))
    return found


def too_large_message(name: str, size: int) -> str:
    return (
        f"{name} is {size / (1 << 20):.1f} MB, more than the "
        f"{MAX_NOTEBOOK_BYTES >> 20} MB a notebook may have. Clear its outputs (Edit > "
        "Clear Outputs of All Cells), save it and upload it again."
    )


# --- IPython syntax --------------------------------------------------------------------------

_ASSIGNED_MAGIC = re.compile(r"[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[%!]")
_HELP = re.compile(r"(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*(#.*)?")
_BRACKETS = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}
_SPECIAL = re.compile(r"[#'\"()\[\]{}\\]")
_IN_STRING = {
    quote: re.compile(r"\\.?|" + re.escape(quote), re.DOTALL) for quote in ("'", '"', "'''", '"""')
}
_MAYBE_IPYTHON = re.compile(r"^[ \t]*[%!?]|\?[ \t]*(#.*)?$|=[ \t]*[%!]", re.MULTILINE)
"""Cheap test: a cell without any of these cannot hold IPython syntax, and is not scanned."""


@dataclass
class _Scanner:
    """Just enough of Python's tokenizer to know whether a line starts a new statement: open
    brackets, strings spanning lines, and backslash continuations."""

    depth: int = 0
    quote: str | None = None  # the delimiter of a string still open at the end of a line
    continued: bool = False

    @property
    def at_statement_start(self) -> bool:
        return self.depth == 0 and self.quote is None and not self.continued

    def feed(self, line: str) -> None:
        i, n = 0, len(line)
        self.continued = False
        while i < n:
            if self.quote is not None:
                match = _IN_STRING[self.quote].search(line, i)
                if match is None:
                    i = n
                    break
                i = match.end()
                if match.group() == "\\":
                    i = n + 1  # a backslash ending the line: the string goes on
                elif match.group() == self.quote:
                    self.quote = None
                continue
            match = _SPECIAL.search(line, i)
            if match is None:
                break
            char, i = match.group(), match.start()
            if char == "#":
                return
            if char == "\\":
                self.continued = i == n - 1
                i += 1
            elif char in "'\"":
                self.quote = char * 3 if line.startswith(char * 3, i) else char
                i += len(self.quote)
            else:
                self.depth = max(0, self.depth + _BRACKETS[char])
                i += 1
        if self.quote is not None and len(self.quote) == 1 and i <= n:
            self.quote = None  # an unterminated one-line string: Python will say so


def _is_ipython(stripped: str) -> bool:
    """Whether a line that starts a statement is IPython syntax rather than Python."""
    return (
        stripped.startswith(("%", "!"))
        or _ASSIGNED_MAGIC.match(stripped) is not None
        or _HELP.fullmatch(stripped) is not None
    )


def _leading_indent(lines: list[str]) -> list[str]:
    """IPython runs a cell whose first line is indented as if it were not; do the same."""
    first = next((line for line in lines if line.strip()), "")
    indent = first[: len(first) - len(first.lstrip())]
    if not indent:
        return lines
    return [line[len(indent) :] if line.startswith(indent) else line for line in lines]


def strip_ipython(source: str, cell: int) -> tuple[str, list[SkippedLine]]:
    """The cell's source with IPython-only lines replaced by `pass` (same indentation, so the
    line numbers and the blocks around them stay as the student wrote them), and those lines.
    A cell magic (`%%timeit` on the first line) leaves the whole cell out: its body may not be
    Python at all (%%bash, %%writefile)."""
    lines = _leading_indent(source.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    first = next((line for line in lines if line.strip()), "")
    if first.startswith("%%"):
        return "", [SkippedLine(cell, None, first.strip())]
    if _MAYBE_IPYTHON.search(source) is None:
        return "\n".join(lines), []
    scanner = _Scanner()
    skipped: list[SkippedLine] = []
    output: list[str] = []
    skipping_continuation = False
    for number, line in enumerate(lines, start=1):
        if skipping_continuation:
            output.append("")
            skipping_continuation = line.endswith("\\")
            continue
        stripped = line.lstrip()
        if scanner.at_statement_start and _is_ipython(stripped):
            skipped.append(SkippedLine(cell, number, stripped.rstrip("\\").strip()))
            output.append(line[: len(line) - len(stripped)] + "pass")
            skipping_continuation = line.endswith("\\")
            continue
        scanner.feed(line)
        output.append(line)
    return "\n".join(output), skipped


# --- the generated module --------------------------------------------------------------------

_TEMPLATE = '''\
"""{title}, converted by the grader: its code cells run here, top to bottom, like "Run All".

Each cell is compiled under the name "{title}, cell N" (and registered with linecache, as
IPython does), so a traceback names the cell and shows its line. Each cell runs in its own
try: a cell that raises is recorded (its number, the error and the student's own frames, in
__grader_cell_errors__, which the sandbox reports once) and the next cell still runs, so a
stale scratch cell costs only what depends on it. IPython-only lines were replaced by `pass`;
the grader's notes list them. The runner keeps its own references to the built-ins it uses, so
a cell that defines `compile`, `str` or `len` cannot break the next one.
"""

import __future__ as _grader_future
import linecache as _grader_linecache
import os as _grader_os
import traceback as _grader_traceback


def display(*objects, **options):
    """Jupyter's built-in display(): shows nothing when graded."""


def _grader_run_cells(cells, namespace, *, run=exec, compile=compile, str=str, len=len,
                      type=type, isinstance=isinstance, BaseException=BaseException,
                      SyntaxError=SyntaxError, future=_grader_future,
                      linecache=_grader_linecache, path=_grader_os.path,
                      traceback=_grader_traceback):
    folder = path.dirname(path.abspath(namespace["__file__"]))
    prefix = folder + path.sep
    cell_files = prefix + {name!r} + ", cell "
    future_flags = 0
    for feature in future.all_feature_names:
        future_flags |= getattr(future, feature).compiler_flag
    flags = 0
    failed = []
    for number, source in cells:
        filename = cell_files + str(number)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        try:
            code = compile(source, filename, "exec", flags, True)
            flags |= code.co_flags & future_flags  # as in IPython, a __future__ import persists
            run(code, namespace)  # runs the code cells of {title} one by one
        except BaseException as error:  # as in Jupyter, even SystemExit ends only its cell
            frames = [frame for frame in traceback.extract_tb(error.__traceback__)
                      if frame.filename.startswith(cell_files)]
            shown = "".join(traceback.format_list(frames[-8:]))
            if isinstance(error, SyntaxError):
                shown += "".join(traceback.format_exception_only(type(error), error)[:-1])
            message = str(error)[:500]
            failed.append("cell " + str(number) + " raised " + type(error).__name__
                          + (": " + message if message else "") + "\\n"
                          + shown.replace(prefix, ""))
    return failed


_GRADER_CODE_CELLS = (  # (cell number, source)
{cells})
__grader_cell_errors__ = _grader_run_cells(_GRADER_CODE_CELLS, globals())  # {title}, in order
del _grader_future, _grader_linecache, _grader_os, _grader_traceback
del _grader_run_cells, _GRADER_CODE_CELLS
'''


def module_source(name: str, cells: tuple[CodeCell, ...]) -> str:
    """Python source that runs `cells` in its own namespace. The name and the cell sources are
    embedded with repr(), which always yields a literal, so nothing in a cell can change the
    generated code around it."""
    listed = "".join(f"    ({cell.number}, {cell.source!r}),\n" for cell in cells)
    title = "".join(char if char.isprintable() and char not in '"\\' else "?" for char in name)
    return _TEMPLATE.format(title=title, name=name, cells=listed)


def convert(data: bytes, name: str, asked: Asked) -> Converted:
    converted = convert_notebook(data, name)
    source = converted.module_source()
    if asked.sheet:
        answers = markdown_answers(data, name, asked, converted.cells)
        if answers.readings:
            graded = (
                f"{name} was graded as {asked.entry}: its code cells ran top to bottom like "
                "Run All, and the answers written in its markdown cells were read "
                f"({answers.summary(name, asked.entry).partition(': ')[2]})."
            )
            source += "\n# Answers read from the markdown cells (data only)\n"
            source += "\n".join(answers.lines) + "\n"
            return Converted(source, (graded, *converted.notes(), *answers.notes), answers.readings)
    graded = (
        f"{name} was graded as {asked.entry}: its code cells ({len(converted.cells)} with code) "
        "ran top to bottom like Run All (a cell that raises is reported and the next one still "
        "runs); markdown and raw cells are ignored."
    )
    return Converted(source, (graded, *converted.notes()))


def markdown_answers(
    data: bytes, name: str, asked: Asked, cells: tuple[CodeCell, ...]
) -> written_sheet.SheetRead:
    """The answers typed in the markdown cells, read as a written sheet, for the parts no
    code cell defines (code wins: it is what the student ran). Each reading's excerpt says
    which cell it came from, and its line is the line within that cell."""
    sources = cells_of_type(data, name, "markdown")
    where: list[tuple[int, int]] = []
    text = []
    for number, source in sources:
        lines = [*source.splitlines(), ""]
        where += [(number, index) for index in range(1, len(lines) + 1)]
        text += lines
    defined = frozenset(n for cell in cells for n in _top_level_names(cell.source))
    read = written_sheet.read_sheet("\n".join(text), asked, skip=defined)
    readings = {}
    for target, reading in read.readings.items():
        cell, line = where[min(max(reading.line, 1), len(where)) - 1] if where else (0, 0)
        readings[target] = replace(reading, line=line, excerpt=f"(cell {cell}) {reading.excerpt}")
    return written_sheet.SheetRead(read.lines, readings, read.unanswered, read.notes)


def _top_level_names(source: str) -> set[str]:
    """Names a cell binds at its top level (read, never run); none if it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


FORMAT = SubmissionFormat(
    name="notebook",
    suffixes=(".ipynb",),
    max_bytes=MAX_NOTEBOOK_BYTES,
    too_large=too_large_message,
    convert=convert,
)
