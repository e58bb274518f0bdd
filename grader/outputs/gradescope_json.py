"""results.json in the form Gradescope reads: one test per question, numbers as numbers.

Gradescope shows `output` and the score of each test to the student under the test's
`visibility`; the top level's `extra_data` holds what is needed to replay the grade (seed,
rubric and submission hashes, versions, sandbox layers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from grader.grading.status import PASSED, PENDING

if TYPE_CHECKING:  # an annotation only: a placeholder is written before the grading stack loads
    from grader.grading.results import GradeResult


def to_gradescope(result: GradeResult) -> dict[str, Any]:
    """The results.json Gradescope expects: one test per question, numbers as numbers."""
    tests = []
    for question in result.questions:
        test: dict[str, Any] = {
            "name": f"{question.number} {question.title}",
            "number": question.number,
            "score": question.score,
            "max_score": question.max_score,
            "status": "passed" if question.status == PASSED else "failed",
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
        if question.status == PENDING:
            # Waiting for a human: Gradescope's status can only say passed or failed, and a
            # test without one is shown as passed when its score equals its max_score (0 of
            # 0), so a question graded by hand only is an informational test: no score, no
            # status, its points pending in the output.
            del test["score"], test["max_score"], test["status"]
            test["name"] += " (graded by hand, pending)"
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
