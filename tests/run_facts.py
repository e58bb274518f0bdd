"""What two gradings of the same submission may differ in: the facts of the run, not the grade."""

from __future__ import annotations

import re
from typing import Any

TIMINGS = ("seconds", "execution_time")


def without_run_facts(value: Any) -> Any:
    """A results.json (or part of one) without its wall-clock fields and without the number of
    the sandbox uid its children ran as: each sandbox session claims a free uid, so a grading
    beside another one (a batch's other worker, a concurrent test) gets another."""
    if isinstance(value, str):
        return re.sub(r"^unprivileged uid \d+$", "unprivileged uid", value)
    if isinstance(value, dict):
        return {key: without_run_facts(item) for key, item in value.items() if key not in TIMINGS}
    if isinstance(value, list):
        return [without_run_facts(item) for item in value]
    return value
