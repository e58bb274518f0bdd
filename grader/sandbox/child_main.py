"""The program that runs inside the sandboxed child: applies the layers, imports the submission,
answers requests.

It is the only grader code that shares a process with student code, so it holds nothing worth
stealing: no rubric, no reference, no expected values. The parent starts it as
`python -I -c BOOTSTRAP` with the source of this file and of the modules it needs, so the child
never reads the grader's files. The protocol uses the stdin and stdout it was started with; they
are moved aside before any student code runs, so what the student prints (at the Python level or
raw on fd 1 and 2) never reaches the protocol, and it answers with data only.
"""

from __future__ import annotations

import importlib.util
import io
import os
import signal
import sys
import time
import traceback
import types
from typing import Any

from grader.sandbox import layers, wire

TRACEBACK_LINES = 12


class BoundedText(io.TextIOBase):
    """A stdout replacement that keeps the first few KB of what a request prints."""

    def __init__(self, cap: int = wire.MAX_OUTPUT) -> None:
        self.cap = cap
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        room = self.cap - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def take(self) -> str:
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n[... {self.dropped} more characters of output dropped]"
        self.parts, self.size, self.dropped = [], 0, 0
        return text


def _student_traceback(error: BaseException, workdir: str) -> str:
    """The frames that point into the student's own files, not the grader's (the exception's
    type and message travel separately, so the grader can withhold the message)."""
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename.startswith(workdir)
    ]
    lines = traceback.format_list(frames)[-TRACEBACK_LINES:]
    return "".join(lines).replace(workdir + os.sep, "")


def _syntax_context(error: BaseException, workdir: str) -> str:
    """For a SyntaxError in the student's file: the file, line, source text and caret that
    Python itself prints (without the last line, which the type and message repeat)."""
    if not isinstance(error, SyntaxError) or not str(error.filename or "").startswith(workdir):
        return ""
    shown = traceback.format_exception_only(type(error), error)[:-1]
    return "".join(shown).replace(workdir + os.sep, "")


def _failure(status: str, error: BaseException, workdir: str) -> dict[str, Any]:
    trace = _student_traceback(error, workdir) + _syntax_context(error, workdir)
    return {
        "status": status,
        "type": wire.type_name(error),
        "message": str(error)[: wire.MAX_MESSAGE],
        "traceback": trace[-wire.MAX_TRACEBACK :],
    }


def _where(frame: Any, workdir: str) -> str:
    """The student's frames of a running stack, innermost last, as a traceback shows them."""
    frames = [f for f in traceback.extract_stack(frame) if f.filename.startswith(workdir)]
    return "".join(traceback.format_list(frames[-TRACEBACK_LINES:])).replace(workdir + os.sep, "")


def _defines_answers(module: Any) -> bool:
    """Whether a module whose import raised had defined any answer before the error: a name of
    its own that is not an imported module (`import numpy as np` answers nothing)."""
    names = getattr(module, "__dict__", {})
    return any(
        not name.startswith("__") and not isinstance(value, types.ModuleType)
        for name, value in names.items()
    )


def _watched(function: Any, raised: list[BaseException]) -> Any:
    """The student's function as the harness sees it: exceptions it raises are remembered, so
    that an error escaping the harness is blamed on whoever caused it."""

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except BaseException as error:
            raised.append(error)
            raise

    return call


def _caused_by(error: BaseException, raised: list[BaseException]) -> bool:
    """Whether `error` is, or was raised while handling, one of the student's exceptions."""
    seen: BaseException | None = error
    while seen is not None:
        if any(seen is student for student in raised):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class Child:
    """Imports the submission once and serves value/call requests from the parent."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.workdir: str = config["workdir"]
        self.entry: str = config["entry"]
        self.max_bytes: int = config["max_response_bytes"]
        self.import_deadline: float | None = config.get("import_deadline")
        self.output = BoundedText()
        self.module: Any = None
        self.harness: Any = None
        self.requests, self.responses = _protocol_streams()

    def send(self, message: dict[str, Any]) -> None:
        message["output"] = self.output.take()
        line = wire.dumps(message)
        if wire.value_count(line) > wire.MAX_VALUES:  # the parent would refuse it as forged
            line = wire.dumps(
                {
                    "status": "unsendable",
                    "message": f"the returned value holds more than {wire.MAX_VALUES} items",
                    "output": message["output"],
                }
            )
        self.responses.write(line)

    def _report_hang(self, _signum: int, frame: Any) -> None:
        """Just before the parent's import deadline: say which line the import is running,
        since the parent can only kill the child and would otherwise name no line."""
        signal.setitimer(signal.ITIMER_REAL, 0)
        self.send({"status": "import_hung", "traceback": _where(frame, self.workdir)})

    def _watch_import(self, deadline: float | None) -> None:
        if deadline is None:
            return
        left = deadline - time.time()
        margin = min(0.5, max(left, 0.0) * 0.2)
        if left - margin > 0:
            signal.signal(signal.SIGALRM, self._report_hang)
            signal.setitimer(signal.ITIMER_REAL, left - margin)

    def import_submission(self) -> dict[str, Any]:
        try:
            return self._import_submission()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)

    def _import_submission(self) -> dict[str, Any]:
        self._watch_import(self.import_deadline)
        os.chdir(self.workdir)
        sys.path.insert(0, self.workdir)
        path = os.path.join(self.workdir, self.entry)
        name = os.path.splitext(os.path.basename(path))[0]
        module = None
        try:
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot import {self.entry}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        except BaseException as error:  # SystemExit and KeyboardInterrupt included
            failure = _failure("import_error", error, self.workdir)
            if not _defines_answers(module):
                return failure
            # Answers defined before the error (a stray test call at the bottom) are graded,
            # as Otter does; the error goes with "ready", for the parent to show once.
            self.module = module
            return {**failure, "status": "ready", "partial": True}
        self.module = module
        # A notebook's generated module records the cells that raised (each ran in its own
        # try, like "Run All"); they are reported once, with the import's reply.
        failed = getattr(module, "__grader_cell_errors__", None)
        if isinstance(failed, list) and failed and all(isinstance(f, str) for f in failed):
            return {"status": "ready", "traceback": "\n".join(failed)[: wire.MAX_TRACEBACK]}
        return {"status": "ready"}

    def load_harness(self, source: str) -> dict[str, Any]:
        """Run the rubric's public harness module here, next to the student's code."""
        harness = type(sys)("grader_harness")
        sys.modules["grader_harness"] = harness
        try:
            exec(compile(source, "harness.py", "exec"), harness.__dict__)
        except BaseException as error:
            return _failure("harness_error", error, self.workdir)
        self.harness = harness
        return {"status": "ok", "value": None}

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("op") == "load_harness":
            return self.load_harness(str(request.get("source", "")))
        name = str(request.get("name", ""))
        if not hasattr(self.module, name):
            return {"status": "missing"}
        try:
            target = getattr(self.module, name)
        except BaseException as error:
            return _failure("exception", error, self.workdir)
        op = request.get("op")
        if op == "kind":
            return {"status": "ok", "value": "function" if callable(target) else "value"}
        if op in ("call", "map") and not callable(target):
            return {"status": "not_callable", "type": wire.type_name(target)}
        if op == "map":
            return self.map(target, request.get("calls", []))
        if op == "call":
            harness = request.get("harness")
            raised: list[BaseException] = []
            try:
                args = [wire.decode(arg, tensors="torch") for arg in request.get("args", [])]
                if harness:
                    result = getattr(self.harness, str(harness))(_watched(target, raised), *args)
                else:
                    result = target(*args)
            except BaseException as error:
                blame = "exception" if not harness or _caused_by(error, raised) else "harness_error"
                return _failure(blame, error, self.workdir)
        else:
            result = target
        return self.encoded(result, wire.Budget(self.max_bytes))

    def encoded(self, result: Any, budget: wire.Budget) -> dict[str, Any]:
        try:
            return {"status": "ok", "value": wire.encode(result, budget)}
        except wire.WireError as error:
            return {"status": "unsendable", "message": str(error)}
        except BaseException as error:  # a lying __float__ or __len__ raising mid-encoding
            return _failure("unsendable", error, self.workdir)

    def map(self, target: Any, calls: Any) -> dict[str, Any]:
        """One call per argument list; each result is encoded as soon as it returns (a later
        call may modify an object an earlier one returned), all within one reply's size cap.
        The first call that fails ends the request with its failure, as it would end a loop."""
        budget = wire.Budget(self.max_bytes)
        values = []
        for arguments in calls if isinstance(calls, list) else []:
            try:
                result = target(*[wire.decode(arg, tensors="torch") for arg in arguments])
            except BaseException as error:
                return _failure("exception", error, self.workdir)
            reply = self.encoded(result, budget)
            if reply["status"] != "ok":
                return reply
            values.append(reply["value"])
        return {"status": "ok", "value": values}

    def serve(self) -> None:
        self.send(self.import_submission())
        if self.module is None:
            return
        for line in self.requests:
            try:
                request = wire.loads(line)
            except wire.WireError:
                return
            self.send(self.handle(request))


def _protocol_streams() -> tuple[Any, Any]:
    """Keep private copies of the stdin/stdout the parent talks on, then point fd 0 at
    /dev/null and fd 1 at stderr, so student code can neither read requests nor forge replies
    by writing raw bytes to fd 1. (The copies are not inherited by processes it starts.)"""
    requests = os.fdopen(os.dup(0), "rb")
    responses = os.fdopen(os.dup(1), "wb", buffering=0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    return requests, responses


def main(config: dict[str, Any]) -> None:
    child = Child(config)
    report = layers.apply_all(config["plan"])
    if config["plan"]["policy"] == "strict" and not report.files_confined:
        reasons = "; ".join(f"{k}: {v}" for k, v in report.unavailable.items())
        advice = (
            "Make those files unreadable (and their folders unwritable) by the sandbox user"
            if report.confines.get("files")
            else "Grade as root (the child then runs as the sandbox user)"
        )
        child.send(
            {
                "status": "policy_refused",
                "message": (
                    "strict sandbox policy: the file system is not confined, so student code "
                    f"was not run. Within the child's reach: {'; '.join(report.exposed)}. "
                    f"{advice}, or grade where Landlock is available"
                    + (f" (unavailable here: {reasons})" if reasons else "")
                ),
                "value": report.as_dict(),
            }
        )
        os._exit(0)
    # Reported before any student code runs, so the report cannot be forged: the parent
    # accepts it only as the first message.
    child.send({"status": "layers", "value": report.as_dict()})
    sys.stdout = sys.stderr = child.output
    sys.stdin = io.StringIO("")
    child.serve()
    # Skip interpreter shutdown: student atexit hooks and daemon threads do not get to run.
    os._exit(0)
