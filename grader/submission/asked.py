"""The parts of a rubric that a written answer sheet may answer, as converters need them.

A converter sees bytes and what the rubric asks for, never the rubric itself: this is where
the rubric's `written:` declarations (or a student kit's copy of them) become the `SheetPart`s a
written sheet is read against.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

from grader.submission.formats.base import SheetPart
from grader.written.declare import Written

if TYPE_CHECKING:  # annotations only: `grader check` reads a kit without the rubric model
    from grader.rubric.model import AutoPart, Rubric

WRITTEN: TypeAdapter[Written] = TypeAdapter(Written)


def sheet_parts(rubric: Rubric) -> tuple[SheetPart, ...]:
    """Every part declaring `written:`, in the rubric's order (a target declared twice, as a
    function checked two ways, is read once)."""
    parts: list[SheetPart] = []
    seen: set[str] = set()
    for question, part in rubric.auto_parts():
        if part.written is None or part.target in seen:
            continue
        seen.add(part.target)
        parts.append(_sheet_part(question.number, part))
    return tuple(parts)


def _sheet_part(number: str, part: AutoPart) -> SheetPart:
    function = part.function
    options = getattr(part.check, "options", None) or ()
    return SheetPart(
        target=part.target,
        question=number,
        written=part.written,  # type: ignore[arg-type]  # checked by the caller
        args=tuple(function.args) if function is not None else (),
        sample=dict(function.public[0]) if function is not None and function.public else None,
        options=tuple(str(option) for option in options),
    )


def kit_sheet(kit: dict[str, Any]) -> tuple[SheetPart, ...]:
    """The parts a written sheet may answer, from the kit's `written` declarations (the same
    as `sheet_parts` gives from the rubric)."""
    parts: dict[str, SheetPart] = {}
    for question in kit["questions"]:
        for part in question["parts"]:
            if "written" not in part or part["target"] in parts:
                continue
            function = part.get("function")
            public = function["public"] if function else []
            parts[part["target"]] = SheetPart(
                target=part["target"],
                question=question["number"],
                written=WRITTEN.validate_python(part["written"]),
                args=tuple(function["args"]) if function else (),
                sample=dict(public[0]["args"]) if public else None,
                options=tuple(str(o) for o in part["check"].get("options", ())),
            )
    return tuple(parts.values())
