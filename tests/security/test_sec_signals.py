"""Guarantee 5: the submission cannot kill or trace the grader; grading completes.

The grader runs in its own session (see sectest_support.run_grader), so even a killpg that the
sandbox failed to stop would reach the grader only, never pytest. `attack` checks the grader
exited 0 with the grader's scores, i.e. it was alive to the end.
"""

from __future__ import annotations

import os

import pytest
from sectest_support import Run, modes

pytestmark = pytest.mark.sandbox


def assert_denied(outcome: str, run: Run) -> None:
    assert outcome.startswith("denied: PermissionError"), (
        f"expected the sandbox to deny this, the attack saw: {outcome!r}\n{run.describe()}"
    )


def test_killing_the_grader_is_denied(attack):
    run = attack("""
        import signal

        def attack(x):
            grader = os.getppid()
            return {"target": grader, "kill": _attempt(lambda: os.kill(grader, signal.SIGKILL))}
    """)
    assert_denied(run.observation["kill"], run)


def test_killing_the_grader_process_group_is_denied(attack):
    run = attack("""
        import signal

        def attack(x):
            grader = os.getppid()
            group = os.getpgid(grader)
            return {"group": group,
                    "killpg": _attempt(lambda: os.killpg(group, signal.SIGKILL)),
                    "kill -group": _attempt(lambda: os.kill(-group, signal.SIGKILL))}
    """)
    assert run.observation["group"] != 0
    assert_denied(run.observation["killpg"], run)
    assert_denied(run.observation["kill -group"], run)


def test_ptrace_attaching_to_the_grader_is_denied(attack):
    run = attack("""
        import ctypes

        PTRACE_ATTACH, PTRACE_DETACH, PTRACE_SEIZE = 16, 17, 0x4206

        def attack(x):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                                    ctypes.c_void_p]
            grader = os.getppid()

            def trace(request):
                if libc.ptrace(request, grader, None, None) != 0:
                    error = ctypes.get_errno()
                    raise OSError(error, os.strerror(error))
                if request == PTRACE_ATTACH:  # it worked: let the grader go at once
                    os.waitpid(grader, 0x40000000)
                    libc.ptrace(PTRACE_DETACH, grader, None, None)
                return "attached"

            return {"attach": _attempt(lambda: trace(PTRACE_ATTACH)),
                    "seize": _attempt(lambda: trace(PTRACE_SEIZE))}
    """)
    assert_denied(run.observation["attach"], run)
    assert_denied(run.observation["seize"], run)


@modes("default")
def test_kill_minus_one_from_the_sandbox_user_is_denied(attack, mode):
    """kill(-1) signals every process the caller may signal: as root, the whole machine. It is
    only attempted once the child has proven it runs as the unprivileged sandbox uid (neither
    root, nor pytest's user, nor the grader's user)."""
    if not mode.expects_uid_switch:
        pytest.skip("kill(-1) is only safe to try when the child runs as the sandbox user")
    run = attack("""
        import signal

        def attack(x):
            uid = os.getuid()
            if uid in (0, $pytest_uid, $grader_uid) or os.geteuid() in (0, $pytest_uid):
                return {"uid": uid, "kill": "refused: not running as the sandbox user"}
            return {"uid": uid, "kill": _attempt(lambda: os.kill(-1, signal.SIGKILL))}
    """)
    assert run.observation["uid"] not in (0, os.geteuid()), run.observation
    assert_denied(run.observation["kill"], run)
