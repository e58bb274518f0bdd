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

from grader.checks import compare, kind_of
from grader.checks.each import as_items
from grader.checks.verdict import Verdict
from grader.grading.case_answers import CaseAnswers
from grader.grading.structure import is_genuine, is_placeholder, transformations
from grader.rubric.model import Alternative, AutoPart, Mistake, Variant
from grader.trusted.answers import constant_value
from grader.trusted.arguments import fresh
from grader.trusted.reference import ReferenceModule


@dataclass
class Judgement:
    """A verdict plus what it was based on: mistakes recognised, conventions seen."""

    verdict: Verdict
    mistakes: list[str] = field(default_factory=list)
    established: set[str] = field(default_factory=set)


class VariantJudge:
    """Judges one part's answers; `student_answer(target)` fetches the student's other answers
    for follow-through variants, and `conventions` holds the conventions seen so far."""

    def __init__(
        self,
        part: AutoPart,
        reference: ReferenceModule,
        student_answer: Callable[[str], Any],
        conventions: set[str],
        *,
        by_evidence: bool = False,
        answers: CaseAnswers | None = None,
    ) -> None:
        """`by_evidence`: conventions were weighed over all the part's cases beforehand (see
        `shows_convention`), so an alternative that establishes a convention is accepted on a
        case only when the convention was established; one coincidental case is no evidence.
        `answers` remembers the variants' answers on the submission's cases: judging asks for
        each several times, and drawing the case already computed it."""
        self.part = part
        self.reference = reference
        self.student_answer = student_answer
        self.conventions = conventions
        self.by_evidence = by_evidence
        self.answers = answers

    def _applies(self, variant: Variant) -> bool:
        if variant.convention is not None and variant.convention not in self.conventions:
            return False
        establishes = variant.establishes if isinstance(variant, Alternative) else None
        return not (self.by_evidence and establishes and establishes not in self.conventions)

    def applies_before_evidence(self, variant: Variant) -> bool:
        """Whether the variant may be weighed at all: its required convention is established."""
        return variant.convention is None or variant.convention in self.conventions

    def value_of(self, variant: Variant, case: dict[str, Any]) -> Any:
        """The variant's answer on a case (None when it has none, or cannot be computed). A
        follow-through variant (one that `uses` the student's answers) is never remembered."""
        if self.answers is None or not case or variant.uses:
            return self._value_or_none(variant, case)
        # A copy: a drawn case's variants are computed before the student's function is called
        # with the same arguments, which a variant changing them in place would change.
        return self.answers.get(
            case,
            ("variant", id(variant)),
            lambda: self._value_or_none(variant, fresh(case)),
        )

    def _value_or_none(self, variant: Variant, case: dict[str, Any]) -> Any:
        try:
            return self._value_of(variant, case)
        except Exception:  # a follow-through reference fed the student's junk
            return None

    def differs(self, variant: Variant, expected: Any, case: dict[str, Any]) -> bool:
        """Whether the variant's answer on this case can be told from the canonical one: only
        such cases are evidence that a student made the mistake or follows the convention."""
        value = self.value_of(variant, case)
        return value is not None and not self._matches(value, expected)

    def same(self, value: Any, other: Any) -> bool:
        """Whether two answers to the part are the same answer under its check."""
        return self._matches(value, other)

    def matches_variant(self, variant: Variant, value: Any, case: dict[str, Any]) -> bool:
        other = self.value_of(variant, case)
        return other is not None and self._matches(value, other)

    def _value_of(self, variant: Variant, case: dict[str, Any]) -> Any:
        if variant.reference is None or not (case or variant.uses):
            return constant_value(variant, self.reference, field="variant reference")
        function = self.reference.function(variant.reference, field="variant reference")
        uses = {name: self.student_answer(name) for name in variant.uses}
        if not all(is_genuine(answer) for answer in uses.values()):
            return None  # follow-through rests on an attempt, not on a placeholder
        return function(**case, **uses)

    def _variants(self, case: dict[str, Any]) -> list[tuple[Variant, float, Any]]:
        found = []
        for variant in [*self.part.alternatives, *self.part.mistakes]:
            if not self._applies(variant):
                continue
            value = self.value_of(variant, case)
            if value is None:
                continue
            credit = variant.credit if isinstance(variant, Mistake) else 1.0
            found.append((variant, credit, value))
        return found

    def judge(self, value: Any, expected: Any, case: dict[str, Any], *, reveal: bool) -> Judgement:
        primary = compare(self.part.check, value, expected, reveal=reveal)
        if primary.passed:
            return Judgement(primary)
        whole = self._judge_structure(value, expected, primary, case)
        if whole is not None:
            return whole
        if not (self.part.mistakes or self.part.alternatives):
            return Judgement(primary)
        itemised = self._judge_items(value, expected, primary, case)
        return itemised if itemised is not None else self._judge_whole(value, primary, case)

    def _judge_structure(
        self, value: Any, expected: Any, primary: Verdict, case: dict[str, Any]
    ) -> Judgement | None:
        """An answer that is, as a whole, a wrong transformation of the right one or a
        placeholder earns nothing from the cells that match by coincidence: a named mistake it
        equals gives that mistake's credit, anything else nothing (see grading.structure). A
        named mistake whose numbers are all the same ([1, 1, 1] / 3) is that mistake, not a
        placeholder.
        None when the answer is neither, and per-element credit applies."""
        if primary.credit <= 0.0 and not (self.part.mistakes or self.part.alternatives):
            return None  # nothing to take back, nothing to name
        named = [v for v in self._variants(case) if self._matches(value, v[2])]
        if is_placeholder(value, expected) and not named:
            return Judgement(
                Verdict(
                    0.0, "This looks like a placeholder (every number is the same), not an answer."
                )
            )
        for words, transformed in transformations(expected):
            if not self._matches(value, transformed):
                continue
            for variant, credit, _ in named:
                if isinstance(variant, Alternative):
                    return Judgement(Verdict.right(variant.note))
                assert isinstance(variant, Mistake)
                return Judgement(Verdict(credit, variant.feedback), [variant.id])
            return Judgement(Verdict(0.0, f"Your answer is the right one {words}."))
        return None

    def _judge_whole(self, value: Any, primary: Verdict, case: dict[str, Any]) -> Judgement:
        best = Judgement(primary)
        for variant, credit, variant_value in self._variants(case):
            if not self._matches(value, variant_value):
                continue
            if isinstance(variant, Alternative):
                established = {variant.establishes} if variant.establishes else set()
                return Judgement(Verdict.right(variant.note), [], established)
            assert isinstance(variant, Mistake)  # a variant is an alternative or a mistake
            better = credit > max(best.verdict.credit, primary.credit) if best.mistakes else True
            if better:  # the first listed of equally good mistakes is the one reported
                best = Judgement(
                    Verdict(max(credit, primary.credit), variant.feedback), [variant.id]
                )
        return best

    def _matches(self, value: Any, variant_value: Any) -> bool:
        """Whether the answer equals a variant; a variant computed from the student's own junk
        (follow-through) may not even be comparable, and then it simply does not match."""
        try:
            return compare(self.part.check, value, variant_value, reveal=False).passed
        except (TypeError, ValueError):
            return False

    def _judge_items(
        self, value: Any, expected: Any, primary: Verdict, case: dict[str, Any]
    ) -> Judgement | None:
        """Match variants item by item (a table's cells, a network's layers)."""
        scorer = kind_of(self.part.check).items(self.part.check)
        if scorer is None:
            return None
        split, score = scorer.split, scorer.score
        student, truth = split(value), split(expected)
        if student is None or truth is None or not truth or _layout(value) != _layout(expected):
            return None
        with np.errstate(all="ignore"):
            credits = [score(s, t) for s, t in zip(student, truth, strict=True)]
            wrong = [credit < 1.0 for credit in credits]
            notes, mistakes, established = [], [], set()
            whole_mistake = False
            # In a matrix, a transposed or flipped truth is one mistake of the whole, never a
            # mistake of single cells; the items of a list (layers) are answers of their own.
            cells = getattr(self.part.check, "kind", None) == "array"
            structural = [value for _, value in transformations(expected)] if cells else []
            for variant, credit, variant_value in self._variants(case):
                other = split(variant_value)
                if other is None or _layout(variant_value) != _layout(expected):
                    continue
                if any(self._matches(variant_value, value) for value in structural):
                    continue  # a transposed or flipped truth is judged whole, never by cell
                matched = [
                    i
                    for i, (s, o) in enumerate(zip(student, other, strict=True))
                    if wrong[i] and score(s, o) >= 1.0
                ]
                if not matched:
                    continue
                for i in matched:
                    credits[i] = max(credits[i], credit)
                cells = "item" if len(matched) == 1 else "items"
                if isinstance(variant, Alternative):
                    notes.append(variant.note)
                    if variant.establishes:
                        established.add(variant.establishes)
                elif isinstance(variant, Mistake):
                    mistakes.append(variant.id)
                    notes.append(f"{variant.feedback} ({len(matched)} {cells})")
                    right = [score(s, t) >= 1.0 for s, t in zip(student, truth, strict=True)]
                    whole = all(score(s, o) >= 1.0 for s, o in zip(student, other, strict=True))
                    if whole and all(_is_zero(truth[i]) for i, ok in enumerate(right) if ok):
                        # The whole answer is this mistake and it is right only where the truth
                        # is zero (a pooling layer has no weights, with or without biases):
                        # those items are a coincidence, not work, and earn the mistake's
                        # credit. Right non-zero items show the zeros were worked out too.
                        whole_mistake = True
                        for i, item in enumerate(truth):
                            if _is_zero(item):
                                credits[i] = min(credits[i], credit)
        if not notes:
            return None
        items_credit = sum(credits) / len(credits)
        credit = items_credit if whole_mistake else max(primary.credit, items_credit)
        feedback = "\n".join([primary.feedback, *notes]) if primary.feedback else "\n".join(notes)
        return Judgement(Verdict(min(credit, 1.0), feedback), mistakes, established)


def _is_zero(item: Any) -> bool:
    """Whether an item of the truth is numerically all zeros."""
    try:
        array = np.asarray(item, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return False
    return array.size > 0 and not np.any(array)


def _layout(value: Any) -> tuple[int, ...] | None:
    """The shape items are laid out in: an array's shape, a list's length."""
    try:
        return np.shape(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError, OverflowError):
        items = as_items(value)
        return None if items is None else (len(items),)
