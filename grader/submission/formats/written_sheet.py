"""A written answer sheet (Markdown, LaTeX source or OCR text) as a submission.

Courses that collect written answers get sheets, not code. The rubric says what each part
looks for on a sheet and where (`written:`, grader.written.declare); this format splits the
sheet into its numbered sections, reads each declared part with the reader of its kind, and
writes a module holding only literals (and, for formulas, data for the grader's fixed
evaluator), which the sandbox imports like any submission. How each answer was read goes to
the engine as a `Reading`: a sure one is graded and echoed to the student ("read as ..."), an
unsure one (two candidates, an OCR garble, found only under a parent heading) is pending for a
TA with its excerpt and line, and a part whose section is absent was not answered.

Nothing from the sheet is run: values are written with repr() of numbers, strings and lists
built here. It runs under grader.submission.bounded like every converter, and a part whose
reading fails is "could not be read", never a crash of the whole sheet.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from grader.submission.formats.base import (
    Asked,
    Converted,
    FormatError,
    Reading,
    SheetPart,
    SubmissionFormat,
)
from grader.written.declare import FormulaSheet, ManualSheet
from grader.written.formulas import find_formula
from grader.written.latex_math import FormulaError
from grader.written.readers import Answer, read
from grader.written.sections import Sheet, split_sections
from grader.written.text import Region, cued_regions, normalise, whole

MAX_SHEET_BYTES = 2 << 20
"""Largest sheet read: a long typed write-up is 100 KB."""
MAX_EXCERPT = 600
"""Longest excerpt of the sheet kept with a reading (shown to the student and the TA)."""
MAX_SHOWN = 300
"""Longest passage shown as the reading of an answer that could not be read."""
SUFFIXES = (".md", ".tex", ".txt", ".markdown")
EVALUATOR = "grader.written.evaluate"
"""The grader's fixed, public evaluator of formula programs, installed in the sandboxed child."""


@dataclass(frozen=True)
class _Read:
    """One part's outcome: the value to stage (when read surely; for a formula, the program
    the evaluator runs), its reading, and notes for the student."""

    target: str
    value: Any
    reading: Reading | None
    program: bool = False
    notes: tuple[str, ...] = ()


def too_large_message(name: str, size: int) -> str:
    return (
        f"{name} is {size / 1024:.0f} KB, more than the {MAX_SHEET_BYTES >> 10} KB a written "
        "sheet may have"
    )


def decode(data: bytes, name: str) -> str:
    """The sheet's text; FormatError naming the line when it is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise FormatError(
            f"{name} is not UTF-8 text (line {line} has the byte 0x{data[error.start]:02x}); "
            "save it as UTF-8"
        ) from None


def _excerpt(region: Region) -> str:
    text = region.text.strip()
    return text if len(text) <= MAX_EXCERPT else text[:MAX_EXCERPT] + " ..."


def _review(part: SheetPart, region: Region, reason: str, shown: str = "") -> _Read:
    """A reading for a TA. With nothing read to show, the passage itself (whitespace folded)
    is shown: TAs decide once per distinct reading of a part, so two students' different
    answers must never share an empty one."""
    shown = shown or " ".join(region.text.split())[:MAX_SHOWN]
    return _Read(
        part.target, None, Reading("needs_review", shown, region.line, _excerpt(region), reason)
    )


def _cues_of_others(part: SheetPart, sheet_parts: tuple[SheetPart, ...]) -> list[str]:
    return [
        cue
        for other in sheet_parts
        if other.target != part.target and other.section == part.section
        for cue in other.written.cues
    ]


def read_part(part: SheetPart, sheet: Sheet, asked: Asked) -> _Read:
    """How one declared part reads on the sheet."""
    found = sheet.find(part.section)
    if found is None:
        if not sheet.in_order:
            return _review(
                part,
                Region("", 1),
                f"no section {part.section}, and the sheet's headings are out of order: the "
                "answer may be under another heading",
            )
        return _elsewhere(part, sheet, asked) or _Read(part.target, None, None)
    lines = found.section.lines
    heading = Region(f"(the section {found.section.number}, empty)", found.section.line)
    section = whole(lines)
    if section is None:
        if found.doubt:
            return _review(part, heading, found.doubt)
        return _elsewhere(part, sheet, asked) or _Read(part.target, None, None)
    spec = part.written
    regions = [section]
    if spec.cues:
        regions = cued_regions(lines, spec.cues, _cues_of_others(part, asked.sheet))
        if not regions:
            cues = " or ".join(f"`{cue}`" for cue in spec.cues)
            return _review(part, section, f"no sentence of section {part.section} mentions {cues}")
    if isinstance(spec, ManualSheet):
        return _review(part, section, "answered in writing; a TA grades it by hand")
    if isinstance(spec, FormulaSheet):
        return _formula(part, spec, regions, found.doubt)
    for region in regions:  # the latest passage holding an answer of the kind
        answer = read(spec, region, part.options)
        if answer is not None:
            return _outcome(part, region, answer, found.doubt)
    return _review(part, regions[0], f"no {spec.kind.replace('_', '-')} answer found in it")


def _elsewhere(part: SheetPart, sheet: Sheet, asked: Asked) -> _Read | None:
    """A review, rather than "not answered", for a part whose section is absent or empty when
    its answer may be on the sheet all the same: its question's parts are labelled in a way the
    rubric does not know (`(i)` under Q7 for 7.a: OCR and students relabel), or a formula
    for one of its names stands under another heading (names say what a formula answers)."""
    known = {p.section for p in asked.sheet}
    known |= {".".join(s.split(".")[:cut]) for s in known for cut in range(1, s.count(".") + 1)}
    parent = part.section.rpartition(".")[0]
    unknown = [s for s in sheet.labels_under(parent) if s.number not in known] if parent else []
    if unknown:
        labels = ", ".join(sorted({s.number for s in unknown}))
        return _review(
            part,
            Region(unknown[0].text, unknown[0].line),
            f"no section {part.section}, but the sheet labels parts of {parent} as {labels}, "
            "which the handout does not: the answer may be there",
        )
    spec = part.written
    if not isinstance(spec, FormulaSheet):
        return None
    try:
        formula = find_formula(sheet.text, spec.names, spec.symbols, part.args, None)
    except FormulaError as error:
        return _review(part, Region("", 1), f"no section {part.section}; {error}")
    if formula is None:
        return None
    line = formula.line + 1
    where = sheet.section_at(line)
    heading = f"section {where.number}" if where is not None else "the sheet's first heading"
    return _Read(
        part.target,
        None,
        Reading(
            "needs_review",
            formula.shown,
            line,
            formula.excerpt,
            f"no answer under {part.section}, but a formula for {formula.shown.split(' = ')[0]} "
            f"stands under {'the text before ' if where is None else ''}{heading}",
        ),
    )


def _formula(part: SheetPart, spec: FormulaSheet, regions: list[Region], doubt: str) -> _Read:
    """The formula the passage gives for one of the part's names; its program is staged, and
    the engine judges it on the part's cases like code."""
    for region in regions:
        try:
            found = find_formula(region.text, spec.names, spec.symbols, part.args, part.sample)
        except FormulaError as error:
            return _review(part, region, f"the formula could not be read: {error}")
        if found is None:
            continue
        line = region.line + found.line
        excerpt = found.excerpt or _excerpt(region)
        if not found.sure or found.program is None or doubt:
            reason = found.reason or doubt or "the formula could not be used"
            return _Read(
                part.target, None, Reading("needs_review", found.shown, line, excerpt, reason)
            )
        notes = tuple(f"{part.section}: {note}" for note in found.notes)
        reading = Reading("read", found.shown, line, excerpt)
        return _Read(part.target, dict(found.program), reading, program=True, notes=notes)
    names = " or ".join(spec.names)
    return _review(part, regions[0], f"no formula for {names} found in it")


def _outcome(part: SheetPart, region: Region, answer: Answer, doubt: str) -> _Read:
    reason = answer.doubt or doubt
    if reason or answer.value is None:
        return _review(part, region, reason or "could not be read", answer.shown)
    return _Read(
        part.target, answer.value, Reading("read", answer.shown, region.line, _excerpt(region))
    )


def literal(value: Any) -> str:
    """Python source for a value a reader built: numbers, strings, and lists, tuples and dicts
    of them (a formula's program is tuples and dicts)."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"float({str(value)!r})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    if isinstance(value, tuple):
        return "(" + "".join(literal(item) + ", " for item in value) + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"a reader returned a {type(value).__name__}")


def _all_read(text: str, asked: Asked) -> Iterator[_Read]:
    sheet = split_sections(normalise(text))
    for part in asked.sheet:
        try:
            outcome = read_part(part, sheet, asked)
        except Exception as error:  # whatever a reader trips on costs this part, not the sheet
            outcome = _review(
                part, Region("", 1), f"this part could not be read ({type(error).__name__})"
            )
        yield outcome


@dataclass(frozen=True)
class SheetRead:
    """What a sheet gave: module lines defining the answers read surely (the evaluator's import
    first when any is a formula), each answer's reading, the targets not found, and notes."""

    lines: tuple[str, ...]
    readings: dict[str, Reading]
    unanswered: tuple[str, ...]
    notes: tuple[str, ...]

    def summary(self, name: str, entry: str) -> str:
        review = sum(r.status == "needs_review" for r in self.readings.values())
        return (
            f"{name} was read as a written sheet for {entry}: {len(self.readings) - review} "
            f"answers read, {review} left for a TA to review, {len(self.unanswered)} not found"
        )


def read_sheet(text: str, asked: Asked, skip: frozenset[str] = frozenset()) -> SheetRead:
    """Read every declared part (but those in `skip`) from the sheet's text."""
    outcomes = [o for o in _all_read(text, asked) if o.target not in skip]
    lines: list[str] = []
    if any(outcome.program for outcome in outcomes):
        lines.append(f"from {EVALUATOR} import formula_function as _f")
    readings: dict[str, Reading] = {}
    unanswered: list[str] = []
    notes: list[str] = []
    for outcome in outcomes:
        if outcome.reading is None:
            unanswered.append(outcome.target)
            continue
        readings[outcome.target] = outcome.reading
        notes += outcome.notes
        if outcome.reading.status == "read" and outcome.program:
            lines.append(f"{outcome.target} = _f({literal(outcome.value)})")
        elif outcome.reading.status == "read":
            lines.append(f"{outcome.target} = {literal(outcome.value)}")
    return SheetRead(tuple(lines), readings, tuple(unanswered), tuple(notes))


def convert(data: bytes, name: str, asked: Asked) -> Converted:
    if not asked.sheet:
        raise FormatError(
            f"{name} is a written sheet, but this assignment is not graded from written "
            f"answers: hand in {asked.entry}"
        )
    if len(data) > MAX_SHEET_BYTES:
        raise FormatError(too_large_message(name, len(data)))
    read = read_sheet(decode(data, name), asked)
    title = "".join(c if c.isprintable() and c not in '"\\' else "?" for c in name)
    header = f'"""Answers read from the written sheet {title} by the grader: data only."""'
    source = "\n".join((header, "", *read.lines)) + "\n"
    return Converted(source, (read.summary(name, asked.entry), *read.notes), read.readings)


FORMAT = SubmissionFormat(
    name="written",
    suffixes=SUFFIXES,
    max_bytes=MAX_SHEET_BYTES,
    too_large=too_large_message,
    convert=convert,
    any_name=True,
)
