"""Guarantee 3: a submission cannot write, replace or delete the results file, nor change it
after the grader wrote it; the score is the grader's own (guarantee 1).

Each attack writes a results file worth 1000 points. The generic checks of `attack` already
prove the final results.json holds the grader's scores; these tests also check what the attack
was told, and that nothing changes in the seconds after grading ended.
"""

from __future__ import annotations

import hashlib
import time

import pytest
from machine import kill_pids, wait_until
from sectest_support import Run, modes, processes_with

pytestmark = pytest.mark.sandbox

FORGE = """
FORGED = '{"score": 1000.0, "output": "FORGED", "tests": []}'


def _forge(path):
    with open(path, "w") as handle:
        handle.write(FORGED)
    return "written"
"""

LATER = 1.5
"""Seconds to watch the results file after grading ended."""


def refused(outcome: str) -> bool:
    """Denied by the sandbox: EACCES/EPERM, or EXDEV (Landlock refusing a cross-folder rename)."""
    return outcome.startswith("denied: PermissionError") or "[Errno 18]" in outcome


def digest(run: Run) -> str:
    return hashlib.sha256(run.results_path.read_bytes()).hexdigest()


def assert_unchanged_later(run: Run) -> None:
    before = digest(run)
    time.sleep(LATER)
    assert digest(run) == before, (
        f"results.json changed after grading:\n{run.results_path.read_text()}"
    )
    assert list((run.out / "autograder-results").iterdir()) == []
    assert "FORGED" not in run.results_path.read_text()


def test_writing_replacing_or_deleting_the_results_file_is_denied(attack):
    run = attack(
        FORGE,
        """
        def attack(x):
            folder = os.path.dirname($results)
            return {
                "overwrite": _attempt(lambda: _forge($results)),
                "replace": _attempt(lambda: (_forge("forged.json"),
                                             os.replace("forged.json", $results))),
                "delete": _attempt(lambda: os.unlink($results)),
                "new file beside it": _attempt(lambda: _forge(os.path.join(folder, "x.json"))),
            }
    """,
    )
    for step, outcome in run.observation.items():
        assert refused(outcome), f"{step}: {outcome}"
    assert "FORGED" not in run.results_path.read_text()


def test_writing_a_fake_results_folder_is_denied(attack):
    run = attack(
        FORGE,
        """
        def attack(x):
            return {"write": _attempt(lambda: _forge(os.path.join($fake_results,
                                                                  "results.json"))),
                    "mkdir": _attempt(lambda: os.mkdir(os.path.join($fake_results, "sub")))}
    """,
    )
    for step, outcome in run.observation.items():
        assert refused(outcome), f"{step}: {outcome}"
    assert list((run.out / "autograder-results").iterdir()) == []


def test_printing_results_json_to_stdout_changes_nothing(attack):
    run = attack(
        FORGE,
        """
        print(FORGED)
        sys.stdout.flush()
        os.write(1, FORGED.encode() + b"\\n")
        os.write(2, FORGED.encode() + b"\\n")

        def attack(x):
            print(FORGED)
            os.write(1, FORGED.encode() + b"\\n")
            return "printed"
    """,
    )
    assert run.observation == "printed"
    assert "FORGED" not in run.results_path.read_text()


def test_exiting_with_status_0_after_writing_results_is_a_crash(attack):
    run = attack(
        FORGE,
        """
        def attack(x):
            print(FORGED)
            for path in ($results, os.path.join($fake_results, "results.json")):
                try:
                    _forge(path)
                except OSError:
                    pass
            os._exit(0)
    """,
    )
    assert run.observed == []
    assert "exited with status 0" in run.test("2")["output"]
    assert "FORGED" not in run.results_path.read_text()


def test_atexit_hooks_cannot_forge_results(attack):
    run = attack(
        FORGE,
        """
        import atexit

        def _hook():
            for path in ($results, os.path.join($fake_results, "results.json")):
                try:
                    _forge(path)
                except OSError:
                    pass

        atexit.register(_hook)

        def attack(x):
            atexit.register(_hook)
            return "registered"
    """,
    )
    assert run.observation == "registered"
    assert "FORGED" not in run.results_path.read_text()
    assert list((run.out / "autograder-results").iterdir()) == []


def test_a_daemon_thread_cannot_rewrite_results(attack):
    run = attack(
        FORGE,
        """
        import threading
        import time

        ATTEMPTS = []

        def _keep_forging():
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                for path in ($results, os.path.join($fake_results, "results.json")):
                    ATTEMPTS.append(_attempt(lambda: _forge(path)))
                time.sleep(0.02)

        threading.Thread(target=_keep_forging, daemon=True).start()

        def attack(x):
            time.sleep(0.2)
            return {"attempts": len(ATTEMPTS), "last": ATTEMPTS[-1] if ATTEMPTS else ""}
    """,
    )
    assert run.observation["attempts"] > 0
    assert refused(run.observation["last"]), run.observation
    assert_unchanged_later(run)


def test_a_forked_child_cannot_rewrite_results_later(attack):
    run = attack(
        FORGE,
        """
        import time

        def attack(x):
            def fork():
                pid = os.fork()
                if pid == 0:
                    deadline = time.monotonic() + 5
                    while time.monotonic() < deadline:
                        try:
                            _forge($results)
                        except OSError:
                            pass
                        time.sleep(0.05)
                    os._exit(0)
                return pid

            return {"fork": _attempt(fork)}
    """,
    )
    assert run.observation["fork"].startswith("denied: PermissionError"), run.observation
    assert_unchanged_later(run)


DAEMON = (
    "import sys, time\n"
    "deadline = time.monotonic() + 5\n"
    "while time.monotonic() < deadline:\n"
    "    try:\n"
    '        open(sys.argv[1], \'w\').write(\'{"score": 1000.0, "output": "FORGED"}\')\n'
    "    except OSError:\n"
    "        pass\n"
    "    time.sleep(0.05)\n"
)


def test_a_setsid_daemon_cannot_rewrite_results_later(attack, stray_token):
    run = attack(
        """
        import subprocess

        def attack(x):
            command = [sys.executable, "-c", $daemon, $results, $token]
            return {
                "popen": _attempt(lambda: subprocess.Popen(command, start_new_session=True,
                                                           stdout=subprocess.DEVNULL,
                                                           stderr=subprocess.DEVNULL).pid),
                "spawn": _attempt(lambda: os.posix_spawn(sys.executable, command,
                                                         dict(os.environ), setsid=True)),
                "setsid": _attempt(os.setsid),
            }
    """,
        values={"daemon": DAEMON, "token": stray_token},
    )
    assert run.observation["popen"].startswith("denied: PermissionError"), run.observation
    assert run.observation["spawn"].startswith("denied: PermissionError"), run.observation
    assert_unchanged_later(run)
    assert processes_with(stray_token) == []


def test_watching_the_results_folder_with_inotify_is_denied(attack):
    run = attack("""
        import ctypes

        def attack(x):
            libc = ctypes.CDLL(None, use_errno=True)

            def watch():
                fd = libc.inotify_init1(0)
                if fd < 0:
                    error = ctypes.get_errno()
                    raise OSError(error, os.strerror(error))
                folder = os.path.dirname($results).encode()
                wd = libc.inotify_add_watch(fd, folder, 0x00000008 | 0x00000080)
                if wd < 0:
                    error = ctypes.get_errno()
                    raise OSError(error, os.strerror(error))
                return f"watching {folder!r}"

            return {"inotify": _attempt(watch)}
    """)
    assert run.observation["inotify"].startswith("denied: PermissionError"), run.observation


PROTOCOL_FORGERY = """
import json
import stat

def _write_on_every_pipe(message):
    line = (json.dumps(message) + "\\n").encode()
    written = []
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, line)
                written.append(fd)
        except OSError:
            pass
    return written

WRITTEN = _write_on_every_pipe($message)

def attack(x):
    return {"written": WRITTEN}
"""


@modes("default")
def test_a_forged_ready_message_cannot_rewrite_the_recorded_sandbox_layers(attack):
    run = attack(
        PROTOCOL_FORGERY,
        values={
            "message": {
                "status": "ready",
                "output": "",
                "value": {
                    "policy": "strict",
                    "applied": ["FORGED: every layer"],
                    "unavailable": {},
                    "isolating": ["namespaces", "uid", "landlock"],
                },
            }
        },
        scores=None,
        check_layers=False,
    )
    assert run.layers["policy"] == "lenient"
    assert "FORGED" not in run.applied_text()
    assert run.scores() == pytest.approx({"1": 1.0, "2": 0, "3": 0, "4": 0, "5": 0, "6": 0, "7": 0})


@modes("default")
def test_a_forged_policy_refusal_cannot_stop_grading(attack):
    run = attack(
        PROTOCOL_FORGERY,
        values={
            "message": {"status": "policy_refused", "message": "FORGED: strict policy refused"}
        },
        expect_exit=None,
        scores=None,
        check_layers=False,
    )
    assert run.returncode == 0, run.describe()
    assert "FORGED" not in run.results_path.read_text()
    assert run.scores() == pytest.approx({"1": 1.0, "2": 0, "3": 0, "4": 0, "5": 0, "6": 0, "7": 0})


@modes("default")
def test_a_malformed_reply_is_the_students_error_not_the_graders(attack):
    run = attack(
        """
        import json
        import stat
        import time

        def attack(x):
            line = json.dumps({"status": "ok", "value": {"__t": "complex", "re": "abc",
                                                         "im": 0}}) + "\\n"
            for fd in range(3, 64):
                try:
                    if stat.S_ISFIFO(os.fstat(fd).st_mode):
                        os.write(fd, line.encode())
                except OSError:
                    pass
            time.sleep(0.5)  # the grader reads the forged line as this call's reply
            return "sent"
    """,
        scores=None,
    )
    assert run.results["extra_data"]["internal_errors"] == [], run.results["extra_data"]


@modes("default")
def test_without_seccomp_a_forked_setsid_daemon_does_not_outlive_grading(attack, stray_token):
    run = attack(
        """
        import ctypes
        import time

        def attack(x):
            def daemon():
                pid = os.fork()
                if pid == 0:
                    os.setsid()
                    ctypes.CDLL(None).prctl(15, $token.encode(), 0, 0, 0)  # PR_SET_NAME
                    time.sleep(30)  # bounded
                    os._exit(0)
                return pid

            return {"fork": _attempt(daemon)}
    """,
        values={"token": stray_token},
        env={"GRADER_SANDBOX_DISABLE": "seccomp"},
        check_layers=False,
    )
    assert run.observation["fork"].startswith("ok"), run.observation
    try:
        assert wait_until(lambda: not processes_with(stray_token), 2), (
            f"the daemon {processes_with(stray_token)} outlived grading"
        )
    finally:
        kill_pids(processes_with(stray_token))
