"""What grading produced, per part, per question and per submission, and its Gradescope form.

The result model is the one record every output is written from: results.json for Gradescope,
the terminal table, and (for batches) the gradebook. Scores are computed here once, from credit
fractions and points, so every output agrees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PASSED, PARTIAL, FAILED = "passed", "partial", "failed"
NOT_IMPLEMENTED, ERROR, PENDING = "not_implemented", "error", "pending"
GRADED, MISSING_ENTRY, UNREADABLE, IMPORT_ERROR = (
    "graded",
    "missing_entry",
    "unreadable",
    "import_error",
)
"""How far grading a submission got: its code ran, or why none of it could."""


@dataclass
class PartResult:
    """One part's outcome. `credit` is the fraction of `points` earned."""

    name: str
    points: float
    status: str
    credit: float = 0.0
    target: str | None = None
    feedback: list[str] = field(default_factory=list)
    mistakes: list[str] = field(default_factory=list)
    cases_passed: int | None = None
    cases_total: int | None = None
    seconds: float = 0.0

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
    fixed: tuple[float, float, str] | None = None  # custom tests: (score, max, status)

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
    def status(self) -> str:
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
    outcome: str = GRADED

    @property
    def score(self) -> float:
        return round(sum(q.score for q in self.questions), 6)

    @property
    def max_score(self) -> float:
        return round(sum(q.max_score for q in self.questions), 6)

    @property
    def manual_points(self) -> float:
        return sum(q.manual_points for q in self.questions)


def to_gradescope(result: GradeResult) -> dict[str, Any]:
    """The results.json Gradescope expects: one test per question, numbers as numbers."""
    tests = []
    for question in result.questions:
        test: dict[str, Any] = {
            "name": f"{question.number} {question.title}",
            "number": question.number,
            "score": question.score,
            "max_score": question.max_score,
            "status": "passed" if question.status in (PASSED, PENDING) else "failed",
            "visibility": question.visibility,
            "output": question.feedback_text(),
            "extra_data": {
                "status": question.status,
                "seconds": round(question.seconds, 4),
                "manual_points_pending": question.manual_points,
                "parts": [
                    {
                        "name": p.name,
                        "status": p.status,
                        "credit": round(p.credit, 6),
                        "points": p.points,
                        "mistakes": p.mistakes,
                        "cases": None if p.cases_total is None else [p.cases_passed, p.cases_total],
                        "seconds": round(p.seconds, 4),
                    }
                    for p in question.parts
                ],
            },
        }
        tests.append(test)
    output = list(result.notes)
    if result.manual_points:
        output.append(
            f"{result.manual_points:g} more points are graded by hand and are not "
            "included in this score."
        )
    return {
        "score": result.score,
        "execution_time": round(result.execution_time, 3),
        "output": "\n\n".join(output),
        "tests": tests,
        "extra_data": {
            "assignment": result.assignment,
            "outcome": result.outcome,
            "seed": result.seed,
            "rubric_sha256": result.rubric_sha256,
            "submission_sha256": result.submission_sha256,
            "versions": result.versions,
            "sandbox_layers": result.sandbox,
            "max_auto_score": result.max_score,
            "manual_points_pending": result.manual_points,
            "internal_errors": result.internal_errors,
        },
    }


def fallback_results(reason: str) -> dict[str, Any]:
    """A valid results.json for when grading could not run at all: zero, with the reason."""
    return {
        "score": 0.0,
        "execution_time": 0.0,
        "output": reason,
        "tests": [],
        "extra_data": {"error": reason},
    }
