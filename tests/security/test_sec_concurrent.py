"""Guarantee 6, seen from a neighbour: finishing one grading must not touch another grading
that runs at the same time on the same machine (a TA's parallel batch, two CI jobs). Both share
the sandbox uid (default mode) or the grader's user (unprivileged mode), and the grader kills
leftover processes by session and by uid when a child ends."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sectest_support import EXPENSIVE_MODES, modes

pytestmark = pytest.mark.sandbox


@modes(*EXPENSIVE_MODES)
def test_finishing_one_grading_does_not_kill_another_gradings_sandbox(attack):
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(
            attack,
            """
            import time

            def long_attack(x):
                time.sleep(3)
                return "survived"
        """,
        )
        time.sleep(1.0)  # the slow grading's child is now inside long_attack
        quick = attack(
            """
            def attack(x):
                return "quick"
        """,
            check_strays=False,
        )
        run = slow.result(timeout=120)
    assert quick.observation == "quick"
    assert run.observation == "survived", run.test("3")["output"]
