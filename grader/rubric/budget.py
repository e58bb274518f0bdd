"""Sharing a submission's time limit among its parts, so grading always finishes in time.

Gradescope throws away everything when its global timeout fires, so the grader must finish well
inside it whatever the student's code does. Each part, when it starts, gets an equal share of
the time that is left; time a fast part does not use flows to the parts after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

RESERVE = 0.2
"""Fraction of the limit kept back for starting up, imports and writing results."""


class TimeBudget:
    def __init__(
        self, seconds: float, units: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.clock = clock
        self.deadline = clock() + seconds * (1 - RESERVE)
        self.units_left = max(units, 1)
        self.unit_deadline = self.deadline

    def start_unit(self) -> None:
        """A new part starts: give it its share of what is left."""
        now = self.clock()
        self.unit_deadline = now + max(self.deadline - now, 0.0) / max(self.units_left, 1)
        self.units_left = max(self.units_left - 1, 1)

    def timeout(self, wanted: float) -> float:
        """A request's time limit: what it asks for, within the current part's share."""
        return max(min(wanted, self.unit_deadline - self.clock()), 0.0)

    @property
    def exhausted(self) -> bool:
        return self.clock() >= self.unit_deadline
