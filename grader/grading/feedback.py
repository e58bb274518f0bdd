"""Student-facing words for what went wrong when the grader asked the submission for something.

Written once here so that YAML-graded parts and custom unittest suites explain a crash, a
timeout or a missing function in the same way.
"""

from __future__ import annotations

import builtins
from collections import Counter
from typing import Any

import numpy as np

from grader.checks.property import PropertyCheck
from grader.grading.status import ERROR, FAILED, NOT_IMPLEMENTED, Status
from grader.grading.variants import Judgement
from grader.rubric.model import AutoPart
from grader.sandbox.runner import Reply
from grader.sandbox.wire import Members, Pairs
from grader.submission.formats.base import Reading
from grader.trusted.cases import Case

MAX_MESSAGES = 6
"""Distinct feedback lines shown for one function part; repeated ones are counted, not listed."""

STANDARD_EXCEPTIONS = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
) | {"LinAlgError", "AxisError"}


def exception_name(reply: Reply, *, reveal: bool) -> str:
    """The exception's type name; for hidden cases only a standard one, since a student could
    name a class of their own after the hidden input."""
    if reveal or reply.error_type in STANDARD_EXCEPTIONS:
        return reply.error_type
    return "an exception of its own class"


def reply_problem(reply: Reply, target: str, *, reveal: bool = True) -> tuple[Status, str]:
    """A failed request as (status, student-facing explanation).

    With reveal=False (a hidden or random case) nothing the student's code produced is shown:
    not the exception message, not the traceback, not the output, any of which could carry the
    hidden input out.
    """
    if reply.status == "missing":
        return NOT_IMPLEMENTED, f"{target} is not defined in your submission"
    if reply.status == "exception" and reply.error_type == "NotImplementedError":
        return NOT_IMPLEMENTED, f"{target} is not implemented yet (it raises NotImplementedError)"
    if reply.status == "exception":
        name = exception_name(reply, reveal=reveal)
        if not reveal:
            return ERROR, f"{target} raised {name}"
        frames = reply.traceback.rstrip()
        return ERROR, f"{target} raised {name}: {reply.message}" + (f"\n{frames}" if frames else "")
    if reply.status == "not_callable":
        return FAILED, f"{target} should be a function, but it is a {reply.error_type}"
    if reply.status == "timeout":
        return ERROR, f"{target} {reply.message}"
    if reply.status == "unsendable":
        detail = f": {reply.message}" if reveal else ""
        return ERROR, f"{target} returned something that cannot be graded as data{detail}"
    if reply.status == "harness_error" and reply.graders_fault:
        return ERROR, (
            "the grader's harness for this question failed; your instructor has been told"
        )
    if reply.status == "harness_error":  # sent by the submission's process: its own doing
        raised = f" ({exception_name(reply, reveal=reveal)})" if reply.error_type else ""
        return ERROR, (
            f"{target}: the harness around it failed in your submission's process{raised}; "
            "this counts as an error of your code"
        )
    if reply.status == "import_error":
        return ERROR, "your submission could not be imported again after a crash"
    detail = f"\n{reply.output.strip()[-500:]}" if reveal and reply.output.strip() else ""
    return ERROR, f"{target}: {reply.message}{detail}"


def hidden_case_feedback(value: Any, expected: Any) -> str:
    """What kind of thing is wrong with an answer to a hidden case, in words that depend on
    the answer's kind only, never on what it contains."""
    number = (int, float, np.number)
    expects_number = isinstance(expected, number) and not isinstance(expected, bool)
    if expects_number and (
        isinstance(value, (bool, str)) or not isinstance(value, (*number, np.ndarray))
    ):
        return f"returned {_kind(value)} where a number was expected"
    if isinstance(expected, (np.ndarray, list, tuple)):
        try:
            got = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            return f"returned {_kind(value)} where an array was expected"
        with np.errstate(all="ignore"):
            if got.shape != np.shape(np.asarray(expected, dtype=np.float64)):
                return "returned an array of the wrong shape"
            if not np.all(np.isfinite(got)):
                return "returned NaN or infinite values"
    return "returned wrong values"


def _kind(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, (Members, Pairs)):
        return "a set" if isinstance(value, Members) else "a dict"
    name = value.type_name if hasattr(value, "type_name") else type(value).__name__
    name = name if name.isidentifier() and len(name) <= 30 else "an object"
    return f"a {name}" if not name.startswith("an ") else name


def case_feedback(
    part: AutoPart, case: Case, value: Any, expected: Any, judgement: Judgement
) -> str | None:
    """The line a judged case adds to its part's feedback (None: nothing to say). A public case
    shows its arguments; a hidden one only the rubric's own words for a recognised mistake or a
    property, or else the kind of problem."""
    verdict = judgement.verdict
    if verdict.passed:
        return verdict.feedback or None
    if case.reveal:
        arguments = ", ".join(f"{k}={short_repr(v)}" for k, v in case.kwargs.items())
        return f"{case.label} ({arguments}): {verdict.feedback}"
    if judgement.mistakes or isinstance(part.check, PropertyCheck):
        return f"{case.label}: {verdict.feedback}"
    return f"{case.label}: {hidden_case_feedback(value, expected)}"


def function_feedback(cases: list[Case], passed: Counter[str], messages: Counter[str]) -> list[str]:
    """A function part's feedback: how many cases of each kind passed, then the distinct
    messages, each once with its count."""
    totals = Counter(case.kind for case in cases)
    summary = "; ".join(
        f"{kind} cases: {passed[kind]}/{count} passed" for kind, count in totals.items()
    )
    return [summary] + [
        text if count == 1 else f"{text} (x{count})"
        for text, count in list(messages.items())[:MAX_MESSAGES]
    ]


def short_repr(value: Any) -> str:
    with np.printoptions(threshold=20, precision=6, suppress=True):
        text = repr(value.tolist()) if isinstance(value, np.ndarray) else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def cell_errors_note(reply: Reply, handed_in: str) -> list[str]:
    """The notebook cells that raised (the others still ran), reported once."""
    if not reply.traceback.strip():
        return []
    return [
        f"In your {handed_in}, some cells raised an error; the cells after them still ran, "
        "but whatever a failing cell would have defined is missing:\n" + reply.traceback.rstrip()
    ]


def review_feedback(reading: Reading) -> str:
    """What a student (and the TA) sees for an answer that was not read surely: why, and the
    sheet's own text with its line, so that nobody has to search the sheet for it."""
    shown = f" (read as {reading.shown})" if read_apart(reading) else ""
    return (
        f"needs review by a TA: {reading.reason}{shown}. Line {reading.line} of your sheet:\n"
        + "\n".join(f"  | {line}" for line in reading.excerpt.splitlines())
    )


def read_apart(reading: Reading) -> bool:
    """Whether the reading shows something read, rather than the excerpt itself (which is what
    an answer that could not be read at all shows)."""
    return bool(reading.shown) and not " ".join(reading.excerpt.split()).startswith(reading.shown)
