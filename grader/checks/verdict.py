"""The outcome of judging one student value: a credit fraction and words for the student."""

from __future__ import annotations

from dataclasses import dataclass

FULL_CREDIT_SLACK = 1e-9


@dataclass(frozen=True)
class Verdict:
    """How much of a part's points one value earns, and why.

    `credit` is a fraction in [0, 1] so that the same verdict scales to any point value;
    `feedback` is written for the student and must not contain a hidden expected value.
    """

    credit: float
    feedback: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= self.credit <= 1.0:
            raise ValueError(f"credit must lie in [0, 1], got {self.credit}")

    @property
    def passed(self) -> bool:
        return self.credit >= 1.0 - FULL_CREDIT_SLACK

    @classmethod
    def right(cls, feedback: str = "") -> Verdict:
        return cls(1.0, feedback)

    @classmethod
    def wrong(cls, feedback: str) -> Verdict:
        return cls(0.0, feedback)
