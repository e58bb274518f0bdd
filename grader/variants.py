"""Judging an answer against the canonical one and against the rubric's known variants.

A wrong answer that matches a known mistake earns that mistake's credit and its feedback; an
answer that matches an accepted alternative convention earns full credit and a note. For arrays
graded per element, variants are matched element by element, so a student who made one known
mistake in one layer of a table loses only that cell's share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.checks import compare
from grader.checks.specs import ArrayCheck
from grader.checks.verdict import Verdict
from grader.reference import ReferenceModule
from grader.rubric import Alternative, AutoPart, Variant


@dataclass
class Judgement:
    """A verdict plus what it was based on: mistakes recognised, conventions seen."""

    verdict: Verdict
    mistakes: list[str] = field(default_factory=list)
    established: set[str] = field(default_factory=set)


class VariantJudge:
    """Judges one part's answers; `student_answer(target)` fetches the student's other answers
    for follow-through variants, and `conventions` holds the conventions seen so far."""

    def __init__(self, part: AutoPart, reference: ReferenceModule,
                 student_answer: Callable[[str], Any], conventions: set[str]) -> None:
        self.part = part
        self.reference = reference
        self.student_answer = student_answer
        self.conventions = conventions

    def _applies(self, variant: Variant) -> bool:
        return variant.convention is None or variant.convention in self.conventions

    def _value_of(self, variant: Variant, case: dict[str, Any]) -> Any:
        if variant.reference is None:
            return variant.value
        function = self.reference.function(variant.reference, field="variant reference")
        uses = {name: self.student_answer(name) for name in variant.uses}
        return function(**case, **uses)

    def _variants(self, case: dict[str, Any]) -> list[tuple[Variant, float, Any]]:
        found = []
        for variant in [*self.part.alternatives, *self.part.mistakes]:
            if not self._applies(variant):
                continue
            try:
                value = self._value_of(variant, case)
            except Exception:  # a follow-through reference fed the student's junk
                continue
            if value is None:
                continue
            credit = 1.0 if isinstance(variant, Alternative) else variant.credit
            found.append((variant, credit, value))
        return found

    def judge(self, value: Any, expected: Any, case: dict[str, Any], *,
              reveal: bool) -> Judgement:
        primary = compare(self.part.check, value, expected, reveal=reveal)
        if primary.passed or not (self.part.mistakes or self.part.alternatives):
            return Judgement(primary)
        check = self.part.check
        if isinstance(check, ArrayCheck) and check.per_element:
            per_element = self._judge_elements(check, value, expected, primary, case)
            if per_element is not None:
                return per_element
        return self._judge_whole(value, primary, case)

    def _judge_whole(self, value: Any, primary: Verdict, case: dict[str, Any]) -> Judgement:
        best = Judgement(primary)
        for variant, credit, variant_value in self._variants(case):
            if not compare(self.part.check, value, variant_value, reveal=False).passed:
                continue
            if isinstance(variant, Alternative):
                established = {variant.establishes} if variant.establishes else set()
                return Judgement(Verdict.right(variant.note), [], established)
            if credit >= best.verdict.credit or not best.mistakes:
                best = Judgement(Verdict(max(credit, primary.credit), variant.feedback),
                                 [variant.id])
        return best

    def _judge_elements(self, check: ArrayCheck, value: Any, expected: Any, primary: Verdict,
                        case: dict[str, Any]) -> Judgement | None:
        student = _as_float_array(value)
        truth = _as_float_array(expected)
        if student is None or truth is None or student.shape != truth.shape or truth.size == 0:
            return None
        with np.errstate(all="ignore"):
            right = np.isclose(student, truth, rtol=check.rtol, atol=check.atol, equal_nan=True)
            credits = right.astype(float)
            notes, mistakes, established = [], [], set()
            for variant, credit, variant_value in self._variants(case):
                other = _as_float_array(variant_value)
                if other is None or other.shape != truth.shape:
                    continue
                matched = np.isclose(student, other, rtol=check.rtol, atol=check.atol) & ~right
                if not matched.any():
                    continue
                credits = np.where(matched, np.maximum(credits, credit), credits)
                count = int(matched.sum())
                if isinstance(variant, Alternative):
                    notes.append(variant.note)
                    if variant.establishes:
                        established.add(variant.establishes)
                else:
                    mistakes.append(variant.id)
                    cells = "entry" if count == 1 else "entries"
                    notes.append(f"{variant.feedback} ({count} {cells})")
        if not notes:
            return None
        credit = float(max(primary.credit, credits.mean()))
        feedback = "\n".join([primary.feedback, *notes]) if primary.feedback else "\n".join(notes)
        return Judgement(Verdict(min(credit, 1.0), feedback), mistakes, established)


def _as_float_array(value: Any) -> np.ndarray | None:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    return array
