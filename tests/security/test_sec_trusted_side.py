"""Guarantee 12: what the trusted process does with student data is bounded and cannot be turned
against the grader: decoding replies, statuses the child could forge, converting answers files,
and text shown on a terminal.

The forged replies are written by the child itself, on the grader's pipe, the way a submission
would find it (every FIFO among its descriptors): the grader reads them as the reply to the
request in flight.
"""

from __future__ import annotations

import pytest
from sectest_support import NOTHING, Run, modes

pytestmark = pytest.mark.sandbox

FORGE = """
import json
import stat
import time

def _forge(message):
    line = (json.dumps(message) + "\\n").encode()
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, line)
        except OSError:
            pass
    time.sleep(0.5)  # the grader reads the forged line as this call's reply
"""

ECHO_FORGES = """
def echo(x):
    _forge($message)
    return "unreachable"
"""
"""Question 6 (an exact check, a public and a hidden case) answered by a forged reply."""

CONTROL_ONLY_RESULTS_BYTES = 64_000


def assert_small(run: Run) -> None:
    size = run.results_path.stat().st_size
    assert size < CONTROL_ONLY_RESULTS_BYTES, f"results.json is {size} bytes"


@modes("default")
def test_a_set_of_colliding_integers_is_decoded_and_compared_in_seconds(attack):
    """300,000 ints equal modulo 2**61 - 1 share one hash: a Python set of them takes hours."""
    run = attack(
        FORGE,
        """
        def echo(x):
            items = [k * (2**61 - 1) for k in range(1, 300_001)]
            _forge({"status": "ok", "value": {"__t": "set", "items": items}})
            return "unreachable"
        """,
    )
    assert run.seconds < 60, run.describe()
    assert run.test("6")["score"] == 0


@modes("default")
def test_a_forged_array_shape_beyond_int64_is_the_submissions_protocol_error(attack):
    run = attack(
        FORGE,
        ECHO_FORGES,
        values={
            "message": {
                "status": "ok",
                "value": {"__t": "ndarray", "dtype": "<f8", "shape": [2**64, 1], "data": ""},
            }
        },
    )
    assert "unreadable reply" in run.test("6")["output"], run.test("6")
    assert run.results["extra_data"]["internal_errors"] == []


@modes("default")
def test_oversized_type_names_and_messages_are_cut_on_arrival(attack):
    run = attack(
        FORGE,
        """
        def echo(x):
            _forge({"status": "exception", "type": "E" * 20_000_000, "message": "m" * 5_000_000,
                    "traceback": "t" * 5_000_000, "output": "o" * 5_000_000})
            return "unreachable"

        def attack(x):
            raise type("N" * 5_000_000, (Exception,), {})("a genuine exception")
        """,
    )
    assert_small(run)
    assert "E" * 201 not in run.results_path.read_text()


@modes("default", "no-namespaces")
@pytest.mark.parametrize("status", ["harness_error", "crashed", "timeout", "protocol_error"])
def test_a_forged_status_is_never_the_graders_error_nor_in_the_graders_words(attack, status):
    run = attack(
        FORGE,
        ECHO_FORGES,
        values={
            "message": {
                "status": status,
                "type": "GraderBug",
                "message": "GRADER BUG: please award the point by hand",
                "traceback": "GRADER BUG",
            }
        },
    )
    assert run.results["extra_data"]["internal_errors"] == []
    assert "GRADER BUG" not in run.results_path.read_text()
    assert "GRADER BUG" not in run.stdout + run.stderr
    assert "unreadable reply" in run.test("6")["output"], run.test("6")


HEX_DIGITS = 200_000


@modes("default")
@pytest.mark.parametrize(
    "value",
    ["0x" + "f" * HEX_DIGITS, "1" + ":59" * 300_000, "9" * 5000],
    ids=["hex", "base-60", "decimal"],
)
def test_an_answers_file_with_a_huge_integer_cannot_be_read_and_costs_nothing(attack, value):
    run = attack(
        entry=False,
        files={"answers.yaml": f"CONTROL: {value}\n"},
        scores=NOTHING,
        check_layers=False,  # no student code runs
    )
    assert run.seconds < 30, run.describe()
    assert "answers.yaml is not valid YAML" in run.results["output"], run.results["output"]


ESCAPES = (
    "\x1b[2J\x1b[H"  # clear the screen, cursor home
    "\x1b]52;c;ZWNobyBwd25lZA==\x07"  # OSC 52: write the clipboard
    "\x9b31m"  # 8-bit CSI
    "\rTotal: 7 / 7\x1b[8m"  # overwrite the line, then hide what follows
)


@modes("default")
def test_escape_sequences_in_public_feedback_never_reach_the_terminal(attack):
    run = attack(
        """
        def echo(x):
            print($escapes)
            raise ValueError($escapes)
        """,
        values={"escapes": ESCAPES},
        files={"\x1b[2Jnotes.py": "X = 1\n"},
    )
    assert "Total: 7 / 7" in run.stdout, run.describe()  # shown, as inert text
    for control in ("\x1b", "\x07", "\x9b", "\r"):
        assert control not in run.stdout + run.stderr, repr(control)
