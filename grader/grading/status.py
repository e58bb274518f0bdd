"""The words grading uses for how a part, a question or a submission came out.

One vocabulary for every output (results.json, the terminal, the gradebook, `grader check`),
typed so that a misspelt status is a type error rather than a new status nobody handles.
"""

from __future__ import annotations

from typing import Final, Literal

Status = Literal["passed", "partial", "failed", "not_implemented", "error", "pending"]
"""How one part (or question) came out; `pending` is waiting for a human."""

PASSED: Final = "passed"
PARTIAL: Final = "partial"
FAILED: Final = "failed"
NOT_IMPLEMENTED: Final = "not_implemented"
ERROR: Final = "error"
PENDING: Final = "pending"

Outcome = Literal["graded", "missing_entry", "unreadable", "import_error"]
"""How far grading a submission got: its code ran, or why none of it could."""

GRADED: Final = "graded"
MISSING_ENTRY: Final = "missing_entry"
UNREADABLE: Final = "unreadable"
IMPORT_ERROR: Final = "import_error"
