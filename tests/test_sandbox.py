"""The sandboxed child: real subprocesses answering requests, and misbehaving."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from grader.sandbox.plan import SandboxLimits
from grader.sandbox.runner import SandboxSession

pytestmark = pytest.mark.sandbox


def session_for(tmp_path: Path, source: str, **limits) -> SandboxSession:
    (tmp_path / "sub.py").write_text(textwrap.dedent(source))
    return SandboxSession(tmp_path, "sub.py", SandboxLimits(**limits))


def test_values_and_calls_return_data(tmp_path):
    with session_for(
        tmp_path,
        """
        import numpy as np
        A = np.eye(2)
        def double(x):
            return x * 2
    """,
    ) as session:
        assert session.start().ok
        np.testing.assert_array_equal(session.value("A", 5).value, np.eye(2))
        np.testing.assert_array_equal(session.call("double", [np.ones(3)], 5).value, 2 * np.ones(3))


def test_student_code_runs_in_another_process_and_session(tmp_path):
    with session_for(
        tmp_path,
        """
        import os
        def ids():
            return [os.getpid(), os.getsid(0)]
    """,
    ) as session:
        pid, sid = session.call("ids", [], 5).value
    assert pid != os.getpid() and sid != os.getsid(0)


def test_environment_is_scrubbed(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET_TOKEN", "hunter2")
    with session_for(
        tmp_path,
        """
        import os
        ENV = dict(os.environ)
    """,
    ) as session:
        env = session.value("ENV", 5).value
    assert "GRADER_SECRET_TOKEN" not in env
    assert env["OMP_NUM_THREADS"] == "1"


def test_exception_is_reported_with_the_students_traceback_only(tmp_path):
    with session_for(
        tmp_path,
        """
        def broken():
            return 1 / 0
    """,
    ) as session:
        reply = session.call("broken", [], 5)
    assert reply.status == "exception" and reply.error_type == "ZeroDivisionError"
    assert 'File "sub.py", line 3, in broken' in reply.traceback
    assert "child_main" not in reply.traceback


def test_timeout_kills_the_child_and_the_next_request_gets_a_fresh_one(tmp_path):
    with session_for(
        tmp_path,
        """
        def spin():
            while True:
                pass
        def fine():
            return 42
    """,
    ) as session:
        started = time.monotonic()
        reply = session.call("spin", [], 0.5)
        assert reply.status == "timeout"
        assert time.monotonic() - started < 3
        assert session.call("fine", [], 5).value == 42
        assert session.starts == 2


def test_exit_from_student_code_is_a_crash_not_a_grade(tmp_path):
    with session_for(
        tmp_path,
        """
        import os, sys
        def quit_hard():
            os._exit(0)
        def quit_soft():
            sys.exit(0)
    """,
    ) as session:
        assert session.call("quit_hard", [], 5).status == "crashed"
        soft = session.call("quit_soft", [], 5)
    assert soft.status == "exception" and soft.error_type == "SystemExit"


def test_import_failure_is_reported_once_and_not_retried(tmp_path):
    with session_for(
        tmp_path,
        """
        raise KeyboardInterrupt("at import")
    """,
    ) as session:
        first = session.start()
        again = session.value("anything", 5)
    assert first.status == "import_error" and first.error_type == "KeyboardInterrupt"
    assert again is first and session.starts == 1


def test_import_that_hangs_hits_the_import_limit(tmp_path):
    with session_for(tmp_path, "import time\ntime.sleep(60)\n", import_timeout=0.5) as session:
        reply = session.start()
    assert reply.status == "timeout" and "importing the submission took longer" in reply.message


def test_missing_names_and_non_functions_are_told_apart(tmp_path):
    with session_for(tmp_path, "VALUE = 3\n") as session:
        assert session.value("NOPE", 5).status == "missing"
        assert session.call("VALUE", [], 5).status == "not_callable"
        assert session.kind("VALUE", 5).value == "value"


def test_printing_a_flood_is_bounded_and_does_not_block(tmp_path):
    with session_for(
        tmp_path,
        """
        import os, sys
        def flood():
            for _ in range(20000):
                print("x" * 1000)
            os.write(1, b"y" * 5_000_000)
            return "done"
    """,
    ) as session:
        reply = session.call("flood", [], 20)
    assert reply.value == "done"
    assert len(reply.output) < 10_000 and "more characters of output dropped" in reply.output


def test_oversized_return_values_are_refused(tmp_path):
    with session_for(
        tmp_path,
        """
        import numpy as np
        def huge():
            return np.zeros(2_000_000)
    """,
        max_response_bytes=1 << 20,
    ) as session:
        reply = session.call("huge", [], 10)
    assert reply.status == "unsendable" and "too large" in reply.message


def test_memory_limit_stops_a_memory_bomb(tmp_path):
    with session_for(
        tmp_path,
        """
        def hog():
            blocks = []
            while True:
                blocks.append(bytearray(50 << 20))
    """,
        memory_mb=512,
    ) as session:
        reply = session.call("hog", [], 20)
    assert reply.status == "exception" and reply.error_type == "MemoryError"


def test_reading_stdin_does_not_hang(tmp_path):
    with session_for(
        tmp_path,
        """
        def ask():
            return input("value? ")
    """,
    ) as session:
        reply = session.call("ask", [], 5)
    assert reply.status == "exception" and reply.error_type == "EOFError"


def test_starting_processes_is_forbidden_by_seccomp(tmp_path):
    with session_for(
        tmp_path,
        """
        import subprocess
        def spawn():
            return subprocess.run(["true"]).returncode
    """,
    ) as session:
        reply = session.call("spawn", [], 10)
    assert reply.status == "exception" and reply.error_type == "PermissionError"


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "Z"


def wait_until_gone(pid: int) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.05)
    return False


SPAWN = """
    import subprocess, sys
    def spawn(detach):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                 start_new_session=detach)
        return child.pid
"""


def test_without_seccomp_a_request_end_kills_processes_the_request_started(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SANDBOX_DISABLE", "seccomp")
    with session_for(tmp_path, SPAWN) as session:
        pid = session.call("spawn", [False], 10).value
        assert pid > 0 and wait_until_gone(pid)


def test_without_seccomp_closing_kills_a_daemon_that_left_the_session(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SANDBOX_DISABLE", "seccomp")
    with session_for(tmp_path, SPAWN) as session:
        pid = session.call("spawn", [True], 10).value
        assert pid > 0
    if session.plan["uid"] is None:
        pytest.skip("only a uid switch lets the grader find a daemon that left the session")
    assert wait_until_gone(pid)


def test_unknown_layer_names_in_the_disable_list_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SANDBOX_DISABLE", "seccmop")
    with pytest.raises(ValueError, match="unknown layers"):
        session_for(tmp_path, "X = 1\n")


def test_atexit_hooks_of_the_submission_never_run(tmp_path):
    marker = tmp_path / "atexit-ran"
    with session_for(
        tmp_path,
        f"""
        import atexit
        atexit.register(lambda: open({str(marker)!r}, "w").write("forged"))
        VALUE = 1
    """,
    ) as session:
        assert session.value("VALUE", 5).value == 1
    time.sleep(0.2)
    assert not marker.exists()
