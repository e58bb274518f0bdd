"""A deterministic bound on a mutant's work: the lines its code runs, never the seconds it takes.

Screening mutants (trusted.mutation) and `grader mutants` (grading.mutants) call mutants of the
reference in this process. A mutant may run longer than the reference (a loop run to 2n) or
forever (`i += 1` made `i += 0`), so each call is counted: a local tracer (sys.settrace, Python
3.11 has no sys.monitoring) counts the line events of the course's own code only (the mutant's
compiled source and the reference module it calls; numpy and the grader run untraced), and the
call is stopped past a budget derived from the reference's own count on the same case:
max(LINES_PER_REFERENCE_LINE x the reference's lines, MIN_LINES). A count does not depend on the
machine or its load, so neither does which mutants are left out, and a screening's outcome may
be cached like any other.

Why lines bound time: a line of course code does work bounded by the sizes of the arrays it
touches, which a case fixes (a probe draws them), so numpy-heavy code, which runs few lines per
unit of work, is bounded as well. What lines do not bound: one line whose own work blows up (a
mutant that allocates an array of n**2 elements where the reference has n, a library call that
never returns). For those SAFETY_SECONDS is a wall-clock cap checked every CLOCK_EVERY lines: it
never decides an outcome (it raises ReferenceModuleError naming the reference function and the
mutant, so the rubric's author hears of it, rather than dropping the mutant on a slow machine);
it cannot interrupt a single C call. A reference that catches BaseException (a bare `except:`)
around its loop would swallow the stop: the tracer is then gone, as CPython removes a trace
function that raises.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Collection
from types import FrameType
from typing import Any

from grader.errors import ReferenceModuleError

LINES_PER_REFERENCE_LINE = 20
"""A mutant may run 20 times the reference's lines on a case: the mutations made change a loop's
bound by a factor 2 or by one (2x, (n+1)/n), far inside; a loop that never ends is stopped after
20 times the reference's work."""
MIN_LINES = 10_000
"""The least budget, for references that run a handful of lines: the two shipped courses'
references run 3 to 28 lines a probe (numpy closed forms; a loop over layers at most), and no
mutant of theirs runs more than its reference, so 10,000 lines leaves them 357 times their
count. A traced line costs about 0.16 us, so a stopped mutant costs at most a few ms here."""
SAFETY_SECONDS = 300.0
"""Wall-clock seconds one call may take within its line budget before the rubric is reported."""
CLOCK_EVERY = 1024
"""Lines between two readings of the clock (a reading costs as much as a traced line)."""


class OverBudget(Exception):
    """A call that ran more lines of course code than its budget allows."""


class _Stop(BaseException):
    """Raised inside the traced call: a BaseException, so the mutant's `except Exception` (a
    reference that guards a step) cannot swallow it and loop on."""


class _Stuck(BaseException):
    """Raised inside the traced call past SAFETY_SECONDS."""


def budget_for(reference_lines: int) -> int:
    """The lines a mutant may run on a case where the reference ran `reference_lines`."""
    return max(LINES_PER_REFERENCE_LINE * reference_lines, MIN_LINES)


def counted_call(
    function: Callable[..., Any],
    kwargs: dict[str, Any],
    files: Collection[str],
    limit: int | None = None,
    what: str = "",
) -> tuple[Any, int]:
    """function(**kwargs) and the line events it ran in code compiled from `files` (code
    objects' file names); OverBudget past `limit` lines. `what` names the function for the
    safety cap's error."""
    lines = 0
    started = time.perf_counter()

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal lines
        if event == "line":
            lines += 1
            if limit is not None and lines > limit:
                raise _Stop
            if lines % CLOCK_EVERY == 0 and time.perf_counter() - started > SAFETY_SECONDS:
                raise _Stuck
        return local

    def calls(frame: FrameType, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename in files else None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        value = function(**kwargs)
    except _Stop:
        raise OverBudget(f"ran more than {limit} lines") from None
    except _Stuck:
        raise ReferenceModuleError(
            f"{what}: a call ran {lines} lines in more than {SAFETY_SECONDS:g} s without "
            "reaching its line budget (one line's work blew up, an array far larger than the "
            "reference's): make the reference's cases smaller or report this to the grader's "
            "maintainers"
        ) from None
    finally:
        sys.settrace(previous)
    return value, lines
