"""Grading one submission: ask the sandbox for each target, judge it, collect the results.

The engine is the one code path behind `grader grade` (and later batch and Gradescope runs).
Every part is graded on its own: whatever the student's code does to one request (raise, loop,
crash, return junk) is caught at the request and costs only that part.
"""

from __future__ import annotations

import contextlib
import functools
import math
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from grader import __version__
from grader.checks.specs import PropertyCheck
from grader.checks.verdict import Verdict
from grader.errors import ReferenceModuleError
from grader.grading.custom_tests import custom_tests_not_run, run_custom_tests
from grader.grading.feedback import hidden_case_feedback, reply_problem, short_repr
from grader.grading.results import (
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
    GradeResult,
    PartResult,
    QuestionResult,
)
from grader.grading.variants import Judgement, VariantJudge
from grader.rubric.budget import TimeBudget
from grader.rubric.model import AutoPart, LoadedRubric, ManualPart, Question
from grader.sandbox.plan import SandboxIdentities, SandboxLimits
from grader.sandbox.runner import Launcher, Reply, SandboxSession
from grader.submission.locate import locate, missing_entry_message, stage
from grader.trusted.cases import Case, build_cases, derive_seed, part_rng, positional
from grader.trusted.reference import ReferenceModule

MAX_MESSAGES = 6
OUT_OF_TIME = (
    "not graded: the submission used up its time limit before this part (earlier parts ran slowly)"
)
NOT_REACHED = "not graded yet: grading stopped before this question"
MAX_CRASHES_PER_PART = 3


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


def run_predicate(predicate: Callable[..., Any], value: Any, case: dict[str, Any]) -> Verdict:
    """Normalise a reference predicate's answer (bool, credit, or either with feedback)."""
    outcome = predicate(value, **case)
    feedback = ""
    if isinstance(outcome, tuple):
        outcome, feedback = outcome
    if isinstance(outcome, (bool, np.bool_)):
        credit = 1.0 if outcome else 0.0
    else:
        credit = float(outcome)
        if not math.isfinite(credit):
            credit = 0.0
        credit = min(max(credit, 0.0), 1.0)
    if credit < 1.0 and not feedback:
        feedback = "does not have the required property"
    return Verdict(credit, str(feedback))


class Attempt:
    """The state of grading one submission: its sandbox, seed, and what was learnt so far.

    The submission runs twice over, in two children with separate work folders: `session`
    answers every request whose result the student may see (constants, public cases, custom
    tests); `hidden` gets the hidden and random cases. A hidden input can then never come back
    through a visible answer, whether the student's code kept it in a global or in a file.

    Without a `hidden` session, memory holds one student process at a time (Gradescope gives
    768 MB, and a torch child takes 300): hidden cases then run in the visible child, which is
    replaced, in a new work folder from `restage` (files the old one wrote stay behind),
    before the next answer that may be shown. That costs a child start per switch, which two
    sessions save.
    """

    def __init__(
        self,
        loaded: LoadedRubric,
        reference: ReferenceModule,
        session: SandboxSession | None,
        hidden: SandboxSession | None,
        seed: int,
        budget: TimeBudget,
        restage: Callable[[], None] = lambda: None,
    ) -> None:
        self.rubric = loaded.rubric
        self.reference = reference
        self._visible = session
        self._hidden = hidden
        self._restage = restage
        self._tainted = False
        self.seed = seed
        self.budget = budget
        self.conventions: set[str] = set()
        self.internal_errors: list[str] = []
        self._answers: dict[str, Any] = {}

    def sandbox(self, *, reveal: bool) -> SandboxSession:
        """The child for a request whose answer may be shown (reveal) or not."""
        assert self._visible is not None
        if self._hidden is not None:
            return self._visible if reveal else self._hidden
        if reveal and self._tainted:
            self._visible.close()
            self._restage()
            self._tainted = False
        self._tainted |= not reveal
        return self._visible

    def timeout(self, part: AutoPart) -> float:
        return self.budget.timeout(part.timeout or self.rubric.limits.call_timeout)

    def student_answer(self, target: str) -> Any:
        """The student's value of another constant, for follow-through credit (None if none)."""
        if target not in self._answers:
            reply = self.sandbox(reveal=True).value(
                target, self.budget.timeout(self.rubric.limits.call_timeout)
            )
            self._answers[target] = reply.value if reply.ok else None
        return self._answers[target]

    def grade_question(self, q_index: int, question: Question) -> QuestionResult:
        started = time.monotonic()
        result = QuestionResult(question.number, question.title, question.visibility)
        for p_index, part in enumerate(question.parts):
            if isinstance(part, ManualPart):
                result.parts.append(
                    PartResult(part.name, part.points, PENDING, feedback=[part.manual])
                )
                continue
            part_started = time.monotonic()
            self.budget.start_unit()
            try:
                if self.budget.exhausted:
                    outcome = PartResult(
                        part.name, part.points, ERROR, target=part.target, feedback=[OUT_OF_TIME]
                    )
                elif part.function is None:
                    outcome = self.grade_constant(part)
                else:
                    outcome = self.grade_function(part, part_rng(self.seed, q_index, p_index))
            except Exception as error:  # the rubric's or reference's fault, not the student's
                outcome = PartResult(
                    part.name,
                    part.points,
                    ERROR,
                    target=part.target,
                    feedback=[
                        "The grader could not grade this part; your instructor has been told."
                    ],
                )
                self.internal_errors.append(
                    f"{question.number} / {part.name}: {type(error).__name__}: {error}"
                )
            outcome.seconds = time.monotonic() - part_started
            result.parts.append(outcome)
        result.seconds = time.monotonic() - started
        return result

    def _judge(self, part: AutoPart, value: Any, expected: Any, case: Case | None) -> Judgement:
        kwargs = case.kwargs if case is not None else {}
        if isinstance(part.check, PropertyCheck):
            predicate = self.reference.function(part.check.predicate, field="check.predicate")
            return Judgement(run_predicate(predicate, value, kwargs))
        judge = VariantJudge(part, self.reference, self.student_answer, self.conventions)
        reveal = case is not None and case.reveal
        return judge.judge(value, expected, kwargs, reveal=reveal)

    def grade_constant(self, part: AutoPart) -> PartResult:
        outcome = PartResult(part.name, part.points, FAILED, target=part.target)
        reply = self.sandbox(reveal=True).value(part.target, self.timeout(part))
        if not reply.ok:
            outcome.status, message = reply_problem(reply, part.target)
            outcome.feedback.append(message)
            return outcome
        self._answers[part.target] = reply.value
        if reply.value is None:
            outcome.status = NOT_IMPLEMENTED
            outcome.feedback.append(f"{part.target} is still None: not answered yet")
            return outcome
        expected = None
        if part.answer is not None:
            if part.answer.reference is not None:
                expected = self.reference.constant(part.answer.reference, field="answer.reference")
            else:
                expected = part.answer.value
        judgement = self._judge(part, reply.value, expected, None)
        return self._finish(outcome, judgement.verdict.credit, judgement, [judgement.verdict])

    def grade_function(self, part: AutoPart, rng: np.random.Generator) -> PartResult:
        spec = part.function
        assert spec is not None
        outcome = PartResult(part.name, part.points, FAILED, target=part.target)
        cases = build_cases(spec, self.reference, rng)
        reference = (
            self.reference.function(spec.reference, field="function.reference")
            if spec.reference
            else None
        )
        credits: list[float] = []
        passed: Counter[str] = Counter()
        totals = Counter(case.kind for case in cases)
        messages: Counter[str] = Counter()
        mistakes: list[str] = []
        crashes = 0
        for position, case in enumerate(cases):
            reply = self.sandbox(reveal=case.reveal).call(
                part.target, positional(spec, case), self.timeout(part), harness=spec.harness
            )
            if not reply.ok:
                if reply.status == "harness_error" and reply.graders_fault:
                    self.internal_errors.append(
                        f"harness {spec.harness}: {reply.error_type} "
                        f"{reply.message} {reply.traceback}".strip()
                    )
                status, message = reply_problem(reply, part.target, reveal=case.reveal)
                if status == NOT_IMPLEMENTED or reply.status == "not_callable":
                    outcome.status = status
                    outcome.feedback.append(message)
                    outcome.cases_passed, outcome.cases_total = 0, len(cases)
                    return outcome
                credits.append(0.0)
                messages[f"{case.label}: {message}"] += 1
                crashes += reply.status == "crashed"
                if reply.status == "timeout" or crashes >= MAX_CRASHES_PER_PART:
                    skipped = len(cases) - position - 1
                    if skipped:
                        messages[f"the remaining {skipped} cases were not run"] += 1
                    credits += [0.0] * skipped
                    outcome.status = ERROR
                    break
                continue
            expected = reference(**case.kwargs) if reference is not None else None
            judgement = self._judge(part, reply.value, expected, case)
            verdict = judgement.verdict
            credits.append(verdict.credit)
            mistakes += judgement.mistakes
            self.conventions |= judgement.established
            if verdict.passed:
                passed[case.kind] += 1
                if verdict.feedback:
                    messages[verdict.feedback] += 1
            elif case.reveal:
                arguments = ", ".join(f"{k}={short_repr(v)}" for k, v in case.kwargs.items())
                messages[f"{case.label} ({arguments}): {verdict.feedback}"] += 1
            else:
                hidden = self._hidden_feedback(part, reply.value, expected, judgement)
                messages[f"{case.label}: {hidden}"] += 1
        outcome.cases_passed, outcome.cases_total = sum(passed.values()), len(cases)
        summary = "; ".join(
            f"{kind} cases: {passed[kind]}/{count} passed" for kind, count in totals.items()
        )
        feedback = [summary] + [
            text if count == 1 else f"{text} (x{count})"
            for text, count in list(messages.items())[:MAX_MESSAGES]
        ]
        credit = sum(credits) / len(credits) if credits else 0.0
        judgement = Judgement(Verdict(min(credit, 1.0)), sorted(set(mistakes)))
        result = self._finish(outcome, credit, judgement, [])
        result.feedback = feedback
        if outcome.status == ERROR and credit == 0.0:
            result.status = ERROR
        return result

    @staticmethod
    def _hidden_feedback(part: AutoPart, value: Any, expected: Any, judgement: Judgement) -> str:
        """Feedback for a hidden or random case: the rubric's own words for a recognised
        mistake or a property, otherwise only the kind of problem."""
        if judgement.mistakes or isinstance(part.check, PropertyCheck):
            return judgement.verdict.feedback
        return hidden_case_feedback(value, expected)

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
        identities: SandboxIdentities | None = None,
    ) -> None:
        """`launcher` starts the sandboxed children (a fresh interpreter each by default);
        `one_child_at_a_time` trades child starts for memory (see Attempt): keep it where
        memory is tight or children are slow to start. `identities` are the uids the children
        switch to as root (default: the sandbox user, for both)."""
        self.loaded = loaded
        self.reference = reference
        self.policy = policy
        self.launcher = launcher
        self.one_child_at_a_time = one_child_at_a_time
        self.identities = identities
        limits = loaded.rubric.limits
        self.harness_source = read_harness(loaded)
        self.limits = SandboxLimits(
            import_timeout=limits.import_timeout,
            memory_mb=limits.memory_mb,
            cpu_seconds=limits.cpu_seconds,
            max_response_bytes=limits.max_return_mb << 20,
        )

    def grade(
        self,
        path: Path,
        *,
        submission_id: str | None = None,
        on_progress: Callable[[GradeResult], None] | None = None,
    ) -> GradeResult:
        """Grade one submission. `on_progress`, if given, receives a complete result after
        every question, the questions not reached yet marked as such, so that a caller can keep
        a valid results file on disk however grading ends."""
        started = time.monotonic()
        rubric = self.loaded.rubric
        located = locate(Path(path), rubric.submission)
        seed = derive_seed(rubric.seed, submission_id or located.content_sha256)
        notes = list(located.notes)
        internal_errors: list[str] = []
        sandbox: dict[str, Any] = {
            "policy": self.policy,
            "applied": [],
            "unavailable": {"all": "no student code was run"},
        }

        outcome = GRADED

        def result(questions: list[QuestionResult]) -> GradeResult:
            return GradeResult(
                assignment=rubric.assignment,
                title=rubric.title,
                questions=questions,
                seed=seed,
                rubric_sha256=self.loaded.sha256,
                submission_sha256=located.content_sha256,
                versions=dict(versions()),
                sandbox=dict(sandbox),
                notes=list(notes),
                internal_errors=list(internal_errors),
                execution_time=time.monotonic() - started,
                outcome=outcome,
            )

        # Folders are removed after the sessions have ended: a child still writing into one
        # would otherwise make its removal fail.
        with contextlib.ExitStack() as folders, contextlib.ExitStack() as stack:

            def workdir() -> Path:
                """A new, private work folder with the submission staged in it."""
                folder = Path(
                    folders.enter_context(tempfile.TemporaryDirectory(prefix="grader-work-"))
                )
                stage(located, folder)
                return folder

            if located.entry is None or located.problem is not None:
                notes.insert(0, missing_entry_message(located, rubric.submission))
                reason = (
                    f"not graded: {rubric.submission.entry} is missing"
                    if located.problem is None
                    else "not graded: your submission could not be read (see the top)"
                )
                questions = self._ungraded(reason)
                outcome = MISSING_ENTRY if located.problem is None else UNREADABLE
            else:
                entry = located.staged_name or located.entry.name
                visible_as, hidden_as = self.identities or (None, None)
                session = stack.enter_context(self._session(workdir(), entry, visible_as))
                hidden = (
                    None
                    if self.one_child_at_a_time
                    else stack.enter_context(self._session(workdir(), entry, hidden_as))
                )
                not_reached = self._ungraded(NOT_REACHED) if on_progress else []

                def progress(done: list[QuestionResult]) -> None:
                    sandbox.update(session.layers)
                    if on_progress is not None:
                        on_progress(result(done + not_reached[len(done) :]))

                questions, imported = self._grade_in(
                    session,
                    hidden,
                    lambda: session.move_to(workdir()),
                    entry,
                    seed,
                    notes,
                    internal_errors,
                    progress,
                )
                if not imported:
                    outcome = IMPORT_ERROR
                sandbox.update(session.layers)
        return result(questions)

    def _session(
        self, workdir: Path, entry: str, identity: tuple[int, int] | None = None
    ) -> SandboxSession:
        return SandboxSession(
            workdir, entry, self.limits, self.harness_source, self.policy, self.launcher, identity
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

    def _grade_in(
        self,
        session: SandboxSession,
        hidden: SandboxSession | None,
        restage: Callable[[], None],
        entry: str,
        seed: int,
        notes: list[str],
        internal_errors: list[str],
        progress: Callable[[list[QuestionResult]], None],
    ) -> tuple[list[QuestionResult], bool]:
        """The questions graded, and whether the submission could be imported at all."""
        rubric = self.loaded.rubric
        budget = TimeBudget(
            rubric.limits.total_seconds, len(rubric.auto_parts()) + len(rubric.custom_tests)
        )
        imported = session.start()
        if not imported.ok:
            notes.insert(0, import_failure_note(imported, entry))
            return self._ungraded(
                "not graded: your submission could not be imported (see the top)"
            ), False
        attempt = Attempt(self.loaded, self.reference, session, hidden, seed, budget, restage)
        questions: list[QuestionResult] = []
        progress(questions)
        for index, question in enumerate(rubric.questions):
            questions.append(attempt.grade_question(index, question))
            internal_errors[:] = attempt.internal_errors
            progress(questions)
        for tests in rubric.custom_tests:
            budget.start_unit()
            questions += run_custom_tests(
                self.loaded.custom_test_path(tests),
                self.reference,
                attempt.sandbox(reveal=True),
                lambda: budget.timeout(rubric.limits.call_timeout),
            )
            progress(questions)
        return questions, True
