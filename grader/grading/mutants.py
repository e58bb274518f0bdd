"""Mutation analysis of a rubric: how well do its cases and checks tell wrong answers apart?

`grader mutants RUBRIC` takes each reference function a part is judged against (a function
part's reference, a constant's answer function) and the module functions it calls, makes
automatic mutants of them with grader.trusted.mutation (factors 2 and 1/2, +-1 on integers
(n <-> d indices, off-by-one loop counts), + <-> -, * <-> /, true -> integer division, dropped
terms, dropped signs, dropped transposes and flips, swapped arguments, < <-> <=, a negated
result), and grades each
mutant's answers exactly as a submission's would be graded, in this process (the reference is
trusted code, and so are its mutants). A mutant that earns more than the threshold survives;
one that gives the canonical answer on every case drawn, and on a further sample of random
cases, is counted as equivalent and left out of the score. The report lists each survivor with
the cases that let it through: what the rubric's author should add or redraw.

Each mutant call runs under the screening's line budget (trusted.line_budget): past
max(20 x the reference's lines on the same case, 10,000) lines it is stopped and answers as a
submission that timed out, so a mutant whose loop never ends cannot hang the analysis.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.checks import compare
from grader.checks.property import PropertyCheck
from grader.errors import ReferenceModuleError
from grader.grading.engine import Attempt, PartRun
from grader.rubric.budget import TimeBudget
from grader.rubric.model import AutoPart, LoadedRubric
from grader.sandbox import wire
from grader.sandbox.runner import Reply
from grader.trusted.arguments import fresh
from grader.trusted.cases import build_cases, part_rng
from grader.trusted.line_budget import OverBudget, budget_for, counted_call
from grader.trusted.mutation import course_files, mutants_of
from grader.trusted.reference import ReferenceModule
from grader.trusted.shared_answers import identical

DEFAULT_THRESHOLD = 0.5
"""Credit a mutant may earn and still count as caught: a named mistake may pay half."""
PROBES = 30
"""Further random cases a full-credit mutant is tried on before it is called equivalent."""
SEED = 413


@dataclass
class MutantResult:
    part: str
    where: str
    change: str
    credit: float
    equivalent: bool = False
    deserved: float = 0.0
    """What the answer earns item by item alone (a table with one wrong cell of nine: 8/9): a
    TA gives that much, so only credit beyond it, and beyond the threshold, is over-credit."""
    through: list[str] = field(default_factory=list)
    """The cases on which the mutant's answer passed: the ones that let it through."""


@dataclass
class MutationReport:
    threshold: float
    results: list[MutantResult] = field(default_factory=list)

    @property
    def judged(self) -> list[MutantResult]:
        return [r for r in self.results if not r.equivalent]

    @property
    def survivors(self) -> list[MutantResult]:
        return [r for r in self.judged if r.credit > max(self.threshold, r.deserved) + 1e-9]

    @property
    def score(self) -> float:
        judged = self.judged
        return 1.0 if not judged else 1.0 - len(self.survivors) / len(judged)


# --- grading mutants ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Bounded:
    """How a mutant of `truth` is called: counted in the course's `files`, and stopped past
    the line budget the reference's own count on the same case gives (line_budget)."""

    truth: Callable[..., Any]
    files: frozenset[str]
    what: str
    counted: dict[str, int] = field(default_factory=dict)
    """The reference's lines on each case met, by the case's exact encoding: every mutant of a
    part meets the same cases, and counting the reference again for each doubled the run."""

    def reply(self, mutant: Callable[..., Any], kwargs: dict[str, Any]) -> Reply:
        """The mutant's answer as the sandbox would give it; over its budget, a timeout."""
        limit = budget_for(self._reference_lines(kwargs))
        try:
            with np.errstate(all="ignore"):
                value, _ = counted_call(mutant, fresh(kwargs), self.files, limit, self.what)
        except OverBudget:
            return Reply("timeout", error_type="OverBudget", message=f"ran over {limit} lines")
        except ReferenceModuleError:
            raise  # the safety cap: the rubric's author must hear of it
        except Exception as error:
            return Reply("exception", error_type=type(error).__name__, message=str(error)[:200])
        return Reply("ok", value)

    def _reference_lines(self, kwargs: dict[str, Any]) -> int:
        key = _exact_key(kwargs)
        if key is not None and key in self.counted:
            return self.counted[key]
        with np.errstate(all="ignore"):
            _, lines = counted_call(self.truth, fresh(kwargs), self.files, what=self.what)
        if key is not None:
            self.counted[key] = lines
        return lines


def _exact_key(kwargs: dict[str, Any]) -> str | None:
    """The case's wire encoding as text when it holds the case exactly (identical types, dtypes
    and bytes once decoded); None for anything else (a tensor), counted afresh each time."""
    try:
        data = wire.encode(kwargs)
    except wire.WireError:
        return None
    return json.dumps(data, sort_keys=True) if identical(wire.decode(data), kwargs) else None


def judge_part(
    attempt: Attempt, q_index: int, p_index: int, part: AutoPart, answer: Any, bounded: Bounded
) -> tuple[float, list[str]]:
    """The credit an answer (a value, or a function for a function part) earns on a part, and
    the cases it passed, judged as the engine judges a submission's replies."""
    if part.function is None:
        reply = Reply("ok", answer) if not isinstance(answer, Reply) else answer
        result = attempt.judge_constant(part, reply)
        return result.credit, ["the value"] if result.credit >= 1.0 else []
    spec = part.function
    run = PartRun(q_index, p_index, part)
    rng = part_rng(attempt.seed, q_index, p_index)
    run.cases = build_cases(spec, attempt.reference, rng, blind=attempt.blind_to(part))
    run.replies = [bounded.reply(answer, case.kwargs) for case in run.cases]
    result = attempt.judge_function(run)
    credit = result.credit if result.status != "error" else 0.0
    passed = []
    if spec.reference is not None and not isinstance(part.check, PropertyCheck):
        truth = attempt.reference.function(spec.reference, field="function.reference")
        for case, reply in zip(run.cases, run.replies, strict=True):
            if reply.ok and _same(part, reply.value, truth(**case.kwargs)):
                passed.append(case.label)
    return credit, passed


def _same(part: AutoPart, value: Any, expected: Any) -> bool:
    try:
        with np.errstate(all="ignore"):
            return compare(part.check, value, expected, reveal=False).passed
    except Exception:
        return False


def _item_credit(part: AutoPart, reply: Reply, expected: Any) -> float:
    """The plain check's own credit for a constant (item by item for a table, a list of
    layers, a select-all), before any variant or structure is considered."""
    if not reply.ok:
        return 0.0
    try:
        with np.errstate(all="ignore"):
            return compare(part.check, reply.value, expected, reveal=False).credit
    except Exception:
        return 0.0


def _is_named(attempt: Attempt, part: AutoPart, reply: Reply) -> bool:
    """Whether a constant's answer is, as a whole, one of the part's named mistakes: it earns
    what the rubric promises for it, which mutation analysis does not second-guess."""
    if not reply.ok:
        return False
    for mistake in part.mistakes:
        if mistake.uses:
            continue
        try:
            value = (
                attempt.reference.constant(mistake.reference, field="mistake")
                if (mistake.reference)
                else mistake.value
            )
        except Exception:
            continue
        if _same(part, reply.value, value):
            return True
    return False


def _equivalent(
    attempt: Attempt, part: AutoPart, mutant: Callable[..., Any], bounded: Bounded
) -> bool:
    """Whether a full-credit mutant gives the canonical answer on a fresh sample of cases too
    (for a constant: it is the canonical value)."""
    spec = part.function
    if spec is None:
        return True
    if spec.random is None:
        return False  # nothing to probe it on: the listed cases are all the evidence there is
    generator = attempt.reference.function(spec.random.generator, field="generator")
    rng = np.random.default_rng(SEED + 1)
    for _ in range(PROBES):
        kwargs = {k: v for k, v in generator(rng).items() if k in spec.args}
        reply = bounded.reply(mutant, kwargs)
        if not reply.ok or not _same(part, reply.value, bounded.truth(**kwargs)):
            return False
    return True


def analyse(
    loaded: LoadedRubric,
    reference: ReferenceModule,
    threshold: float = DEFAULT_THRESHOLD,
    progress: Callable[[str], None] = lambda text: None,
) -> MutationReport:
    """Mutate every part's reference and grade each mutant; see the module's docstring."""
    report = MutationReport(threshold)
    for q_index, question in enumerate(loaded.rubric.questions):
        for p_index, part in enumerate(question.parts):
            if not isinstance(part, AutoPart) or isinstance(part.check, PropertyCheck):
                continue
            if part.function is not None:
                name = part.function.reference
            else:
                name = part.answer.reference if part.answer is not None else None
            if name is None:
                continue
            label = f"{question.number} {part.target}"
            progress(label)
            truth = reference.function(name, field="mutants")
            bounded = Bounded(truth, course_files(name, reference), f"{reference.path}: {name}")
            for where, change, mutant in mutants_of(name, reference):
                attempt = Attempt(loaded, reference, None, None, SEED, TimeBudget(600, 1))
                attempt._hidden_phase = True  # no sandbox: follow-through answers are None
                deserved = 0.0
                if part.function is None:
                    reply = bounded.reply(mutant, {})
                    credit, through = judge_part(attempt, q_index, p_index, part, reply, bounded)
                    deserved = _item_credit(part, reply, truth())
                    if _is_named(attempt, part, reply):
                        deserved = max(deserved, credit)  # the rubric's own promise
                else:
                    credit, through = judge_part(attempt, q_index, p_index, part, mutant, bounded)
                result = MutantResult(
                    label, where, change, credit, deserved=deserved, through=through
                )
                if credit >= 1.0:
                    result.equivalent = _equivalent(attempt, part, mutant, bounded)
                report.results.append(result)
    return report


def render(report: MutationReport) -> str:
    judged, survivors = report.judged, report.survivors
    lines = [
        f"{len(report.results)} mutants, {len(report.results) - len(judged)} equivalent "
        f"(the canonical answer on every case and {PROBES} more), {len(judged)} judged; "
        f"{len(judged) - len(survivors)} caught (credit <= {report.threshold:g}), "
        f"{len(survivors)} survived: mutation score {report.score:.1%}"
    ]
    for result in survivors:
        through = ", ".join(result.through[:6]) or "partial credit on several cases"
        lines.append(
            f"SURVIVED {result.part}: {result.where} {result.change}: credit "
            f"{result.credit:.3f}; let through by {through}"
        )
    return "\n".join(lines)
