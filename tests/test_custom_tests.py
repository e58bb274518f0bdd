"""Custom unittest suites with gradescope-utils decorators, run against the sandboxed submission."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader.grading.engine import Engine
from grader.rubric.model import load_rubric
from grader.submission.staged import open_submission
from grader.trusted.reference import load_reference

SUITE = '''
import unittest
from gradescope_utils.autograder_utils.decorators import number, partial_credit, weight

class TestStudent(unittest.TestCase):
    @weight(2)
    @number("1")
    def test_square(self):
        """square(3) is 9"""
        self.assertEqual(submission.square(3), 9)

    @partial_credit(4)
    @number("2")
    def test_overclaimed_partial_credit_is_capped(self, set_score=None):
        """partial credit"""
        set_score(10)

    @weight(1)
    @number("3")
    @unittest.skip("not today")
    def test_skipped(self):
        """skipped test"""

    @weight(1)
    @number("4")
    def test_subtests(self):
        """subtests"""
        for value in (1, 2):
            with self.subTest(value=value):
                self.assertEqual(submission.square(value), 1)

    @weight(1)
    @number("5")
    def test_reference_is_available(self):
        """reference"""
        self.assertEqual(submission.square(4), reference.square(4))

    @weight(1)
    @number("6")
    def test_student_exception_fails_the_test(self):
        """student error"""
        submission.explode()


    @weight(1)
    @number("8")
    def test_map_answers_as_a_loop_of_calls_would(self):
        """map"""
        calls = [(1,), (2,), (3,)]
        self.assertEqual(submission.grow.map(calls), [[1], [1, 2], [1, 2, 3]])

    @weight(1)
    @number("9")
    def test_map_fails_at_the_first_call_that_raises(self):
        """map raising"""
        submission.explode.map([(), ()])


class TestBrokenSetUp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        raise RuntimeError("fixture missing")

    @weight(3)
    @number("7")
    def test_never_runs(self):
        """needs the fixture"""
'''


@pytest.fixture
def graded(tmp_path: Path):
    (tmp_path / "ref.py").write_text("def square(x):\n    return x * x\n")
    (tmp_path / "suite.py").write_text(SUITE)
    (tmp_path / "rubric.yaml").write_text(
        textwrap.dedent("""
        assignment: custom
        title: Custom
        total_points: 15
        seed: 3
        reference: ref.py
        submission: {entry: answers.py}
        custom_tests: [{module: suite.py, points: 15}]
        questions:
          - number: "0"
            title: placeholder
            points: 0
            parts: [{name: p, points: 0, manual: nothing}]
    """)
    )
    submission = tmp_path / "student"
    submission.mkdir()
    (submission / "answers.py").write_text(
        "def square(x):\n    return x * x\n\ndef explode():\n    raise ValueError('boom')\n"
        "HISTORY = []\ndef grow(n):\n    HISTORY.append(n)\n    return HISTORY\n"
    )
    loaded = load_rubric(tmp_path / "rubric.yaml")
    engine = Engine(loaded, load_reference(loaded.reference_path))
    with open_submission(submission, loaded.rubric.submission) as staged:
        result = engine.grade(staged)
    return {q.number: q for q in result.questions}


@pytest.mark.sandbox
def test_passing_weighted_test_earns_its_weight(graded):
    assert (graded["1"].score, graded["1"].max_score, graded["1"].status) == (2, 2, "passed")


@pytest.mark.sandbox
def test_partial_credit_is_capped_at_the_weight(graded):
    assert graded["2"].score == 4 and graded["2"].max_score == 4


@pytest.mark.sandbox
def test_skipped_tests_are_reported_as_failed_instead_of_vanishing(graded):
    assert graded["3"].status == "failed" and "skipped: not today" in graded["3"].output


@pytest.mark.sandbox
def test_failing_subtests_fail_the_test(graded):
    assert graded["4"].status == "failed" and graded["4"].score == 0


@pytest.mark.sandbox
def test_tests_see_the_reference_module(graded):
    assert graded["5"].status == "passed"


@pytest.mark.sandbox
def test_an_exception_in_student_code_fails_the_test_with_its_message(graded):
    assert (
        graded["6"].status == "failed" and "explode raised ValueError: boom" in graded["6"].output
    )


@pytest.mark.sandbox
def test_tests_whose_class_set_up_failed_are_reported_not_lost(graded):
    assert graded["7"].status == "failed" and graded["7"].max_score == 3
    assert "fixture missing" in graded["7"].output


@pytest.mark.sandbox
def test_map_gives_each_call_s_result_as_it_returned(graded):
    assert graded["8"].status == "passed", graded["8"].output


@pytest.mark.sandbox
def test_map_fails_the_test_at_the_first_call_that_raises(graded):
    assert (
        graded["9"].status == "failed" and "explode raised ValueError: boom" in graded["9"].output
    )
