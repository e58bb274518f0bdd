"""One reader per kind of written answer, registered in `READERS`.

A reader gets the text a part's section and cues chose and returns what it read: the value
the check will judge, the answer as shown back to the student, and a doubt when the reading is
not sure (two different candidate answers, an OCR garble such as "O(+)", a matrix cell that is
not a number). A doubt sends the part to a TA; a reader never guesses. None means the text
holds no answer of that kind at all. Formulas are read by grader.written.formulas.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from grader.written.declare import (
    BigOSheet,
    ChoiceSheet,
    MatrixSheet,
    NumberSheet,
    PicksSheet,
    ShapeSheet,
    ShapesSheet,
    TableSheet,
    TextSheet,
    Written,
)
from grader.written.evaluate import EvaluationError, evaluate
from grader.written.formulas import find_formula
from grader.written.latex_math import FormulaError
from grader.written.text import Region, numbers, paragraphs, result_numbers

MAX_CELLS = 10_000
"""Largest matrix read from a sheet: answers are a few dozen cells; more is not a hand-written
answer, and its text would cost the grader time to read."""
MAX_TEXT = 2000
"""Longest short-text answer passed to a keywords check."""


@dataclass(frozen=True)
class Answer:
    """What a reader read: the value to judge, how it is shown, and why it is not sure."""

    value: Any
    shown: str
    doubt: str = ""


Reader = Callable[[Any, Region, tuple[str, ...]], Answer | None]


def _distinct(values: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def _one_of(candidates: list[tuple[Any, str]], what: str) -> Answer | None:
    """The answer when the candidates agree; a doubt naming them when they do not."""
    if not candidates:
        return None
    values = _distinct([value for value, _ in candidates])
    if len(values) == 1:
        return Answer(candidates[0][0], candidates[0][1])
    shown = " and ".join(_distinct([text for _, text in candidates])[:4])
    return Answer(None, shown, f"two or more candidate {what}s ({shown})")


def _shown_number(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def read_number(spec: NumberSheet, region: Region, options: tuple[str, ...]) -> Answer | None:
    ends = result_numbers(region.text, spaced=True) or numbers(region.text, spaced=True)
    return _one_of([(n.value, _shown_number(n.value)) for n in ends], "number")


_BIG_O = re.compile(
    r"(?:\\mathcal\{O\}|\\mathcal O|\\Theta|\\Omega|\\mathcal\{Θ\}|Θ|\bO)\s*"
    r"(?:\\left)?\s*\((?P<inner>[^()]{0,40}(?:\([^()]{0,20}\)[^()]{0,20})?)(?:\\right)?\)"
)
_BOUND = re.compile(r"^(?:[A-Za-z0-9^{}\s*]|\\log|\\cdot|\\sqrt|\\times)+$")


def read_big_o(spec: BigOSheet, region: Region, options: tuple[str, ...]) -> Answer | None:
    found = []
    for match in _BIG_O.finditer(region.text):
        inner = match.group("inner").replace("\\left", "").replace("\\right", "").strip()
        if not (_BOUND.match(inner) and re.search(r"[A-Za-z0-9]", inner)):
            return Answer(None, f"O({inner})", f"O({inner}) is not a bound the grader can read")
        found.append((f"O({' '.join(inner.split())})", f"O({inner})"))
    return _one_of(found, "bound")


_NEGATION = re.compile(
    r"\b(?:not|never|no longer|isn't|aren't|cannot|can't|doesn't|won't|non-?)"
    r"\s*(?:\w+\s+){0,2}$",
    re.IGNORECASE,
)


_QUESTION = re.compile(r"[^.!?;:\n]*\?")
"""A sentence that asks ("Is L1 convex?"): the student restating the question, not answering it."""
_SYNONYMS = {"yes": "true", "no": "false"}
"""A yes/no question answered True or False."""


def read_choice(spec: ChoiceSheet, region: Region, options: tuple[str, ...]) -> Answer | None:
    """An option named in the text (yes, no, a value; True or False for yes or no); with
    `about`, the property stated (yes) or negated (no): "L1 is convex", "not convex". Questions
    the sheet restates ("Is L1 convex? Yes") are not read: only their answers are."""
    text = _QUESTION.sub(" ", region.text)
    found: list[tuple[Any, str]] = []
    if spec.about is not None:
        for match in re.finditer(re.escape(spec.about), text, re.IGNORECASE):
            negated = _NEGATION.search(text[max(0, match.start() - 30) : match.start()])
            said = "no" if negated else "yes"
            if said in options:
                found.append((said, said))
    for option in options:
        words = [option]
        synonym = _SYNONYMS.get(option.casefold())
        if synonym is not None and synonym not in (o.casefold() for o in options):
            words.append(synonym)
        for word in words:
            pattern = rf"(?<![\w.]){re.escape(word)}(?!\w|\.\d)"
            if re.search(pattern, text, re.IGNORECASE):
                found.append((option, option))
    answer = _one_of(found, "answer")
    letters = sorted(set(_LETTER.findall(text)))
    if answer is None and letters:
        shown = ", ".join(letters)
        return Answer(None, shown, "an option letter, not one of the answers the grader knows")
    return answer


_LETTER = re.compile(
    r"\b(?:option|answer|choice|rate|solution|picks?)\s*:?\s*\(?([A-H])\b\)?", re.IGNORECASE
)


_PICKS = re.compile(
    r"(?:^|[:=]|\\Rightarrow)\s*\**(?P<list>[A-H](?:\s*(?:,|and|&|;)\s*[A-H])*)\**\.?\s*$"
)


def read_picks(spec: PicksSheet, region: Region, options: tuple[str, ...]) -> Answer | None:
    found = []
    for line in region.text.splitlines():
        match = _PICKS.search(line.strip())
        if match:
            letters = sorted(set(re.findall(r"[A-H]", match.group("list"))))
            found.append((letters, ", ".join(letters)))
    return _one_of(found, "list")


def read_text(spec: TextSheet, region: Region, options: tuple[str, ...]) -> Answer | None:
    text = " ".join(region.text.split())
    if not text:
        return None
    if len(text) > MAX_TEXT:
        return Answer(None, text[:80] + "...", f"longer than the {MAX_TEXT} characters read")
    return Answer(text, f'"{text[:200]}"' + ("..." if len(text) > 200 else ""))


_ENVIRONMENT = re.compile(
    r"\\begin\{(?P<env>[bpvBV]?matrix|array)\}(?:\{[^}]*\})?(?P<body>.*?)\\end\{(?P=env)\}",
    re.DOTALL,
)
_FACTOR = re.compile(
    r"(?:\\frac\{(?P<num>[\d.]+)\}\{(?P<den>[\d.]+)\}|(?P<plain>(?<![\w.^_{])[\d.]+))"
    r"\s*(?:\\cdot|\\times)?\s*$"
)
_SCALED = re.compile(r"(?:[)}\d])\s*(?:\\cdot|\\times)?\s*\\?\(?$")


def _matrix(body: str) -> list[list[float]] | str:
    """The matrix of a bmatrix body, or why it cannot be read."""
    rows = [row for row in re.split(r"\\\\", body) if row.strip()]
    if sum(row.count("&") + 1 for row in rows) > MAX_CELLS:
        return f"a matrix of more than {MAX_CELLS} cells"
    matrix = []
    for row in rows:
        cells = []
        for cell in row.split("&"):
            found = numbers(cell)
            rest = re.sub(r"[\s{}]", "", cell)
            if len(found) != 1 or len(rest) > len(found[0].written.replace(" ", "")) + 1:
                return f"the cell {cell.strip()!r} is not a number"
            cells.append(float(found[0].value))
        matrix.append(cells)
    if len({len(row) for row in matrix}) > 1:
        return "its rows have different lengths"
    return matrix


def _vector_or_matrix(matrix: list[list[float]]) -> list[float] | list[list[float]]:
    """A one-row or one-column matrix is a vector: students write vectors as either."""
    if len(matrix) == 1:
        return matrix[0]
    if all(len(row) == 1 for row in matrix):
        return [row[0] for row in matrix]
    return matrix


def _factor(match: re.Match[str]) -> float | None:
    try:
        if match.group("plain") is not None:
            return float(match.group("plain"))
        denominator = float(match.group("den"))
        return None if denominator == 0 else float(match.group("num")) / denominator
    except ValueError:
        return None


def _named_matrix(spec: MatrixSheet, text: str) -> Answer | None:
    """The value of the last equation naming one of `spec.names`, worked out (it holds
    numbers only); None when no equation names one."""
    try:
        found = find_formula(text, spec.names, {}, (), {})
    except FormulaError as error:
        return Answer(None, "a formula", f"it could not be read: {error}")
    if found is None:
        return None
    if not found.sure or found.program is None:
        return Answer(None, found.shown, found.reason or "it could not be used")
    try:
        value = evaluate(found.program["tree"], {})
    except (EvaluationError, ValueError) as error:
        return Answer(None, found.shown, f"it cannot be worked out: {error}")
    listed = value.tolist() if hasattr(value, "tolist") else value
    return Answer(listed, found.shown)


def read_matrix(spec: MatrixSheet, region: Region, options: tuple[str, ...]) -> Answer | None:
    text = region.text
    if spec.names:
        return _named_matrix(spec, text)
    found: list[tuple[Any, str]] = []
    for match in _ENVIRONMENT.finditer(text):
        before = text[max(0, match.start() - 40) : match.start()]
        after = text[match.end() : match.end() + 20]
        matrix = _matrix(match.group("body"))
        if isinstance(matrix, str):
            return Answer(None, "a matrix", matrix)
        shown = "[" + "; ".join(" ".join(f"{v:g}" for v in row) for row in matrix) + "]"
        factor = _FACTOR.search(before.rstrip())
        if factor is not None:
            scale = _factor(factor)
            if scale is None:
                return Answer(None, shown, "a matrix with a factor that is not a number")
            matrix = [[scale * value for value in row] for row in matrix]
            shown = f"{factor.group(0).strip()} {shown}"
            found.append((_vector_or_matrix(matrix), shown))
            continue
        if _SCALED.search(before.rstrip()) or re.match(r"\s*(?:\\cdot|\\times|/)", after):
            return Answer(None, shown, "a matrix with a factor the grader does not multiply out")
        found.append((_vector_or_matrix(matrix), shown))
    if not found:
        for match in re.finditer(r"\[([-\d.,\s]+)\]", text):
            values = numbers(match.group(1))
            if values:
                vector = [float(n.value) for n in values]
                found.append((vector, "[" + ", ".join(f"{v:g}" for v in vector) + "]"))
    return _one_of(found, "matrice")


_SHAPE = re.compile(
    r"[\[(]\s*(\d+(?:\s*,\s*\d+){1,5})\s*[\])]"
    r"|(?<![\w.])(\d+(?:\s*(?:\\times|×|x|\*)\s*\d+){1,5})(?![\w.])"
)


def _shapes_in(text: str) -> list[tuple[Any, str]]:
    found = []
    for match in _SHAPE.finditer(text):
        digits = re.findall(r"\d+", match.group(1) or match.group(2))
        shape = [int(d) for d in digits]
        found.append((shape, "[" + ", ".join(digits) + "]"))
    return found


def read_shape(spec: ShapeSheet, region: Region, options: tuple[str, ...]) -> Answer | None:
    return _one_of(_shapes_in(region.text), "shape")


def _loose(label: str) -> str:
    """A label as compared: lower case, letters and digits only (Conv3-64, conv 3 64)."""
    return re.sub(r"[^a-z0-9]", "", label.casefold())


def _labelled_lines(region: Region) -> list[tuple[str, str]]:
    """(loose label, the rest) for each `label: value` line, Markdown table row, or LaTeX
    table row; a label line without a value takes the next paragraph's text."""
    rows: list[tuple[str, str]] = []
    groups = paragraphs([(0, line) for line in region.text.splitlines()])
    for index, group in enumerate(groups):
        for position, (_, line) in enumerate(group):
            cells = [c for c in re.split(r"\||&|\\\\", line) if c.strip()]
            if len(cells) > 1 and ("|" in line or "&" in line):
                rows.append((_loose(cells[0]), " ".join(cells[1:])))
                continue
            head, colon, rest = line.partition(":")
            if colon and len(head) <= 40:
                if not rest.strip():
                    after = group[position + 1 :] or (
                        groups[index + 1] if index + 1 < len(groups) else []
                    )
                    rest = " ".join(text for _, text in after if ":" not in text)
                rows.append((_loose(head), rest))
    return rows


def _row_value(rest: str) -> tuple[int | float, str] | str:
    ends = result_numbers(rest, spaced=True) or numbers(rest, spaced=True)
    if not ends:
        return "no number"
    last = ends[-1]
    return last.value, _shown_number(last.value)


def read_table(spec: TableSheet, region: Region, options: tuple[str, ...]) -> Answer | None:
    """One number per declared row, matched to the sheet's rows of that label in order."""
    rows = _labelled_lines(region)
    used: set[int] = set()
    values: list[int | float] = []
    shown: list[str] = []
    missing: list[str] = []
    absent = {_loose(label) for label in spec.absent}
    for label in spec.rows:
        key = _loose(label)
        index = next((i for i, (have, _) in enumerate(rows) if have == key and i not in used), None)
        if index is None:
            if key in absent:
                values.append(0)
                shown.append(f"{label} 0 (absent)")
                continue
            missing.append(label)
            continue
        used.add(index)
        value = _row_value(rows[index][1])
        if isinstance(value, str):
            missing.append(label)
            continue
        values.append(value[0])
        shown.append(f"{label} {value[1]}")
    if missing and len(missing) == len([r for r in spec.rows if _loose(r) not in absent]):
        return None
    if missing:
        return Answer(None, "; ".join(shown), f"no value found for {', '.join(missing)}")
    return Answer(values, "; ".join(shown))


def read_shapes(spec: ShapesSheet, region: Region, options: tuple[str, ...]) -> Answer | None:
    """One shape per label, from lines such as `Layer a: [10, 16, 32, 32]`."""
    lines = region.text.splitlines()
    values, shown, missing = [], [], []
    for label in spec.labels:
        key = _loose(label)
        found = [
            _shapes_in(line.partition(":")[2])
            for line in lines
            if ":" in line and _loose(line.partition(":")[0]) == key
        ]
        shapes = [shape for each in found for shape in each]
        if len(shapes) != 1:
            missing.append(label)
            continue
        values.append(shapes[0][0])
        shown.append(f"{label} {shapes[0][1]}")
    if len(missing) == len(spec.labels):
        return None
    if missing:
        return Answer(None, "; ".join(shown), f"no single shape found for {', '.join(missing)}")
    return Answer(values, "; ".join(shown))


READERS: dict[str, Reader] = {
    "number": read_number,
    "big_o": read_big_o,
    "choice": read_choice,
    "picks": read_picks,
    "text": read_text,
    "matrix": read_matrix,
    "shape": read_shape,
    "shapes": read_shapes,
    "table": read_table,
}
"""The reader of each `written.kind` except `formula` (grader.written.formulas) and `manual`
(nothing to read: a TA reads the section)."""


def read(spec: Written, region: Region, options: tuple[str, ...]) -> Answer | None:
    return READERS[spec.kind](spec, region, options)
