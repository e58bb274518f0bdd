"""End-to-end: one plainly wrong answer costs exactly its part's points, and nothing else.

Each submission is correct/hw2.py with replacement definitions appended at the end (a later
definition overrides the earlier one when Python imports the file). The wrong answers match no
mistake or alternative in rubrics/hw2.yaml, so the part earns 0 and the expected loss is the
part's points as written in the rubric.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.sandbox

AUTO_MAX = 7.0
"""hw2's auto-graded points: 1.1.1 (0.5 + 0.5) + 2.1.1 1 + 2.1.2 (0.25 + 0.25) + 2.1.3 0.5
+ 2.2.1 (0.25 + 0.25) + 2.2.2 (0.25 + 0.25) + 2.2.3 1 + 3.1 (0.5 + 0.25 + 0.25)
+ 3.2 (0.75 + 0.25) = 7 (custom tests are worth 0, manual parts are not counted)."""

# question -> (the target made wrong, its replacement appended to correct/hw2.py)
WRONG_ANSWERS: dict[str, tuple[str, str]] = {
    # X w = 0 != t: fails is_min_norm_solution on every case
    "1.1.1": (
        "min_norm_solution",
        """
        def min_norm_solution(X, t):
            return np.zeros(np.shape(X)[1])
    """,
    ),
    # 0 right picks, 1 wrong pick: (0 - 1) / 11 clipped to 0
    "2.1.1": (
        "GRAPH_EDGES",
        """
        GRAPH_EDGES = {("L2", "w0")}
    """,
    ),
    # quadratic instead of constant
    "2.1.2": (
        "FORWARD_MEMORY",
        """
        FORWARD_MEMORY = "O(t^2)"
    """,
    ),
    # none of the keyword groups of either accepted answer
    "2.1.3": (
        "POTENTIAL_PROBLEM",
        """
        POTENTIAL_PROBLEM = "The learning rate could become negative."
    """,
    ),
    # w1 = 0: neither the 1/n step nor the 1/2 ||Xw - t||^2 one
    "2.2.1": (
        "gd_step",
        """
        def gd_step(X, t, w0, eta):
            return np.zeros(np.shape(w0))
    """,
    ),
    "2.2.2": (
        "L1_IS_CONVEX",
        """
        L1_IS_CONVEX = "no"
    """,
    ),
    # a negative learning rate is neither eta* nor eta* without n/2
    "2.2.3": (
        "eta_star",
        """
        def eta_star(X, t, w0):
            return -1.0
    """,
    ),
    # 5x5 of 9s: no element equals I * J (entries in [-2, 3]) or its transpose
    "3.1": (
        "I_CONV_J",
        """
        I_CONV_J = [[9] * 5 for _ in range(5)]
    """,
    ),
    # no layer has 7 parameters, with or without biases or the 14 x 14 spatial size
    "3.2": (
        "PARAMS_PER_LAYER",
        """
        PARAMS_PER_LAYER = [7] * 9
    """,
    ),
}


@pytest.fixture(scope="module")
def correct_source(examples_dir: Path) -> str:
    return (examples_dir / "correct" / "hw2.py").read_text(encoding="utf-8")


def write_submission(folder: Path, correct_source: str, questions: list[str]) -> Path:
    folder.mkdir()
    appended = "".join(textwrap.dedent(WRONG_ANSWERS[q][1]) for q in questions)
    (folder / "hw2.py").write_text(
        correct_source + "\n\n# ---- wrong answers appended by the test ----\n" + appended,
        encoding="utf-8",
    )
    return folder


def rubric_part(hw2_yaml: dict[str, Any], number: str, target: str) -> dict[str, Any]:
    question = next(q for q in hw2_yaml["questions"] if q["number"] == number)
    return next(p for p in question["parts"] if p.get("target") == target)


def auto_points(hw2_yaml: dict[str, Any]) -> dict[str, float]:
    return {
        q["number"]: sum(p["points"] for p in q["parts"] if "manual" not in p)
        for q in hw2_yaml["questions"]
    }


def test_every_question_with_auto_points_has_a_wrong_answer(hw2_yaml) -> None:
    with_points = {number for number, points in auto_points(hw2_yaml).items() if points > 0}
    assert set(WRONG_ANSWERS) == with_points
    assert sum(auto_points(hw2_yaml).values()) == AUTO_MAX
    for number, (target, _) in WRONG_ANSWERS.items():
        assert rubric_part(hw2_yaml, number, target)["points"] > 0, (number, target)


@pytest.mark.parametrize("broken", list(WRONG_ANSWERS))
def test_one_wrong_answer_costs_exactly_its_part(
    broken, hw2_yaml, correct_source, grade_json, hw2_rubric, tmp_path
) -> None:
    target = WRONG_ANSWERS[broken][0]
    part = rubric_part(hw2_yaml, broken, target)
    submission = write_submission(tmp_path / "student", correct_source, [broken])
    results, _ = grade_json(hw2_rubric, submission, tmp_path)

    assert results["score"] == pytest.approx(AUTO_MAX - part["points"], abs=1e-6)
    full = auto_points(hw2_yaml)
    for test in results["tests"]:
        number = test["number"]
        expected = full.get(number, 0.0) - (part["points"] if number == broken else 0.0)
        assert test.get("score", 0) == pytest.approx(expected, abs=1e-6), number
    reported = next(
        p
        for p in next(t for t in results["tests"] if t["number"] == broken)["extra_data"]["parts"]
        if p["name"] == part["name"]
    )
    assert reported["credit"] == 0
    assert reported["mistakes"] == []


def test_one_wrong_answer_in_every_question_costs_the_sum(
    hw2_yaml, correct_source, grade_json, hw2_rubric, tmp_path
) -> None:
    submission = write_submission(tmp_path / "student", correct_source, list(WRONG_ANSWERS))
    results, _ = grade_json(hw2_rubric, submission, tmp_path)

    lost = {
        number: rubric_part(hw2_yaml, number, target)["points"]
        for number, (target, _) in WRONG_ANSWERS.items()
    }
    # 0.5 + 1 + 0.25 + 0.5 + 0.25 + 0.25 + 1 + 0.5 + 0.75 = 5, so 7 - 5 = 2
    assert sum(lost.values()) == pytest.approx(5.0)
    assert results["score"] == pytest.approx(AUTO_MAX - sum(lost.values()), abs=1e-6)
    full = auto_points(hw2_yaml)
    for test in results["tests"]:
        number = test["number"]
        expected = full.get(number, 0.0) - lost.get(number, 0.0)
        assert test.get("score", 0) == pytest.approx(expected, abs=1e-6), number
