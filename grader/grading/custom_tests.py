"""Custom tests: unittest modules written with gradescope-utils decorators, run safely.

Courses migrating an existing Gradescope suite, or needing checks YAML cannot express, write
ordinary unittest code with @weight, @number, @visibility and @partial_credit. Unlike a plain
gradescope-utils autograder, the tests run in the trusted grader process and reach the student's
code only through `submission`, a proxy whose attribute reads and calls become sandbox requests
returning data. So a submission cannot monkeypatch the assertions or rewrite the results.

gradescope-utils' own gaps are closed here: skipped tests, failing subtests and tests whose
setUpClass raised are reported as failed instead of vanishing, and partial credit is capped.
"""

from __future__ import annotations

import io
import unittest
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from gradescope_utils.autograder_utils.json_test_runner import JSONTestResult, JSONTestRunner

from grader.grading.feedback import reply_problem
from grader.grading.results import QuestionResult
from grader.grading.status import FAILED, PASSED, Status
from grader.sandbox.runner import Reply, SandboxSession
from grader.trusted.custom_test_suite import all_tests, load_test_module
from grader.trusted.reference import ReferenceModule


class StudentCodeError(AssertionError):
    """The student's code failed when a custom test called it: the test fails (not errors)."""


def _raise_for(reply: Reply, name: str) -> None:
    if not reply.ok:
        raise StudentCodeError(reply_problem(reply, name)[1])


Timeout = Callable[[int], float]
"""Each request asks for its time limit when it is made, for the number of calls it makes, so
the submission's time budget applies to custom tests as to everything else."""


class RemoteFunction:
    """A student function living in the sandbox; calling it sends the arguments as data."""

    def __init__(self, session: SandboxSession, name: str, timeout: Timeout) -> None:
        self._session, self._name, self._timeout = session, name, timeout

    def __call__(self, *args: Any) -> Any:
        reply = self._session.call(self._name, list(args), self._timeout(1))
        _raise_for(reply, self._name)
        return reply.value

    def map(self, calls: Iterable[Sequence[Any]]) -> list[Any]:
        """`[f(*args) for args in calls]` in one sandbox request instead of one per call (a
        round trip costs about 0.3 ms, more than many students' functions take): the first
        call that raises fails the test, as in the loop. The calls share one time limit, the
        sum of theirs."""
        arguments = [list(args) for args in calls]
        if not arguments:
            return []
        reply = self._session.map(self._name, arguments, self._timeout(len(arguments)))
        _raise_for(reply, self._name)
        if not isinstance(reply.value, list) or len(reply.value) != len(arguments):
            raise StudentCodeError(f"{self._name} did not answer once per call")
        return reply.value

    def __repr__(self) -> str:
        return f"<student function {self._name}>"


class SubmissionProxy:
    """`submission.NAME` reads a student value; `submission.f(x)` calls a student function."""

    def __init__(self, session: SandboxSession, timeout: Timeout) -> None:
        self._session, self._timeout = session, timeout
        self._functions: dict[str, RemoteFunction] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._functions:  # a test calling f in a loop asks what f is only once
            return self._functions[name]
        kind = self._session.kind(name, self._timeout(1))
        _raise_for(kind, name)
        if kind.value == "function":
            self._functions[name] = RemoteFunction(self._session, name, self._timeout)
            return self._functions[name]
        reply = self._session.value(name, self._timeout(1))
        _raise_for(reply, name)
        return reply.value


class _CompleteResult(JSONTestResult):
    """Records the outcomes gradescope-utils drops (skips, subtests, class set-up errors)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recorded: set[str] = set()
        self.setup_errors: list[str] = []

    def processResult(self, test: Any, err: Any = None) -> None:
        if not hasattr(test, "_testMethodName"):  # an _ErrorHolder: setUpClass/module failed
            self.setup_errors.append(f"{test.description}: {err[1] if err else ''}")
            return
        if test.id() in self.recorded:
            return
        self.recorded.add(test.id())
        super().processResult(test, err)

    def addSkip(self, test: Any, reason: str) -> None:
        super().addSkip(test, reason)
        self.processResult(test, (None, f"skipped: {reason}", None))

    def addSubTest(self, test: Any, subtest: Any, err: Any) -> None:
        super().addSubTest(test, subtest, err)
        if err is not None:
            self.processResult(test, err)


class _CompleteRunner(JSONTestRunner):
    resultclass = _CompleteResult


def _not_run(test: unittest.TestCase, reason: str) -> dict[str, Any]:
    method = getattr(test, test._testMethodName)
    name = test.shortDescription() or str(test)
    return {
        "name": name,
        "score": 0.0,
        "status": "failed",
        "max_score": float(getattr(method, "__weight__", 0) or 0),
        "number": getattr(method, "__number__", None),
        "visibility": getattr(method, "__visibility__", None) or "visible",
        "output": f"not run: {reason}",
    }


def _as_questions(entries: list[dict[str, Any]]) -> list[QuestionResult]:
    questions = []
    for entry in entries:
        max_score = float(entry.get("max_score", 0.0) or 0.0)
        score = min(max(float(entry.get("score", 0.0) or 0.0), 0.0), max_score)
        status: Status = PASSED if entry.get("status", "failed") == "passed" else FAILED
        questions.append(
            QuestionResult(
                str(entry.get("number") or entry["name"]),
                entry["name"],
                entry.get("visibility", "visible"),
                output=entry.get("output", ""),
                fixed=(score, max_score, status),
            )
        )
    return questions


def custom_tests_not_run(
    path: Path, reference: ReferenceModule, reason: str
) -> list[QuestionResult]:
    """The suite's tests as failed results, so the set of tests never depends on the student."""
    module = load_test_module(path, reference, submission=None)
    tests = all_tests(unittest.defaultTestLoader.loadTestsFromModule(module))
    return _as_questions([_not_run(test, reason) for test in tests])


def run_custom_tests(
    path: Path, reference: ReferenceModule, session: SandboxSession, timeout: Timeout
) -> list[QuestionResult]:
    module = load_test_module(path, reference, SubmissionProxy(session, timeout))
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    tests = all_tests(suite)
    runner = _CompleteRunner(stream=io.StringIO(), buffer=True)
    result = runner.run(suite)
    entries = list(runner.json_data["tests"])
    reason = "; ".join(result.setup_errors) or "the test did not run"
    entries += [_not_run(test, reason) for test in tests if test.id() not in result.recorded]
    return _as_questions(entries)
