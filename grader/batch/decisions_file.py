"""The decisions file: a class's answer groups as YAML a TA edits, and reading it back.

Deciding thirty groups one command at a time is slow; a file lists every group with its reading
and an example, a TA fills in `credit` (and `feedback`) in an editor, possibly shared with other
TAs, and imports it. Reading it back is strict: a typo in a key, a credit outside [0, 1], a group
the gradebook does not have or a part the rubric does not have stops the import with the file
and the field named, before anything is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader.batch.review import AnswerGroup
from grader.errors import GraderInputError
from grader.rubric.model import Rubric, format_location

MAX_FILE_BYTES = 16 << 20
"""A class's groups take a few hundred KB; anything far larger is not a decisions file."""

HEADER = """\
# Written answers awaiting review, one entry per answer group (answers read alike).
# For each group you decide, set `credit` (the fraction of the part's points, 0 to 1) and
# optionally `feedback` (shown to every student of the group); leave `credit: null` to keep
# a group pending. The other keys are for reading. Then:
#   grader review {outdir} --import THIS_FILE
"""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group: str = Field(min_length=1)
    question: str
    part: str
    credit: float | None = Field(None, ge=0, le=1, allow_inf_nan=False)
    feedback: str = ""
    students: int | None = None
    read_as: str | None = None
    example: str | None = None
    why_unsure: str | None = None
    decided_by: str | None = None
    decided_at: str | None = None


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    groups: list[_Entry]


@dataclass(frozen=True)
class Ruling:
    """One group's ruling as the file gives it."""

    group: AnswerGroup
    credit: float
    feedback: str


def export_decisions(groups: Sequence[AnswerGroup], outdir: Path) -> str:
    """Every group, decided or not, as the file a TA edits."""
    entries = []
    for group in groups:
        example = group.members[0]
        decision = group.decision
        entry: dict[str, object] = {
            "group": group.id,
            "question": group.question,
            "part": group.part,
            "students": len(group.members),
            "read_as": example.shown,
            "example": f"line {example.line}: {example.excerpt}",
            "why_unsure": example.reason,
            "credit": None if decision is None else decision.credit,
            "feedback": "" if decision is None else decision.feedback,
        }
        if decision is not None:
            entry.update(decided_by=decision.decided_by, decided_at=decision.decided_at)
        entries.append(entry)
    body = yaml.safe_dump({"groups": entries}, sort_keys=False, allow_unicode=True, width=100)
    return HEADER.format(outdir=outdir) + body


def read_decisions(
    path: Path, groups: Sequence[AnswerGroup], rubric: Rubric, rubric_path: Path
) -> list[Ruling]:
    """The rulings the file gives (groups left at `credit: null` are not among them); raise
    GraderInputError naming the file and the field of the first problem found."""
    entries = _parse(path)
    by_id = {group.id: group for group in groups}
    parts = {(q.number, p.name) for q in rubric.questions for p in q.parts}
    numbers = {q.number for q in rubric.questions}
    rulings, seen = [], set()
    for index, entry in enumerate(entries):
        where = f"{path}: groups[{index}]"
        if entry.question not in numbers:
            raise GraderInputError(
                f"{where}.question: {rubric_path} has no question {entry.question!r}"
            )
        if (entry.question, entry.part) not in parts:
            raise GraderInputError(
                f"{where}.part: question {entry.question} of {rubric_path} has no part "
                f"{entry.part!r}"
            )
        group = by_id.get(entry.group)
        if group is None:
            raise GraderInputError(
                f"{where}.group: no answer group {entry.group!r} awaits review in this "
                "gradebook (`grader review OUTDIR` lists them; a rerun that reads an answer "
                "differently makes a new group)"
            )
        if (group.question, group.part) != (entry.question, entry.part):
            raise GraderInputError(
                f"{where}.part: group {group.id} is question {group.question}, part "
                f"{group.part!r}, not question {entry.question}, part {entry.part!r}"
            )
        if group.id in seen:
            raise GraderInputError(f"{where}.group: group {group.id} is listed twice")
        seen.add(group.id)
        if entry.credit is not None:
            rulings.append(Ruling(group, entry.credit, entry.feedback.strip()))
    return rulings


def _parse(path: Path) -> list[_Entry]:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise GraderInputError(
                f"{path}: {size} bytes is too large for a decisions file "
                f"(at most {MAX_FILE_BYTES} bytes)"
            )
        data = yaml.safe_load(path.read_bytes())
    except OSError as error:
        raise GraderInputError(f"{path}: cannot read the decisions ({error.strerror})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise GraderInputError(f"{path}: not valid YAML{where}: {problem}") from None
    try:
        return _File.model_validate(data).groups
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        got = f" (got {repr(first['input'])[:80]})" if "input" in first and first["loc"] else ""
        raise GraderInputError(
            f"{path}: {format_location(first['loc'])}: {first['msg']}{got}"
        ) from None
