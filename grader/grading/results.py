"""What grading produced, per part, per question and per submission.

The result model is the one record every output is written from: results.json for Gradescope
(grader.outputs.gradescope_json), the terminal table, and (for batches) the gradebook. Scores
are computed here once, from credit fractions and points, so every output agrees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grader.grading.status import (
    FAILED,
    GRADED,
    NOT_IMPLEMENTED,
    PARTIAL,
    PASSED,
    PENDING,
    Outcome,
    Status,
)
from grader.submission.formats.base import Reading


@dataclass
class PartResult:
    """One part's outcome. `credit` is the fraction of `points` earned."""

    name: str
    points: float
    status: Status
    credit: float = 0.0
    target: str | None = None
    feedback: list[str] = field(default_factory=list)
    mistakes: list[str] = field(default_factory=list)
    cases_passed: int | None = None
    cases_total: int | None = None
    seconds: float = 0.0
    review: Reading | None = None
    """Set when the answer came from a written sheet and could not be read surely: the part is
    pending until a TA decides (grader.batch groups identical readings for that)."""

    @property
    def manual(self) -> bool:
        return self.status == PENDING

    @property
    def score(self) -> float:
        return 0.0 if self.manual else self.points * self.credit


@dataclass
class QuestionResult:
    """One question: a Gradescope test."""

    number: str
    title: str
    visibility: str
    parts: list[PartResult] = field(default_factory=list)
    seconds: float = 0.0
    output: str | None = None
    fixed: tuple[float, float, Status] | None = None  # custom tests: (score, max, status)

    @property
    def score(self) -> float:
        if self.fixed is not None:
            return self.fixed[0]
        return round(sum(p.score for p in self.parts), 6)

    @property
    def max_score(self) -> float:
        if self.fixed is not None:
            return self.fixed[1]
        return round(sum(p.points for p in self.parts if not p.manual), 6)

    @property
    def manual_points(self) -> float:
        return sum(p.points for p in self.parts if p.manual)

    @property
    def status(self) -> Status:
        auto = [p for p in self.parts if not p.manual]
        if self.fixed is not None:
            return self.fixed[2]
        if not auto:
            return PENDING
        if all(p.status == PASSED for p in auto):
            return PASSED
        if all(p.status == NOT_IMPLEMENTED for p in auto):
            return NOT_IMPLEMENTED
        if any(p.credit > 0 for p in auto):
            return PARTIAL
        return FAILED

    def feedback_text(self) -> str:
        if self.output is not None:
            return self.output
        lines = []
        for part in self.parts:
            if part.review is not None:
                lines.append(f"• {part.name}: {part.points:g} pt, needs review by a TA (pending)")
                lines.extend(f"    {line}" for text in part.feedback for line in text.splitlines())
                continue
            if part.manual:
                lines.append(f"• {part.name}: {part.points:g} pt, graded by hand (pending)")
                continue
            mark = {PASSED: "✓", PARTIAL: "~"}.get(part.status, "✗")
            lines.append(f"{mark} {part.name}: {part.score:.4g} / {part.points:g}")
            lines.extend(f"    {line}" for text in part.feedback for line in text.splitlines())
        return "\n".join(lines)


@dataclass
class GradeResult:
    """Everything about one graded submission, including what is needed to replay it."""

    assignment: str
    title: str
    questions: list[QuestionResult]
    seed: int
    rubric_sha256: str
    submission_sha256: str
    versions: dict[str, str]
    sandbox: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)
    execution_time: float = 0.0
    outcome: Outcome = GRADED

    @property
    def score(self) -> float:
        return round(sum(q.score for q in self.questions), 6)

    @property
    def max_score(self) -> float:
        return round(sum(q.max_score for q in self.questions), 6)

    @property
    def manual_points(self) -> float:
        return sum(q.manual_points for q in self.questions)
