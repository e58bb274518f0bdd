"""Guarantees 2, 7 and 8: hidden answers and hidden inputs never reach the student through
feedback, and what a submission prints is not shown raw for hidden cases.

Question 5 (hidden) expects "<canary>-hidden-answer"; question 6 (visible) has a public case and
a hidden case whose input is "<canary>-hidden-input". The student's function necessarily receives
that input; it must not be able to get it back out through the feedback. `attack` fails any test
whose results.json contains the canary.

What protects these is the engine's feedback, not an isolation layer: default mode only.
"""

from __future__ import annotations

import pytest
from sectest_support import modes

pytestmark = [pytest.mark.sandbox, modes("default")]


def test_a_hidden_answer_never_appears_in_feedback(attack):
    run = attack("""
        SECRET = "a guess"

        def attack(x):
            return "guessed"
    """)
    assert run.test("5")["score"] == 0
    assert "secret" in run.test("5")["output"]


def test_printing_a_hidden_input_before_crashing_does_not_reveal_it(attack):
    run = attack(
        """
        def echo(x):
            print("the hidden input is", x)
            sys.stdout.flush()
            os.write(2, f"raw: {x}\\n".encode())
            if x != "public input":
                os._exit(3)
            return "echo:" + x
    """,
        scores={"1": 1.0, "6": 0.0},  # right only on the public case, which earns nothing
    )
    assert "hidden case" in run.test("6")["output"]


def test_an_exception_message_does_not_reveal_a_hidden_input(attack):
    run = attack(
        """
        def echo(x):
            if x != "public input":
                raise ValueError(f"the hidden input is {x!r}")
            return "echo:" + x
    """,
        scores={"1": 1.0, "6": 0.0},  # right only on the public case, which earns nothing
    )
    assert "hidden case" in run.test("6")["output"]


def test_a_hidden_input_cannot_be_smuggled_out_through_a_later_visible_answer(attack):
    attack(
        """
        SEEN = []

        def echo(x):
            SEEN.append(x)
            return "echo:" + x

        def __getattr__(name):
            if name == "CUSTOM":
                return "inputs seen: " + ", ".join(SEEN)
            raise AttributeError(name)
    """,
        scores={"1": 1.0, "6": 1.0},
    )


def test_a_hidden_input_cannot_be_smuggled_out_through_a_file_in_the_work_folder(attack):
    attack(
        """
        def echo(x):
            with open("seen.txt", "a") as seen:
                seen.write(x + "; ")
            return "echo:" + x

        def __getattr__(name):
            if name == "CUSTOM":
                try:
                    with open("seen.txt") as seen:
                        return "inputs seen: " + seen.read()
                except OSError as error:
                    return f"nothing seen ({error})"
            raise AttributeError(name)
    """,
        scores={"1": 1.0, "6": 1.0},
    )
