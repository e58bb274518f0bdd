"""The engine on hostile or broken answers: each costs its own part, with a clear message."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader.grading.engine import Engine
from grader.rubric.model import load_rubric
from grader.submission.staged import open_submission
from grader.trusted.reference import load_reference

pytestmark = pytest.mark.sandbox

RUBRIC = """
assignment: engine-demo
title: Engine demo
total_points: 4
seed: 7
reference: ref.py
submission: {entry: answers.py}
limits: {call_timeout: 2}
questions:
  - number: "1"
    title: A number
    points: 1
    parts:
      - {name: value, points: 1, target: VALUE, answer: {value: 0.5},
         check: {kind: numeric}}
  - number: "2"
    title: A vector
    points: 1
    parts:
      - {name: vector, points: 1, target: VECTOR, answer: {reference: vector},
         check: {kind: array}}
  - number: "3"
    title: A function
    points: 1
    parts:
      - name: twice
        points: 1
        target: twice
        function:
          args: [x]
          array_args: [x]
          reference: twice
          public: [{x: [1, 2]}]
          hidden: [{x: [[3.25]]}]
          random: {generator: cases, count: 4}
        check: {kind: array}
  - number: "4"
    title: Follows a convention
    points: 1
    parts:
      - {name: other, points: 1, target: OTHER, answer: {value: 2}, check: {kind: numeric}}
"""

REFERENCE = """
import numpy as np

def vector():
    return np.array([1.0, 2.0, 3.0])

def twice(x):
    return 2 * np.asarray(x)

def cases(rng):
    return {"x": rng.normal(size=3)}
"""

CORRECT = """
import numpy as np
VALUE = 0.5
VECTOR = [1, 2, 3]
OTHER = 2
def twice(x):
    return 2 * x
"""


@pytest.fixture
def grade(tmp_path: Path):
    (tmp_path / "rubric.yaml").write_text(RUBRIC)
    (tmp_path / "ref.py").write_text(REFERENCE)
    loaded = load_rubric(tmp_path / "rubric.yaml")
    engine = Engine(loaded, load_reference(loaded.reference_path))

    def run(extra: str) -> dict:
        folder = tmp_path / "submission"
        folder.mkdir(exist_ok=True)
        (folder / "answers.py").write_text(textwrap.dedent(CORRECT) + textwrap.dedent(extra))
        with open_submission(folder, loaded.rubric.submission) as submission:
            result = engine.grade(submission)
        return {q.number: q for q in result.questions}

    return run


def feedback(question) -> str:
    return question.feedback_text()


def test_a_correct_submission_earns_everything(grade):
    assert all(q.score == q.max_score == 1 for q in grade("").values())


def test_a_generator_instead_of_a_number_costs_only_that_part(grade):
    questions = grade("VALUE = (i for i in range(3))\n")
    assert questions["1"].score == 0 and "generator" in feedback(questions["1"])
    assert questions["2"].score == questions["3"].score == 1


def test_an_object_with_lying_equality_is_judged_as_data(grade):
    questions = grade("""
        class Always(float):
            def __eq__(self, other):
                return True
            __hash__ = float.__hash__
        VALUE = Always(0.25)
    """)
    assert questions["1"].score == 0


def test_an_object_whose_conversion_raises_is_reported_not_fatal(grade):
    questions = grade("""
        class Bomb(float):
            def __float__(self):
                raise RuntimeError("no")
        class Weird:
            def __array__(self, *args, **kwargs):
                raise RuntimeError("no")
        VALUE = Weird()
    """)
    assert questions["1"].score == 0 and questions["2"].score == 1


def test_monkeypatching_numpy_in_the_submission_does_not_reach_the_grader(grade):
    questions = grade("""
        np.isclose = lambda *args, **kwargs: True
        np.allclose = lambda *args, **kwargs: True
        VECTOR = [9, 9, 9]
    """)
    assert questions["2"].score == 0


def test_nan_answers_are_wrong_not_errors(grade):
    questions = grade("VALUE = float('nan')\n")
    assert questions["1"].score == 0 and questions["1"].status == "failed"


def test_deeply_nested_answer_is_refused_with_a_message(grade):
    questions = grade("""
        VECTOR = []
        for _ in range(500):
            VECTOR = [VECTOR]
    """)
    assert questions["2"].score == 0
    assert "cannot be graded as data" in feedback(questions["2"])


def test_returning_a_lambda_from_a_function_fails_each_case(grade):
    questions = grade("def twice(x):\n    return lambda: x\n")
    assert questions["3"].score == 0 and "function" in feedback(questions["3"])


def test_a_function_that_exits_the_process_costs_only_its_cases(grade):
    questions = grade("def twice(x):\n    import os\n    os._exit(1)\n")
    assert questions["3"].score == 0 and "exited with status 1" in feedback(questions["3"])
    assert questions["4"].score == 1


def test_a_function_that_hangs_stops_after_its_first_timeout(grade):
    questions = grade("def twice(x):\n    while True:\n        pass\n")
    question = questions["3"]
    assert question.score == 0 and "2 s time limit" in feedback(question)
    assert "the remaining 5 cases were not run" in feedback(question)
    assert question.seconds < 6
    assert questions["4"].score == 1


def test_a_missing_function_is_not_implemented(grade):
    questions = grade("del twice\n")
    assert questions["3"].parts[0].status == "not_implemented"


def test_hidden_case_feedback_does_not_show_the_input_or_the_expected_output(grade):
    questions = grade("def twice(x):\n    return 3 * x\n")
    text = feedback(questions["3"])
    assert "public case 1 (x=[1.0, 2.0])" in text
    assert "3.25" not in text and "6.5" not in text and "9.75" not in text


def test_partly_right_function_earns_the_fraction_of_unseen_cases(grade):
    questions = grade("""
        def twice(x):
            import numpy as np
            return 2 * x if np.asarray(x).size != 3 else 0 * x
    """)
    # right on the public case and the hidden one, wrong on the 4 random ones: 1 of 5 unseen
    assert questions["3"].score == pytest.approx(1 / 5, abs=1e-6)  # scores keep 6 decimals


def test_a_function_right_only_on_the_public_case_earns_nothing(grade):
    questions = grade("""
        def twice(x):
            import numpy as np
            return 2 * x if np.asarray(x).size == 2 else 0 * x
    """)
    assert questions["3"].score == 0
    assert "public cases: 1/1 passed" in feedback(questions["3"])


def test_a_failed_public_case_costs_its_share(grade):
    questions = grade("""
        def twice(x):
            import numpy as np
            return 0 * x if np.asarray(x).size == 2 else 2 * x
    """)
    assert questions["3"].score == pytest.approx(5 / 6, abs=1e-6)
    assert "public case 1 (x=[1.0, 2.0])" in feedback(questions["3"])


HIDDEN_INPUT = "3.25"  # the hidden case's input, x = [[3.25]]


def test_an_exception_message_carrying_a_hidden_input_is_not_shown(grade):
    questions = grade("def twice(x):\n    raise ValueError(repr(x.tolist()))\n")
    text = feedback(questions["3"])
    assert "raised ValueError: [1.0, 2.0]" in text  # the public case shows the message
    assert HIDDEN_INPUT not in text and "a hidden case: twice raised ValueError" in text


def test_a_returned_string_carrying_a_hidden_input_is_not_echoed(grade):
    questions = grade("def twice(x):\n    return repr(x.tolist())\n")
    text = feedback(questions["3"])
    assert HIDDEN_INPUT not in text
    assert "a hidden case: returned a str where an array was expected" in text


def test_an_exception_class_named_after_a_hidden_input_is_not_named(grade):
    questions = grade("""
        def twice(x):
            name = "E" + str(x.size) + "_" + str(int(x.ravel()[0] * 100))
            raise type(name, (Exception,), {})()
    """)
    text = feedback(questions["3"])
    assert "325" not in text and "an exception of its own class" in text


def test_output_printed_before_a_crash_on_a_hidden_case_is_not_shown(grade):
    questions = grade("""
        def twice(x):
            import os
            print("LEAK", x.tolist(), flush=True)
            os.write(2, ("LEAK " + repr(x.tolist())).encode())
            os._exit(3)
    """)
    text = feedback(questions["3"])
    assert HIDDEN_INPUT not in text and "exited with status 3" in text


@pytest.fixture
def grade_file(tmp_path):
    """grade_file(source) grades answers.py with exactly this source; returns the result."""
    (tmp_path / "rubric.yaml").write_text(RUBRIC)
    (tmp_path / "ref.py").write_text(REFERENCE)
    loaded = load_rubric(tmp_path / "rubric.yaml")
    engine = Engine(loaded, load_reference(loaded.reference_path))

    def run(source: str):
        folder = tmp_path / "submission"
        folder.mkdir(exist_ok=True)
        (folder / "answers.py").write_text(textwrap.dedent(source))
        with open_submission(folder, loaded.rubric.submission) as submission:
            return engine.grade(submission)

    return run


def test_answers_defined_before_an_import_time_error_are_graded(grade_file):
    result = grade_file(CORRECT + "\ntwice(None + 1)  # a stray test call\n")
    scores = {q.number: q.score for q in result.questions}
    assert scores == {"1": 1, "2": 1, "3": 1, "4": 1}


def test_an_import_time_error_after_answers_is_shown_once(grade_file):
    result = grade_file(CORRECT + "\nraise RuntimeError('stray test call')\n")
    notes = "\n".join(result.notes)
    assert notes.count("RuntimeError: stray test call") == 1
    assert "defined before the error were graded" in notes


def test_names_after_an_import_time_error_count_as_not_defined(grade_file):
    result = grade_file("VALUE = 0.5\nraise RuntimeError('early')\nOTHER = 2\n")
    scores = {q.number: q.score for q in result.questions}
    assert scores["1"] == 1 and scores["4"] == 0


def test_an_error_before_any_answer_is_still_an_import_failure(grade_file):
    result = grade_file("import numpy as np\nraise RuntimeError('first line')\nVALUE = 0.5\n")
    assert result.outcome == "import_error" and result.score == 0


def test_a_listed_case_s_answer_is_computed_once_per_engine(tmp_path: Path):
    counting = REFERENCE + textwrap.dedent("""
        SEEN = []
        _twice = twice

        def twice(x):
            SEEN.append(np.asarray(x).tolist())
            return _twice(x)
    """)
    (tmp_path / "rubric.yaml").write_text(RUBRIC)
    (tmp_path / "ref.py").write_text(counting)
    loaded = load_rubric(tmp_path / "rubric.yaml")
    reference = load_reference(loaded.reference_path)
    engine = Engine(loaded, reference)
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "answers.py").write_text(textwrap.dedent(CORRECT))
    for student in ("first", "second"):
        with open_submission(folder, loaded.rubric.submission, submission_id=student) as staged:
            assert engine.grade(staged).score == 4
    seen = reference.module.SEEN
    assert (seen.count([1, 2]), seen.count([[3.25]])) == (1, 1)
    assert len(seen) > 2  # the random cases, drawn per submission, are computed each time
