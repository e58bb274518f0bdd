"""The strict policy: no student code runs unless namespaces, an unprivileged uid or Landlock
isolate it; the lenient policy grades anyway and says what was missing.

The submission proves whether it ran: at import it writes a marker file into the run's output
folder. With every isolating layer switched off nothing stops that write (the folder belongs to
the user the grader runs as), so the lenient run, which must leave the marker, shows the
channel works, and the marker's absence after a strict run shows the code never ran.
"""

from __future__ import annotations

import pytest
from sectest_support import EXPENSIVE_MODES, modes

pytestmark = pytest.mark.sandbox

NO_ISOLATION = {"GRADER_SANDBOX_DISABLE": "namespaces,uid,landlock"}

LEAVES_A_MARK = """
def _leave_a_mark():
    with open(os.path.join(os.path.dirname($results), "ran-at-import.txt"), "w") as marker:
        marker.write(f"student code ran as uid {os.getuid()}")

MARK = _attempt(_leave_a_mark)

def attack(x):
    return {"mark": MARK}
"""


@modes(*EXPENSIVE_MODES)
def test_strict_policy_refuses_to_run_code_without_an_isolating_layer(attack):
    run = attack(
        LEAVES_A_MARK,
        env=NO_ISOLATION,
        extra_args=("--policy", "strict"),
        expect_exit=4,
        scores=None,
        check_layers=False,
    )
    assert not (run.out / "ran-at-import.txt").exists(), "student code ran under strict policy"
    assert run.observed == []
    assert run.results["tests"] == []
    assert run.results["score"] == 0
    why = run.results["output"]
    assert "strict sandbox policy" in why
    for layer in ("namespaces", "uid", "landlock"):
        assert layer in why


@modes(*EXPENSIVE_MODES)
def test_lenient_policy_grades_without_isolation_and_lists_what_was_unavailable(attack):
    run = attack(LEAVES_A_MARK, env=NO_ISOLATION, check_layers=False)
    assert (run.out / "ran-at-import.txt").exists(), "the marker channel does not work"
    assert run.observation["mark"].startswith("ok"), run.observation
    layers = run.layers
    assert layers["policy"] == "lenient"
    assert layers["isolating"] == []
    for layer in ("namespaces", "uid", "landlock"):
        assert "disabled" in layers["unavailable"][layer], layers
    assert "seccomp:" in run.applied_text()


@modes(*EXPENSIVE_MODES)
def test_strict_policy_grades_normally_when_layers_are_available(attack):
    run = attack(LEAVES_A_MARK, extra_args=("--policy", "strict"))
    assert run.observation["mark"].startswith("denied: PermissionError"), run.observation
    assert run.layers["policy"] == "strict"
    assert not (run.out / "ran-at-import.txt").exists()
