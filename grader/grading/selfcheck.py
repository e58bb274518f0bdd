"""`grader check`: a student's own run of the public cases, before they submit.

It runs the submission in the same sandbox as grading, but knows only what the kit knows: the
public cases of functions with their expected outputs, and the form each constant's answer must
have. So it can say "passes the public case", "not implemented", "the grader will not understand
this notation", never a final grade.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from grader.checks import compare, form_problem, from_public
from grader.grading.feedback import cell_errors_note, read_apart, reply_problem, short_repr
from grader.grading.status import FAILED, NOT_IMPLEMENTED, PASSED, PENDING, Status
from grader.rubric.files import SubmissionFiles
from grader.rubric.model import Limits
from grader.sandbox.runner import Launcher, Reply, SandboxSession
from grader.submission.asked import WRITTEN, kit_sheet
from grader.submission.formats.base import Reading
from grader.submission.staged import open_submission
from grader.trusted.cases import typed_arguments

# What a passing part's check mark stands for: one meaning per mark (terminal.CHECK_MARKS).
CASES = "cases"  # its public cases ran and gave the expected outputs
FORM = "form"  # a constant with the right form; its value is judged at grading
NOTHING = "nothing"  # defined, but nothing public to run: judged at grading only


@dataclass
class CheckedPart:
    """One part as far as public information allows; `scope` says what a pass covered."""

    question: str
    name: str
    points: float
    status: Status
    lines: list[str] = field(default_factory=list)
    hidden_cases: int = 0
    scope: str = CASES


@dataclass
class CheckReport:
    title: str
    parts: list[CheckedPart]
    notes: list[str]
    nothing_ran: bool = False  # the submission could not be read or imported: see the notes

    @property
    def all_public_checks_pass(self) -> bool:
        return all(p.status in (PASSED, PENDING) for p in self.parts)

    @property
    def points_checked_only_at_grading(self) -> float:
        return sum(p.points for p in self.parts if p.status != PENDING)


def _is_docstring(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)


def _problem_status(reply: Reply, target: str, reveal: bool) -> tuple[Status, str]:
    """A self-check passes or fails; only "not implemented" is worth telling apart."""
    status, message = reply_problem(reply, target, reveal=reveal)
    return (NOT_IMPLEMENTED if status == NOT_IMPLEMENTED else FAILED), message


class SelfCheck:
    """Runs a kit's public checks against one submission in the sandbox."""

    def __init__(
        self, kit: dict[str, Any], harness_source: str | None, launcher: Launcher | None = None
    ) -> None:
        """`launcher` starts the sandboxed child (a fresh interpreter by default)."""
        self.kit = kit
        self.harness_source = harness_source
        self.launcher = launcher
        limits = Limits.model_validate(kit["limits"])
        self.limits = limits.sandbox_limits()
        self.call_timeout = limits.call_timeout
        self.conventions: set[str] = set()
        self._source = ""
        self.readings: dict[str, Reading] = {}
        self.sheet = False

    def run(self, submission: Path) -> CheckReport:
        spec = SubmissionFiles(**self.kit["submission"])
        sheet = kit_sheet(self.kit)
        with open_submission(submission, spec, prefix="grader-check-", sheet=sheet) as staged:
            notes = list(staged.located.notes)
            self.readings = dict(staged.located.readings)
            self.sheet = staged.located.sheet
            if not staged.readable:
                notes.insert(0, staged.why_unreadable())
                return CheckReport(self.kit["title"], self._all(FAILED), notes, nothing_ran=True)
            entry = staged.entry_name
            try:
                self._source = (staged.workdir() / entry).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                self._source = ""
            with SandboxSession(
                staged.workdir(),
                entry,
                self.limits,
                self.harness_source,
                "lenient",
                self.launcher,
            ) as session:
                imported = session.start()
                if not imported.ok:
                    detail = (
                        imported.traceback.rstrip() + f"\n{imported.error_type}: {imported.message}"
                        if imported.status == "import_error"
                        else imported.message
                    )
                    notes.insert(
                        0, f"Your {staged.handed_in_name} could not be imported:\n{detail.strip()}"
                    )
                    return CheckReport(
                        self.kit["title"], self._all(FAILED), notes, nothing_ran=True
                    )
                notes[:0] = cell_errors_note(imported, staged.handed_in_name)
                parts = [
                    self._check(question["number"], part, session)
                    for question in self.kit["questions"]
                    for part in question["parts"]
                ]
        return CheckReport(self.kit["title"], parts, notes)

    def _all(self, status: Status) -> list[CheckedPart]:
        """Every part with one status and no line of its own: the note at the top says why,
        once."""
        return [
            CheckedPart(
                q["number"],
                p["name"],
                p["points"],
                PENDING if p["kind"] == "manual" else status,
            )
            for q in self.kit["questions"]
            for p in q["parts"]
        ]

    def _stub(self, target: str) -> bool:
        """Whether the submission's source defines `target` as a stub (a body that only
        raises NotImplementedError, or passes): read, never run, in the grader."""
        try:
            tree = ast.parse(self._source)
        except (SyntaxError, ValueError):
            return False
        stub = False  # the last definition of the name is the one that counts
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == target:
                body = [statement for statement in node.body if not _is_docstring(statement)]
                stub = all(
                    isinstance(statement, ast.Pass)
                    or (
                        isinstance(statement, ast.Raise)
                        and "NotImplementedError" in ast.unparse(statement)
                    )
                    for statement in body
                )
        return stub

    def _check(self, number: str, part: dict[str, Any], session: SandboxSession) -> CheckedPart:
        checked = CheckedPart(number, part["name"], part["points"], PASSED)
        if part["kind"] == "manual":
            checked.status = PENDING
            return checked
        reading = self.readings.get(part["target"])
        if reading is not None and reading.status == "needs_review":
            return _unsure(checked, part, reading)
        checked = self._run_check(checked, part, session)
        if reading is not None:
            checked.lines.insert(0, f"read as {reading.shown}, line {reading.line}")
        elif self.sheet and checked.status == NOT_IMPLEMENTED:
            checked.lines = ["no answer to this part was found on your sheet"]
        return checked

    def _run_check(
        self, checked: CheckedPart, part: dict[str, Any], session: SandboxSession
    ) -> CheckedPart:
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
                problem = form_problem(part["check"]["kind"], part["form"], reply.value)
                checked.status = FAILED if problem else PASSED
                checked.scope = FORM
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
        check = from_public(part["check"])
        for index, case in enumerate(spec["public"], start=1):
            typed = typed_arguments(case["args"], spec["array_args"], spec["tensor_args"])
            args = [typed[name] for name in spec["args"]]
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
            note = accepted["note"] if accepted is not None and not verdict.passed else None
            if note and accepted is not None and accepted.get("establishes"):
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
            return self._without_public_cases(checked, part["target"], session, timeout)
        weak = spec.get("mistakes_passing_public_cases", 0)
        if checked.status == PASSED and weak:
            which = "a common mistake" if weak == 1 else "some common mistakes"
            checked.lines.append(
                f"the public cases cannot tell {which} from the right answer; "
                "the hidden cases do, at grading"
            )
        return checked

    def _without_public_cases(
        self, checked: CheckedPart, target: str, session: SandboxSession, timeout: float
    ) -> CheckedPart:
        """No public case to run: say whether the function is there at all, never a tick."""
        reply = session.kind(target, timeout)
        if not reply.ok:
            checked.status, message = _problem_status(reply, target, True)
            checked.lines.append(message)
        elif reply.value != "function":
            checked.status = FAILED
            checked.lines.append(f"{target} is not a function")
        elif self._stub(target):
            checked.status = NOT_IMPLEMENTED
            checked.lines.append(
                f"{target} is not implemented yet (its body only raises or passes)"
            )
        else:
            checked.scope = NOTHING
            checked.lines.append(
                f"{target} is defined; it has no public case, so it is judged at grading only"
            )
        return checked


def _unsure(checked: CheckedPart, part: dict[str, Any], reading: Reading) -> CheckedPart:
    """A written answer the grader could not read surely: the student can fix the notation
    now; at grading a TA would decide. Work a sheet cannot give (code) is a TA's anyway."""
    if part.get("written", {}).get("kind") == "manual":
        checked.status = PENDING
        checked.lines.append(f"written by hand (line {reading.line}): a TA grades it")
        return checked
    checked.status = FAILED
    shown = f"; read as {reading.shown}" if read_apart(reading) else ""
    checked.lines += [
        f"not read surely (line {reading.line}): {reading.reason}{shown}",
        "write it so that the grader can read it, or a TA decides at grading",
    ]
    return checked


def kit_check_models_valid(kit: dict[str, Any]) -> list[str]:
    """Checks and written declarations in a kit that do not validate (a hand-edited or
    damaged kit)."""
    problems = []
    for question in kit["questions"]:
        for part in question["parts"]:
            if part["kind"] != "manual":
                try:
                    from_public(part["check"])
                    if "written" in part:
                        WRITTEN.validate_python(part["written"])
                except ValidationError as error:
                    problems.append(f"{question['number']} / {part['name']}: {error}")
    return problems
