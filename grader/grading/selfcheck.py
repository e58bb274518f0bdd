"""`grader check`: a student's own run of the public cases, before they submit.

It runs the submission in the same sandbox as grading, but knows only what the kit knows: the
public cases of functions with their expected outputs, and the form each constant's answer must
have. So it can say "passes the public case", "not implemented", "the grader will not understand
this notation", never a final grade.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import TypeAdapter, ValidationError

from grader.checks import compare
from grader.checks.big_o import ParseError, parse_complexity
from grader.checks.choice import read_choice
from grader.checks.specs import BigOCheck, Check, ChoiceCheck
from grader.checks.values import CoercionError, describe
from grader.grading.feedback import reply_problem, short_repr
from grader.rubric.model import SubmissionFiles
from grader.sandbox.plan import SandboxLimits
from grader.sandbox.runner import Reply, SandboxSession
from grader.submission.locate import locate, missing_entry_message, stage

PASSED, FAILED, NOT_IMPLEMENTED, MANUAL = "passed", "failed", "not implemented", "by hand"
CHECKS = TypeAdapter(Check)


@dataclass
class CheckedPart:
    """One part as far as public information allows; `checks` counts what could be checked."""

    question: str
    name: str
    points: float
    status: str
    lines: list[str] = field(default_factory=list)
    hidden_cases: int = 0


@dataclass
class CheckReport:
    title: str
    parts: list[CheckedPart]
    notes: list[str]

    @property
    def all_public_checks_pass(self) -> bool:
        return all(p.status in (PASSED, MANUAL) for p in self.parts)

    @property
    def points_checked_only_at_grading(self) -> float:
        return sum(p.points for p in self.parts if p.status != MANUAL)


def form_problem(form: dict[str, Any], value: Any) -> str | None:
    """Why an answer does not have the form the question asks for, or None."""
    kind = form["kind"]
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            return f"should be a number, but it is {describe(value)}"
    elif kind == "array":
        try:
            shape = list(np.shape(np.asarray(value, dtype=float)))
        except (TypeError, ValueError, OverflowError):
            return f"should be an array of numbers, but it is {describe(value)}"
        if shape != form["shape"]:
            wanted = "x".join(map(str, form["shape"])) or "a single number"
            return f"should have shape {wanted}, but it has {'x'.join(map(str, shape))}"
    elif kind in ("shape", "list"):
        if not isinstance(value, (list, tuple)) or len(value) != form["length"]:
            return f"should be a list of {form['length']} items, but it is {describe(value)}"
    elif kind == "choice":
        try:
            read_choice(ChoiceCheck(kind="choice", options=form["options"]), value)
        except CoercionError as error:
            return str(error)
    elif kind == "set":
        if not isinstance(value, (list, tuple, set, frozenset)):
            return f"should be a set (or list) of items, but it is {describe(value)}"
    elif kind == "big_o":
        check = BigOCheck(
            kind="big_o", variable=form["variable"], constants=form.get("constants", [])
        )
        if not isinstance(value, str):
            return f"should be text such as 'O({form['variable']})', but it is {describe(value)}"
        try:
            parse_complexity(value, check)
        except ParseError as error:
            return f"the grader cannot read {value!r} as a complexity ({error})"
    elif kind == "text" and (not isinstance(value, str) or not value.strip()):
        return f"should be text, but it is {describe(value)}"
    return None


def _check_model(spec: dict[str, Any]) -> Any:
    return None if spec["kind"] == "property" else CHECKS.validate_python(spec)


def _problem_status(reply: Reply, target: str, reveal: bool) -> tuple[str, str]:
    status, message = reply_problem(reply, target, reveal=reveal)
    return (NOT_IMPLEMENTED if status == "not_implemented" else FAILED), message


class SelfCheck:
    """Runs a kit's public checks against one submission in the sandbox."""

    def __init__(self, kit: dict[str, Any], harness_source: str | None) -> None:
        self.kit = kit
        self.harness_source = harness_source
        limits = kit["limits"]
        self.limits = SandboxLimits(
            import_timeout=limits["import_timeout"],
            memory_mb=limits["memory_mb"],
            cpu_seconds=limits["cpu_seconds"],
            max_response_bytes=limits["max_return_mb"] << 20,
        )
        self.call_timeout = float(limits["call_timeout"])
        self.conventions: set[str] = set()

    def run(self, submission: Path) -> CheckReport:
        spec = SubmissionFiles(**self.kit["submission"])
        located = locate(submission, spec)
        notes = list(located.notes)
        if located.entry is None or located.problem is not None:
            notes.insert(0, missing_entry_message(located, spec))
            return CheckReport(self.kit["title"], self._all(FAILED, "not checked"), notes)
        with tempfile.TemporaryDirectory(prefix="grader-check-") as folder:
            entry = stage(located, Path(folder))
            with SandboxSession(
                Path(folder), entry, self.limits, self.harness_source, "lenient"
            ) as session:
                imported = session.start()
                if not imported.ok:
                    detail = (
                        imported.traceback.rstrip() + f"\n{imported.error_type}: {imported.message}"
                        if imported.status == "import_error"
                        else imported.message
                    )
                    notes.insert(0, f"Your {entry} could not be imported:\n{detail.strip()}")
                    return CheckReport(
                        self.kit["title"], self._all(FAILED, "not checked: import failed"), notes
                    )
                parts = [
                    self._check(question["number"], part, session)
                    for question in self.kit["questions"]
                    for part in question["parts"]
                ]
        return CheckReport(self.kit["title"], parts, notes)

    def _all(self, status: str, line: str) -> list[CheckedPart]:
        return [
            CheckedPart(
                q["number"],
                p["name"],
                p["points"],
                MANUAL if p["kind"] == "manual" else status,
                [] if p["kind"] == "manual" else [line],
            )
            for q in self.kit["questions"]
            for p in q["parts"]
        ]

    def _check(self, number: str, part: dict[str, Any], session: SandboxSession) -> CheckedPart:
        checked = CheckedPart(number, part["name"], part["points"], PASSED)
        if part["kind"] == "manual":
            checked.status = MANUAL
            return checked
        timeout = part.get("timeout") or self.call_timeout
        if part["kind"] == "constant":
            reply = session.value(part["target"], timeout)
            if not reply.ok:
                checked.status, message = _problem_status(reply, part["target"], True)
                checked.lines.append(message)
            elif reply.value is None:
                checked.status = NOT_IMPLEMENTED
                checked.lines.append(f"{part['target']} is still None")
            else:
                problem = form_problem(part["form"], reply.value)
                checked.status = FAILED if problem else PASSED
                checked.lines.append(
                    f"{part['target']} {problem}"
                    if problem
                    else f"{part['target']} has the right form; its value is checked at grading"
                )
            return checked
        return self._check_function(checked, part, session, timeout)

    def _check_function(
        self, checked: CheckedPart, part: dict[str, Any], session: SandboxSession, timeout: float
    ) -> CheckedPart:
        spec = part["function"]
        checked.hidden_cases = spec["hidden_cases"]
        check = _check_model(part["check"])
        for index, case in enumerate(spec["public"], start=1):
            args = [_typed(spec, name, case["args"][name]) for name in spec["args"]]
            reply = session.call(part["target"], args, timeout, harness=spec.get("harness"))
            if not reply.ok:
                checked.status, message = _problem_status(reply, part["target"], True)
                checked.lines.append(f"public case {index}: {message}")
                if checked.status == NOT_IMPLEMENTED or reply.status == "timeout":
                    break
                continue
            if check is None or "expected" not in case:
                checked.lines.append(f"public case {index}: ran; its answer is judged at grading")
                continue
            verdict = compare(check, reply.value, case["expected"], reveal=True)
            accepted = next(
                (
                    a
                    for a in case.get("also_accepted", [])
                    if a.get("convention") in (None, *self.conventions)
                    and compare(check, reply.value, a["expected"], reveal=False).passed
                ),
                None,
            )
            note = accepted["note"] if accepted and not verdict.passed else None
            if note and accepted.get("establishes"):
                self.conventions.add(accepted["establishes"])
            if verdict.passed or note:
                checked.lines.append(
                    f"public case {index}: passed" + (f" ({note})" if note else "")
                )
            else:
                checked.status = FAILED
                arguments = ", ".join(f"{k}={short_repr(v)}" for k, v in case["args"].items())
                checked.lines.append(f"public case {index} ({arguments}): {verdict.feedback}")
        if not spec["public"]:
            checked.lines.append("no public case: checked at grading")
        return checked


def _typed(spec: dict[str, Any], name: str, value: Any) -> Any:
    if name in spec["array_args"]:
        return np.asarray(value, dtype=np.float64)
    if name in spec["tensor_args"]:
        import torch

        return torch.as_tensor(np.asarray(value, dtype=np.float32))
    return value


def kit_check_models_valid(kit: dict[str, Any]) -> list[str]:
    """Checks in a kit that do not validate (a hand-edited or damaged kit)."""
    problems = []
    for question in kit["questions"]:
        for part in question["parts"]:
            if part["kind"] != "manual":
                try:
                    _check_model(part["check"])
                except ValidationError as error:
                    problems.append(f"{question['number']} / {part['name']}: {error}")
    return problems
