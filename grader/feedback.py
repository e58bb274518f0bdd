"""Student-facing words for what went wrong when the grader asked the submission for something.

Written once here so that YAML-graded parts and custom unittest suites explain a crash, a
timeout or a missing function in the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.results import ERROR, FAILED, NOT_IMPLEMENTED
from grader.sandbox.runner import Reply


def reply_problem(reply: Reply, target: str) -> tuple[str, str]:
    """A failed request as (status, student-facing explanation)."""
    if reply.status == "missing":
        return NOT_IMPLEMENTED, f"{target} is not defined in your submission"
    if reply.status == "exception" and reply.error_type == "NotImplementedError":
        return NOT_IMPLEMENTED, f"{target} is not implemented yet (it raises NotImplementedError)"
    if reply.status == "exception":
        detail = reply.traceback.strip() or f"{reply.error_type}: {reply.message}"
        return ERROR, f"{target} raised {reply.error_type}: {reply.message}\n{detail}".strip()
    if reply.status == "not_callable":
        return FAILED, f"{target} should be a function, but it is a {reply.error_type}"
    if reply.status == "timeout":
        return ERROR, f"{target} {reply.message}"
    if reply.status == "unsendable":
        return ERROR, (f"{target} returned something that cannot be graded as data: "
                       f"{reply.message}")
    if reply.status == "harness_error":
        return ERROR, ("the grader's harness for this question failed; your instructor has "
                       "been told")
    if reply.status == "import_error":
        return ERROR, "your submission could not be imported again after a crash"
    detail = f"\n{reply.output.strip()[-500:]}" if reply.output.strip() else ""
    return ERROR, f"{target}: {reply.message}{detail}"


def short_repr(value: Any) -> str:
    with np.printoptions(threshold=20, precision=6, suppress=True):
        text = repr(value.tolist()) if isinstance(value, np.ndarray) else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
