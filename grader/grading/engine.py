"""Grading one submission: ask the sandbox for each target, judge it, collect the results.

The engine is the one code path behind `grader grade` (and later batch and Gradescope runs).
Every part is graded on its own: whatever the student's code does to one request (raise, loop,
crash, return junk) is caught at the request and costs only that part.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from grader import __version__
from grader.checks.property import PropertyCheck, run_predicate
from grader.checks.verdict import Verdict
from grader.errors import ReferenceModuleError
from grader.grading.case_answers import CaseAnswers
from grader.grading.custom_tests import custom_tests_not_run, run_custom_tests
from grader.grading.feedback import (
    case_feedback,
    cell_errors_note,
    function_feedback,
    reply_problem,
    review_feedback,
)
from grader.grading.results import GradeResult, PartResult, QuestionResult
from grader.grading.status import (
    ERROR,
    FAILED,
    GRADED,
    IMPORT_ERROR,
    MISSING_ENTRY,
    NOT_IMPLEMENTED,
    PARTIAL,
    PASSED,
    PENDING,
    UNREADABLE,
    Outcome,
)
from grader.grading.variants import Judgement, VariantJudge
from grader.rubric.budget import TimeBudget
from grader.rubric.model import (
    AutoPart,
    FunctionTarget,
    LoadedRubric,
    ManualPart,
    Mistake,
    Question,
)
from grader.sandbox.plan import NOTHING_PROTECTED, Protected
from grader.sandbox.runner import Launcher, Reply, SandboxSession
from grader.submission.formats.base import Reading
from grader.submission.staged import StagedSubmission
from grader.trusted import mutant_cache
from grader.trusted.answers import ListedAnswers, expected_constant
from grader.trusted.arguments import fresh
from grader.trusted.cases import RANDOM, Case, build_cases, derive_seed, part_rng, positional
from grader.trusted.mutation import lurking_mutants
from grader.trusted.reference import ReferenceModule

OUT_OF_TIME = (
    "not graded: the submission used up its time limit before this part (earlier parts ran slowly)"
)
NOT_REACHED = "not graded yet: grading stopped before this question"
MAX_CRASHES_PER_PART = 3


def read_only(value: Any) -> Any:
    """`value`, with the arrays in it made read-only: an answer shared by every submission's
    grading must fail loudly, not change silently, if anything tries to modify it."""
    if isinstance(value, np.ndarray):
        value.setflags(write=False)
    elif isinstance(value, (list, tuple)):
        for item in value:
            read_only(item)
    elif isinstance(value, dict):
        for item in value.values():
            read_only(item)
    return value


CANONICAL = "canonical answer"
"""What the reference computed, in a submission's CaseAnswers (a case has one reference)."""


def _read_only_answer(
    reference: Callable[..., Any], arguments: dict[str, Any]
) -> Callable[[], Any]:
    """The computation of a canonical answer, read-only since its uses share it. The reference
    gets a copy of the arguments: a random case's answer is computed when the case is drawn,
    before the student's function is called with these very arguments, so a reference that
    changed them in place would change the student's case."""
    return lambda: read_only(reference(**fresh(arguments)))


@functools.cache
def versions() -> dict[str, str]:
    """Package versions for results.json; cached, since reading package metadata costs 5 ms,
    which a batch would pay per submission."""
    found = {"grader": __version__, "numpy": np.__version__}
    for package in ("torch", "pydantic"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


@dataclass
class CaseTally:
    """What a function part's cases came to so far: a credit per case, and the feedback."""

    records: list[tuple[Case, float]] = field(default_factory=list)
    passed: Counter[str] = field(default_factory=Counter)
    messages: Counter[str] = field(default_factory=Counter)
    mistakes: list[str] = field(default_factory=list)
    unseen_mistakes: list[str] = field(default_factory=list)
    stopped: bool = False

    def judged(self, case: Case, judgement: Judgement, message: str | None) -> None:
        self.records.append((case, judgement.verdict.credit))
        self.mistakes += judgement.mistakes
        if not case.reveal:
            self.unseen_mistakes += judgement.mistakes
        if judgement.verdict.passed:
            self.passed[case.kind] += 1
        if message is not None:
            self.messages[message] += 1

    def made(self) -> list[str]:
        """The mistakes the answers were recognised as. Public cases are few and chosen to be
        simple, so two mistakes often meet there (padding ignored and padding added once give
        the same size when p = 1, s = 2); random cases are drawn to tell them apart. So when
        the unseen cases recognised mistakes, those are the ones made."""
        return sorted(set(self.unseen_mistakes or self.mistakes))

    def failed(self, case: Case, message: str) -> None:
        self.records.append((case, 0.0))
        self.messages[f"{case.label}: {message}"] += 1

    def stop(self, skipped: list[Case]) -> None:
        """The cases not run count as failed, so stopping early never raises the score."""
        self.stopped = True
        if skipped:
            self.messages[f"the remaining {len(skipped)} cases were not run"] += 1
        self.records += [(case, 0.0) for case in skipped]


def earned_credit(records: list[tuple[Case, float]]) -> float:
    """The credit rule: a function part's credit is the mean over the cases the student could
    not have seen or hard-coded (hidden and random). Public cases are worked examples whose
    expected outputs the student has, so they gate and teach but earn nothing: a failed public
    case caps the credit at the mean over all cases, so it always costs its share. A part with
    public cases only (which `grader validate` flags) falls back to the mean over them."""
    if not records:
        return 0.0
    every = [credit for _, credit in records]
    unseen = [credit for case, credit in records if not case.reveal]
    if not unseen:
        return sum(every) / len(every)
    credit = sum(unseen) / len(unseen)
    if any(credit < 1.0 for case, credit in records if case.reveal):
        credit = min(credit, sum(every) / len(every))
    return credit


class CrashPolicy:
    """When to give up on a part's remaining cases: after a timeout, since the next case would
    most likely spend its whole limit too and starve the parts after it, or after
    MAX_CRASHES_PER_PART crashes, each of which costs a child restart."""

    def __init__(self) -> None:
        self.crashes = 0

    def gives_up_after(self, reply: Reply) -> bool:
        self.crashes += reply.status == "crashed"
        return reply.status == "timeout" or self.crashes >= MAX_CRASHES_PER_PART


@dataclass
class PartRun:
    """One automatic part across the phases of a grading: its cases, the replies they got (one
    for a constant), and why no more were asked for."""

    q_index: int
    p_index: int
    part: AutoPart
    cases: list[Case] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    policy: CrashPolicy = field(default_factory=CrashPolicy)
    ended: bool = False
    """A reply made the rest pointless: missing, not callable, or the crash policy gave up."""
    out_of_time: bool = False
    """The time budget ran out before the cases after `replies` were asked."""
    failure: str | None = None
    """The rubric's or reference's fault (an internal error), not the student's."""
    asked_visible: bool = False
    seconds: float = 0.0

    @property
    def pending(self) -> bool:
        return not (self.ended or self.out_of_time or self.failure) and len(self.replies) < len(
            self.cases
        )


class Attempt:
    """The state of grading one submission: its sandbox, seed, and what was learnt so far.

    No process that has seen a hidden or random input may be alive while a process whose
    answers may be shown runs, or start before one does: whatever channel joins two live
    processes (a lock on a file both can open, IPC, CPU load) could otherwise carry the hidden
    input into visible feedback. So grading runs in three phases: every request whose answer
    may be shown (constants, public cases, the answers follow-through credit needs, custom
    tests), in the visible child; that child is then killed and reaped, and every hidden and
    random case is asked of a new child (`hidden`, in a work folder and as a uid of its own,
    or else a fresh child of the same session); finally everything is judged, in the trusted
    process, in the rubric's order, from the replies alone. Public cases come first in every
    part, so each part sees its cases in the same order as before the split, and the
    submission pays two child starts whatever the rubric.
    """

    def __init__(
        self,
        loaded: LoadedRubric,
        reference: ReferenceModule,
        session: SandboxSession | None,
        hidden: SandboxSession | None,
        seed: int,
        budget: TimeBudget,
        readings: Mapping[str, Reading] | None = None,
        sheet: bool = False,
        listed_answers: dict[tuple[int, int, str, int], Any] | None = None,
    ) -> None:
        """`readings` say how a written sheet's answers were read, target by target; `sheet`
        is True when the submission is one (a target it does not define was not answered);
        `listed_answers` keeps the canonical answers of listed cases across attempts."""
        self.loaded = loaded
        self.readings: Mapping[str, Reading] = readings or {}
        self.sheet = sheet
        self.listed_answers = {} if listed_answers is None else listed_answers
        self.rubric = loaded.rubric
        self.reference = reference
        self._visible = session
        self._hidden = hidden
        self._hidden_phase = False
        self.seed = seed
        self.budget = budget
        self.conventions: set[str] = set()
        self.internal_errors: list[str] = []
        self._answers: dict[str, Any] = {}
        self.case_answers = CaseAnswers()

    def sandbox(self, *, reveal: bool) -> SandboxSession:
        """The child for a request whose answer may be shown (reveal) or not. The first hidden
        request ends the visible child; a visible request after it is a bug in the grader."""
        assert self._visible is not None
        if reveal and self._hidden_phase:
            raise RuntimeError("a request whose answer may be shown came after hidden ones")
        if not reveal and not self._hidden_phase:
            self._visible.close()
            self._hidden_phase = True
        return self._hidden if self._hidden is not None and not reveal else self._visible

    def timeout(self, part: AutoPart) -> float:
        return self.budget.timeout(part.timeout or self.rubric.limits.call_timeout)

    def student_answer(self, target: str) -> Any:
        """The student's value of another constant, for follow-through credit (None if none):
        asked in the visible phase, remembered for judging."""
        if target not in self._answers and not self._hidden_phase:
            reply = self.sandbox(reveal=True).value(
                target, self.budget.timeout(self.rubric.limits.call_timeout)
            )
            self._answers[target] = reply.value if reply.ok else None
        return self._answers.get(target)

    def grade(self, progress: Callable[[list[QuestionResult]], None]) -> list[QuestionResult]:
        """Every question, then the custom tests. Each question is judged, and given to
        `progress`, as soon as it and every question before it have all their replies, so a
        grading stopped from outside still leaves the questions it finished."""
        runs = [
            PartRun(q_index, p_index, part)
            for q_index, question in enumerate(self.rubric.questions)
            for p_index, part in enumerate(question.parts)
            if isinstance(part, AutoPart)
        ]
        questions: list[QuestionResult] = []

        def judge_ready() -> None:
            while len(questions) < len(self.rubric.questions):
                mine = [run for run in runs if run.q_index == len(questions)]
                if any(not run.asked_visible or run.pending for run in mine):
                    return
                questions.append(self._judge_question(len(questions), mine))
                progress(questions)

        for run in runs:
            self._timed(run, self._ask_visible)
            run.asked_visible = True
            judge_ready()
        custom = []
        for tests in self.rubric.custom_tests:
            self.budget.start_unit()
            custom += run_custom_tests(
                self.loaded.custom_test_path(tests),
                self.reference,
                self.sandbox(reveal=True),
                lambda calls: self.budget.timeout(calls * self.rubric.limits.call_timeout),
            )
        for run in runs:
            if run.pending:
                self._timed(run, self._ask_hidden)
            judge_ready()
        judge_ready()
        if custom:
            questions += custom
            progress(questions)
        return questions

    def _judge_question(self, q_index: int, runs: list[PartRun]) -> QuestionResult:
        question = self.rubric.questions[q_index]
        result = QuestionResult(question.number, question.title, question.visibility)
        by_part = {run.p_index: run for run in runs}
        for p_index, part in enumerate(question.parts):
            if isinstance(part, ManualPart):
                result.parts.append(
                    PartResult(part.name, part.points, PENDING, feedback=[part.manual])
                )
                continue
            run = by_part[p_index]
            started = time.monotonic()
            outcome = self._judged(run)
            outcome.seconds = run.seconds + time.monotonic() - started
            result.parts.append(outcome)
        result.seconds = sum(part.seconds for part in result.parts)
        return result

    def _timed(self, run: PartRun, ask: Callable[[PartRun], None]) -> None:
        started = time.monotonic()
        try:
            ask(run)
        except Exception as error:  # the rubric's or reference's fault, not the student's
            run.failure = f"{type(error).__name__}: {error}"
        run.seconds += time.monotonic() - started

    def _ask_visible(self, run: PartRun) -> None:
        """The part's requests whose answers may be shown, and the student's other answers
        that its follow-through variants use."""
        part = run.part
        self.budget.start_unit()
        if self.budget.exhausted:
            run.out_of_time = True
            return
        if self._to_review(part) is not None:
            return  # nothing to ask: a TA decides
        if part.function is None:
            reply = self.sandbox(reveal=True).value(part.target, self.timeout(part))
            run.replies.append(reply)
            if reply.ok:
                self._answers[part.target] = reply.value
        else:
            rng = part_rng(self.seed, run.q_index, run.p_index)
            run.cases = build_cases(part.function, self.reference, rng, blind=self.blind_to(part))
            self._ask_cases(run, reveal_only=True)
        for variant in [*part.alternatives, *part.mistakes]:
            for name in variant.uses:
                self.student_answer(name)

    def _ask_hidden(self, run: PartRun) -> None:
        self.budget.start_unit()
        if self.budget.exhausted:
            run.out_of_time = True
            return
        self._ask_cases(run, reveal_only=False)

    def _ask_cases(self, run: PartRun, *, reveal_only: bool) -> None:
        """Ask the part's cases in order, until the crash policy gives up on the rest."""
        spec = run.part.function
        assert spec is not None
        while run.pending:
            case = run.cases[len(run.replies)]
            if reveal_only and not case.reveal:
                return
            reply = self._call(run.part.target, spec, case, self.timeout(run.part))
            run.replies.append(reply)
            if not reply.ok:
                status, _ = reply_problem(reply, run.part.target, reveal=case.reveal)
                run.ended = (
                    status == NOT_IMPLEMENTED
                    or reply.status == "not_callable"
                    or run.policy.gives_up_after(reply)
                )

    def _to_review(self, part: AutoPart) -> Reading | None:
        reading = self.readings.get(part.target)
        return reading if reading is not None and reading.status == "needs_review" else None

    def _judged(self, run: PartRun) -> PartResult:
        """The part's result; for an answer read from a sheet, pending review when it was not
        read surely, and otherwise saying first how it was read."""
        review = self._to_review(run.part)
        if review is not None:
            return PartResult(
                run.part.name,
                run.part.points,
                PENDING,
                target=run.part.target,
                feedback=[review_feedback(review)],
                review=review,
            )
        outcome = self._judged_reply(run)
        reading = self.readings.get(run.part.target)
        if reading is not None:
            outcome.feedback.insert(0, f"read as {reading.shown}, line {reading.line}")
        elif self.sheet and outcome.status == NOT_IMPLEMENTED:
            outcome.feedback = [
                "not answered: no answer to this part was found on your sheet (its section is "
                "missing or empty)"
            ]
        return outcome

    def _judged_reply(self, run: PartRun) -> PartResult:
        part = run.part
        failed = PartResult(part.name, part.points, ERROR, target=part.target)
        if run.out_of_time and not run.replies:
            failed.feedback.append(OUT_OF_TIME)
            return failed
        try:
            if run.failure is not None:
                raise ReferenceModuleError(run.failure)
            if part.function is None:
                return self.judge_constant(part, run.replies[0])
            return self.judge_function(run)
        except Exception as error:  # the rubric's or reference's fault, not the student's
            question = self.rubric.questions[run.q_index]
            detail = run.failure or f"{type(error).__name__}: {error}"
            self.internal_errors.append(f"{question.number} / {part.name}: {detail}")
            failed.feedback.append(
                "The grader could not grade this part; your instructor has been told."
            )
            return failed

    def _judge(
        self,
        part: AutoPart,
        value: Any,
        expected: Any,
        case: Case | None,
        judge: VariantJudge | None = None,
    ) -> Judgement:
        kwargs = case.kwargs if case is not None else {}
        if isinstance(part.check, PropertyCheck):
            predicate = self.reference.function(part.check.predicate, field="check.predicate")
            return Judgement(run_predicate(predicate, value, kwargs))
        if judge is None:
            judge = VariantJudge(
                part,
                self.reference,
                self.student_answer,
                self.conventions,
                answers=self.case_answers,
            )
        reveal = case is not None and case.reveal
        return judge.judge(value, expected, kwargs, reveal=reveal)

    def judge_constant(self, part: AutoPart, reply: Reply) -> PartResult:
        outcome = PartResult(part.name, part.points, FAILED, target=part.target)
        if not reply.ok:
            outcome.status, message = reply_problem(reply, part.target)
            outcome.feedback.append(message)
            return outcome
        if reply.value is None:
            outcome.status = NOT_IMPLEMENTED
            outcome.feedback.append(f"{part.target} is still None: not answered yet")
            return outcome
        expected = expected_constant(part, self.reference)
        judgement = self._judge(part, reply.value, expected, None)
        self.conventions |= judgement.established
        return self._finish(outcome, judgement.verdict.credit, judgement, [judgement.verdict])

    def judge_function(self, run: PartRun) -> PartResult:
        """Judge the replies the part's cases got, in order, as they would have been had each
        been judged on arrival."""
        part, cases = run.part, run.cases
        spec = part.function
        assert spec is not None
        reference = (
            self.reference.function(spec.reference, field="function.reference")
            if spec.reference
            else None
        )
        judge = VariantJudge(
            part,
            self.reference,
            self.student_answer,
            self.conventions,
            by_evidence=True,
            answers=self.case_answers,
        )
        expected_of = self._expected_values(run, reference)
        self.conventions |= self._conventions_shown(run, judge, expected_of)
        tally = CaseTally()
        policy = CrashPolicy()
        for position, (case, reply) in enumerate(zip(cases, run.replies, strict=False)):
            if reply.ok:
                expected = expected_of[position]
                judgement = self._judge(part, reply.value, expected, case, judge)
                tally.judged(
                    case, judgement, case_feedback(part, case, reply.value, expected, judgement)
                )
                continue
            status, message = reply_problem(reply, part.target, reveal=case.reveal)
            if status == NOT_IMPLEMENTED or reply.status == "not_callable":
                return PartResult(
                    part.name,
                    part.points,
                    status,
                    target=part.target,
                    feedback=[message],
                    cases_passed=0,
                    cases_total=len(cases),
                )
            tally.failed(case, message)
            if policy.gives_up_after(reply):
                tally.stop(cases[position + 1 :])
                break
        if run.out_of_time:
            tally.records += [(case, 0.0) for case in cases[len(run.replies) :]]
            tally.stopped = True
        records = self._evidence(part, judge, tally, expected_of)
        credit = earned_credit(records)
        feedback = function_feedback(cases, tally.passed, tally.messages)
        outcome = PartResult(
            part.name,
            part.points,
            ERROR if tally.stopped else FAILED,
            target=part.target,
            feedback=feedback + [OUT_OF_TIME] * run.out_of_time,
            cases_passed=sum(tally.passed.values()),
            cases_total=len(cases),
        )
        judgement = Judgement(Verdict(min(credit, 1.0)), tally.made())
        return self._finish(outcome, credit, judgement, [])

    def blind_to(self, part: AutoPart) -> Callable[[dict[str, Any]], int] | None:
        """How many known wrong answers a case cannot tell from the canonical one (see
        build_cases): the part's named mistakes and other conventions, each counted as more
        than all automatic mutants together, the named mistakes among themselves (so that the
        mistake a student is told of is the one they made), and the part's lurking mutants
        (trusted.mutation: generic wrong answers that are right on some cases), so a wrong
        answer cannot earn credit on a case where it happens to be right. None when the part
        has nothing to separate, or is judged by a predicate."""
        spec = part.function
        variants = [v for v in [*part.mistakes, *part.alternatives] if not v.uses]
        lurking = lurking_mutants(part, self.reference)
        if spec is None or spec.reference is None or not (variants or lurking):
            return None
        if isinstance(part.check, PropertyCheck):
            return None
        reference = self.reference.function(spec.reference, field="function.reference")
        judge = VariantJudge(
            part, self.reference, self.student_answer, set(), answers=self.case_answers
        )
        named_weight = len(lurking) + 1

        def blind(kwargs: dict[str, Any]) -> int:
            try:
                # the case build_cases keeps is this very dict: its answers are remembered
                exact = kwargs.keys() == set(spec.args)
                arguments = kwargs if exact else {name: kwargs[name] for name in spec.args}
                expected = self.case_answers.get(
                    arguments, CANONICAL, _read_only_answer(reference, arguments)
                )
            except Exception:  # the generator's fault; build_cases reports a missing argument
                return 0
            values = [judge.value_of(variant, arguments) for variant in variants]
            misses = sum(value is None or judge.same(value, expected) for value in values)
            pairs = zip(values, variants, strict=True)
            named = [value for value, variant in pairs if isinstance(variant, Mistake)]
            for position, value in enumerate(named):
                misses += value is not None and any(
                    other is not None and judge.same(value, other) for other in named[:position]
                )
            if misses:
                return misses * named_weight
            return sum(mutant.agrees(part, arguments, expected) for mutant in lurking)

        return blind

    def _expected_values(self, run: PartRun, reference: Callable[..., Any] | None) -> list[Any]:
        """The canonical answer of every case that got a reply (None for a property check).
        A listed (public or hidden) case's answer is the same for every submission: it is
        computed once per engine (a trained model's parameters cost milliseconds each); a
        random case's was computed when it was drawn (see blind_to), and is found again."""
        values: list[Any] = []
        for case, reply in zip(run.cases, run.replies, strict=False):
            if reference is None or not reply.ok:
                values.append(None)
            elif case.kind == RANDOM:
                values.append(
                    self.case_answers.get(
                        case.kwargs, CANONICAL, _read_only_answer(reference, case.kwargs)
                    )
                )
            else:
                key = (run.q_index, run.p_index, case.kind, case.index)
                if key not in self.listed_answers:
                    self.listed_answers[key] = read_only(reference(**case.kwargs))
                values.append(self.listed_answers[key])
        return values

    def _conventions_shown(
        self, run: PartRun, judge: VariantJudge, expected_of: list[Any]
    ) -> set[str]:
        """The conventions this part's answers establish. The evidence is the cases on which
        the convention's answer differs from the canonical one: the answer must match the
        convention on every one of them (a crash or another value there is no evidence), and
        at least one must be a case the student could not have seen, so one coincidental
        public case (n = 1, where two conventions meet) establishes nothing."""
        if isinstance(run.part.check, PropertyCheck):
            return set()
        shown = set()
        for variant in run.part.alternatives:
            if not variant.establishes or not judge.applies_before_evidence(variant):
                continue
            telling = matched = unseen = 0
            for position, (case, reply) in enumerate(zip(run.cases, run.replies, strict=False)):
                if not judge.differs(variant, expected_of[position], case.kwargs):
                    continue
                telling += 1
                if reply.ok and judge.matches_variant(variant, reply.value, case.kwargs):
                    matched += 1
                    unseen += not case.reveal
            if telling and matched == telling and unseen:
                shown.add(variant.establishes)
        return shown

    @staticmethod
    def _evidence(
        part: AutoPart, judge: VariantJudge, tally: CaseTally, expected_of: list[Any]
    ) -> list[tuple[Case, float]]:
        """The judged cases that are evidence for the part's credit. A named mistake the answer
        was recognised as is judged only on the cases where it differs from the truth: on the
        others, making the mistake and being right look the same, so they would pay full credit
        for it."""
        made = [mistake for mistake in part.mistakes if mistake.id in tally.made()]
        if not made:
            return tally.records
        kept = []
        for position, (case, credit) in enumerate(tally.records):
            expected = expected_of[position] if position < len(expected_of) else None
            blind = expected is not None and any(
                not judge.differs(mistake, expected, case.kwargs) for mistake in made
            )
            if not blind:
                kept.append((case, credit))
        return kept or tally.records

    def _call(self, target: str, spec: FunctionTarget, case: Case, timeout: float) -> Reply:
        """One case's call, in the child the case may be shown from. A harness failure the
        sandbox confirmed in a clean child (`graders_fault`) is the course's fault, so it is
        reported to the instructor as well; any other could have been forged by the student."""
        reply = self.sandbox(reveal=case.reveal).call(
            target, positional(spec, case), timeout, harness=spec.harness
        )
        if reply.status == "harness_error" and reply.graders_fault:
            self.internal_errors.append(
                f"harness {spec.harness}: {reply.error_type} "
                f"{reply.message} {reply.traceback}".strip()
            )
        return reply

    @staticmethod
    def _finish(
        outcome: PartResult, credit: float, judgement: Judgement, verdicts: list[Verdict]
    ) -> PartResult:
        outcome.credit = credit
        outcome.mistakes = judgement.mistakes
        outcome.feedback += [v.feedback for v in verdicts if v.feedback]
        if judgement.verdict.passed:
            outcome.status = PASSED
        elif credit > 0:
            outcome.status = PARTIAL
        elif outcome.status != ERROR:
            outcome.status = FAILED
        return outcome


@dataclass(frozen=True)
class Graded:
    """What grading the questions came to: the questions, how far it got, notes for the top
    of the report, the grader's own errors, and the sandbox layers the child reported."""

    questions: list[QuestionResult]
    outcome: Outcome
    notes: list[str] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)
    layers: dict[str, Any] = field(default_factory=dict)

    def replace(self, questions: list[QuestionResult]) -> Graded:
        return Graded(questions, self.outcome, self.notes, self.internal_errors, self.layers)


def _ungraded(question: Question, reason: str) -> QuestionResult:
    result = QuestionResult(question.number, question.title, question.visibility)
    for part in question.parts:
        if isinstance(part, ManualPart):
            result.parts.append(PartResult(part.name, part.points, PENDING, feedback=[part.manual]))
        else:
            result.parts.append(
                PartResult(part.name, part.points, ERROR, target=part.target, feedback=[reason])
            )
    return result


def import_failure_note(reply: Reply, entry: str) -> str:
    lines = [f"Your {entry} could not be imported, so none of its answers could be graded."]
    if reply.status == "import_error":
        lines += [reply.traceback.rstrip(), f"{reply.error_type}: {reply.message}"]
    else:
        lines.append(reply.message)
    lines = [line for line in lines if line]
    if reply.output.strip():
        lines.append("It printed:\n" + reply.output.strip()[-1500:])
    return "\n".join(lines)


def python_source(submission: StagedSubmission) -> bool:
    """Whether the submission's entry is a .py module, whose answers defined before an
    import-time error are graded (see child_main.Child.import_submission)."""
    entry = submission.located.entry
    return entry is not None and entry.suffix == ".py"


def partial_import_note(reply: Reply, entry: str) -> str:
    """The note for a submission that raised while being imported after defining answers: the
    answers defined before the error are graded; the error is shown here, once."""
    lines = [
        f"Your {entry} raised an error while being imported. The answers it defined before the "
        "error were graded; anything defined after it counts as not defined.",
        reply.traceback.rstrip(),
        f"{reply.error_type}: {reply.message}",
    ]
    return "\n".join(line for line in lines if line)


def read_harness(loaded: LoadedRubric) -> str | None:
    """The harness module's source, which is sent to (never imported by) the grader."""
    path = loaded.harness_path
    if path is None:
        return None
    try:
        return path.read_text()
    except OSError as error:
        raise ReferenceModuleError(
            f"{path}: cannot read the harness module ({error.strerror})"
        ) from None


class Engine:
    """Grades submissions against one rubric and its reference module."""

    def __init__(
        self,
        loaded: LoadedRubric,
        reference: ReferenceModule,
        *,
        policy: str = "lenient",
        launcher: Launcher | None = None,
        one_child_at_a_time: bool = True,
        protected: Protected = NOTHING_PROTECTED,
        listed_answers: ListedAnswers | None = None,
    ) -> None:
        """`launcher` starts the sandboxed children (a fresh interpreter each by default).
        Either way only one child is alive at a time (see Attempt); with
        `one_child_at_a_time=False` the hidden phase's child also gets a work folder and, as
        root, a uid of its own (every session claims one: sandbox.identities).
        `protected` names what, besides the course files, no child may read or write: the
        caller's input and outputs. `listed_answers` are listed cases' canonical answers
        already computed with this reference (by validation: trusted.validate), not computed
        again."""
        self.loaded = loaded
        self.reference = reference
        self.policy = policy
        self.launcher = launcher
        self.one_child_at_a_time = one_child_at_a_time
        course = [loaded.path, loaded.reference_path, loaded.harness_path]
        course += [loaded.custom_test_path(tests) for tests in loaded.rubric.custom_tests]
        folders = tuple(sorted({str(path.parent) for path in course if path is not None}))
        # The lurking-mutant cache names the reference's helpers and what changing them does,
        # and decides which random cases are drawn: no child may read or write it.
        cache = mutant_cache.cache_folder()
        mutants = (str(cache),) if cache is not None else ()
        self.protected = Protected(secret=folders + mutants, outputs=mutants) + protected
        self.harness_source = read_harness(loaded)
        self.limits = loaded.rubric.limits.sandbox_limits()
        for _, part in loaded.rubric.auto_parts():
            lurking_mutants(part, reference)  # once per process: every submission draws with them
        self.listed_answers: ListedAnswers = {
            key: read_only(value) for key, value in (listed_answers or {}).items()
        }

    def grade(
        self,
        submission: StagedSubmission,
        *,
        on_progress: Callable[[GradeResult], None] | None = None,
    ) -> GradeResult:
        """Grade one staged submission. `on_progress`, if given, receives a complete result
        after every question, the questions not reached yet marked as such, so that a caller
        can keep a valid results file on disk however grading ends."""
        started = time.monotonic()
        seed = derive_seed(self.loaded.rubric.seed, submission.id)

        def result(graded: Graded) -> GradeResult:
            return self._result(submission, seed, graded, time.monotonic() - started)

        if not submission.readable:
            graded = self._unreadable(submission)
        elif on_progress is None:
            graded = self._run(submission, seed, lambda graded: None)
        else:
            report = on_progress
            not_reached = self._ungraded(NOT_REACHED)

            def progress(graded: Graded) -> None:
                done = graded.questions
                report(result(graded.replace(done + not_reached[len(done) :])))

            graded = self._run(submission, seed, progress)
        return result(graded)

    def _result(
        self, submission: StagedSubmission, seed: int, graded: Graded, seconds: float
    ) -> GradeResult:
        rubric = self.loaded.rubric
        return GradeResult(
            assignment=rubric.assignment,
            title=rubric.title,
            questions=list(graded.questions),
            seed=seed,
            rubric_sha256=self.loaded.sha256,
            submission_sha256=submission.located.content_sha256,
            versions=dict(versions()),
            sandbox={**self._no_code_run(), **graded.layers},
            notes=[*graded.notes, *submission.located.notes],
            internal_errors=list(graded.internal_errors),
            execution_time=seconds,
            outcome=graded.outcome,
        )

    def _no_code_run(self) -> dict[str, Any]:
        """The sandbox layers of a grading in which no child started."""
        return {
            "policy": self.policy,
            "applied": [],
            "unavailable": {"all": "no student code was run"},
        }

    def _unreadable(self, submission: StagedSubmission) -> Graded:
        if submission.located.problem is None:
            reason = f"not graded: {self.loaded.rubric.submission.entry} is missing"
            outcome: Outcome = MISSING_ENTRY
        else:
            reason = "not graded: your submission could not be read (see the top)"
            outcome = UNREADABLE
        return Graded(self._ungraded(reason), outcome, notes=[submission.why_unreadable()])

    def _run(
        self, submission: StagedSubmission, seed: int, progress: Callable[[Graded], None]
    ) -> Graded:
        """Import the submission in its sandboxed children and grade every question."""
        entry = submission.entry_name
        budget = self._budget()  # the import's time counts against the submission's limit
        with contextlib.ExitStack() as sessions:
            session = sessions.enter_context(self._session(submission.workdir(), entry))
            hidden = (
                None
                if self.one_child_at_a_time
                else sessions.enter_context(self._session(submission.workdir(), entry))
            )
            imported = session.start()
            partial = imported.ok and bool(imported.error_type)
            if partial and not python_source(submission):
                # a notebook's cells are run and reported cell by cell by its own format; a
                # partial import keeps its old meaning there: the import failed
                imported.status = "import_error"
                session.close()
            if not imported.ok:
                return Graded(
                    self._ungraded(
                        "not graded: your submission could not be imported (see the top)"
                    ),
                    IMPORT_ERROR,
                    notes=[import_failure_note(imported, submission.handed_in_name)],
                    layers=session.layers,
                )
            notes = [partial_import_note(imported, submission.handed_in_name)] if partial else []
            located = submission.located
            attempt = Attempt(
                self.loaded,
                self.reference,
                session,
                hidden,
                seed,
                budget,
                readings=located.readings,
                sheet=located.sheet,
                listed_answers=self.listed_answers,
            )
            cells_failed = cell_errors_note(imported, submission.handed_in_name)

            def graded(questions: list[QuestionResult]) -> Graded:
                return Graded(
                    list(questions),
                    GRADED,
                    notes=[*notes, *cells_failed],
                    internal_errors=list(attempt.internal_errors),
                    layers=session.layers,
                )

            progress(graded([]))
            return graded(attempt.grade(lambda questions: progress(graded(questions))))

    def _budget(self) -> TimeBudget:
        """A unit per part and per custom test module, and one more per part with hidden or
        random cases, which are asked in a phase of their own (see Attempt)."""
        rubric = self.loaded.rubric
        parts = [part for _, part in rubric.auto_parts()]
        hidden_units = sum(
            part.function is not None and bool(part.function.hidden or part.function.random)
            for part in parts
        )
        return TimeBudget(
            rubric.limits.total_seconds, len(parts) + hidden_units + len(rubric.custom_tests)
        )

    def _session(self, workdir: Path, entry: str) -> SandboxSession:
        return SandboxSession(
            workdir,
            entry,
            self.limits,
            self.harness_source,
            self.policy,
            self.launcher,
            self.protected,
        )

    def _ungraded(self, reason: str) -> list[QuestionResult]:
        """Every question (custom tests included) at zero with the reason: the same tests are
        reported whatever the submission did."""
        questions = [_ungraded(q, reason) for q in self.loaded.rubric.questions]
        for tests in self.loaded.rubric.custom_tests:
            questions += custom_tests_not_run(
                self.loaded.custom_test_path(tests), self.reference, reason
            )
        return questions
