"""Guarantees 4 and 5: exiting early, at import or in a function, is reported, costs what it
touched (everything at import, one question in a function), and never ends grading.

At import time the whole submission is lost: every question, the custom test included, is
listed with 0 points and the note says why. In a function only that question is lost.
"""

from __future__ import annotations

import pytest
from sectest_support import EXPENSIVE_MODES, NOTHING, modes

pytestmark = pytest.mark.sandbox

EXITS = {
    "sys.exit(0)": "sys.exit(0)",
    "SystemExit": "raise SystemExit(0)",
    "KeyboardInterrupt": "raise KeyboardInterrupt('bye')",
    "BaseException": "raise BaseException('bye')",
    "os._exit(0)": "os._exit(0)",
}


@modes(*EXPENSIVE_MODES)
@pytest.mark.parametrize("how", EXITS)
def test_exiting_at_import_time_loses_every_question_but_grading_completes(attack, how):
    run = attack(
        f"""
        def attack(x):
            return "never called"

        {EXITS[how]}
    """,
        scores=NOTHING,
        check_layers=False,
    )
    assert run.observed == []
    assert "could not be imported" in run.results["output"]
    assert run.test("7")["output"].startswith("not run")


@modes(*EXPENSIVE_MODES)
@pytest.mark.parametrize("how", EXITS)
def test_exiting_in_a_function_loses_only_that_question(attack, how):
    run = attack(f"""
        def attack(x):
            {EXITS[how]}
    """)
    assert run.observed == []
    assert run.part("2")["credit"] == 0
    assert run.test("2")["output"].strip()


@modes("default")
def test_an_import_time_exit_is_recorded_with_the_layers_that_confined_it(attack):
    run = attack(
        """
        sys.exit(0)
    """,
        scores=NOTHING,
        check_layers=False,
    )
    assert "no student code was run" not in str(run.layers)
    assert "seccomp:" in run.applied_text()
