"""Guarantees 4 and 5: exiting early, at import or in a function, is reported, costs what it
touched, and never ends grading.

At import time, an exit raised as an exception (sys.exit, SystemExit, KeyboardInterrupt, any
BaseException) keeps the answers defined before it, graded like any other and never more, with
the exit noted once; everything after it counts as not defined. A process that ends itself
(os._exit) loses every question, the custom test included, and the note says why. In a
function only that question is lost.
"""

from __future__ import annotations

import pytest
from sectest_support import CONTROL_ONLY, EXPENSIVE_MODES, NOTHING, modes

pytestmark = pytest.mark.sandbox

EXITS = {
    "sys.exit(0)": "sys.exit(0)",
    "SystemExit": "raise SystemExit(0)",
    "KeyboardInterrupt": "raise KeyboardInterrupt('bye')",
    "BaseException": "raise BaseException('bye')",
    "os._exit(0)": "os._exit(0)",
}
RAISED_EXITS = [how for how in EXITS if how != "os._exit(0)"]


@modes(*EXPENSIVE_MODES)
@pytest.mark.parametrize("how", RAISED_EXITS)
def test_an_exit_raised_at_import_keeps_only_the_answers_defined_before_it(attack, how):
    run = attack(
        f"""
        {EXITS[how]}

        def attack(x):
            return "never called"

        CUSTOM = 7
    """,
        scores=CONTROL_ONLY,
        check_layers=False,
    )
    assert run.observed == []
    assert "raised an error while being imported" in run.results["output"]
    assert run.test("7")["score"] == 0


@modes(*EXPENSIVE_MODES)
def test_ending_the_process_at_import_loses_every_question_but_grading_completes(attack):
    run = attack(
        """
        def attack(x):
            return "never called"

        os._exit(0)
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
        scores=CONTROL_ONLY,
        check_layers=False,
    )
    assert "no student code was run" not in str(run.layers)
    assert "seccomp:" in run.applied_text()
