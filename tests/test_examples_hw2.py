"""End-to-end: the real `grader grade` CLI on the hw2 example submissions.

Every expected score is derived from rubrics/hw2.yaml (points, mistake credits, penalties), with
the arithmetic in a comment; none is copied from a grader run. Grading one example takes about a
second (slow/ about six), so each example is graded once per session (`graded_example`).
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from run_facts import without_run_facts

from grader.rubric.model import AutoPart, load_rubric
from grader.trusted.cases import build_cases, part_rng
from grader.trusted.reference import load_reference

pytestmark = pytest.mark.sandbox

HW2_RUBRIC = Path(__file__).resolve().parents[1] / "rubrics" / "hw2.yaml"
EXAMPLE_NAMES = ["correct", "starter", "mistakes", "convention", "crashes", "slow"]
CUSTOM_TEST_NUMBERS = {"2.3.2", "2.3.3"}
AUTO_MAX = 7.0
"""hw2's auto-graded points: 1.1.1 (0.5 + 0.5) + 2.1.1 1 + 2.1.2 (0.25 + 0.25) + 2.1.3 0.5
+ 2.2.1 (0.25 + 0.25) + 2.2.2 (0.25 + 0.25) + 2.2.3 1 + 3.1 (0.5 + 0.25 + 0.25)
+ 3.2 (0.75 + 0.25) = 7; custom tests are worth 0; manual parts (1.1.1 proof 1, N 0.8) are not
counted."""


# --- helpers -------------------------------------------------------------------------------


def by_number(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    tests = {test["number"]: test for test in results["tests"]}
    assert len(tests) == len(results["tests"]), "two tests share a number"
    return tests


def yaml_question(hw2_yaml: dict[str, Any], number: str) -> dict[str, Any]:
    return next(q for q in hw2_yaml["questions"] if q["number"] == number)


def yaml_part(hw2_yaml: dict[str, Any], target: str) -> tuple[str, dict[str, Any]]:
    """(question number, part) of the auto part whose target is `target`."""
    for question in hw2_yaml["questions"]:
        for part in question["parts"]:
            if part.get("target") == target:
                return question["number"], part
    raise KeyError(target)


def result_part(results: dict[str, Any], number: str, name: str) -> dict[str, Any]:
    parts = by_number(results)[number]["extra_data"]["parts"]
    return next(p for p in parts if p["name"] == name)


def auto_points(hw2_yaml: dict[str, Any]) -> dict[str, float]:
    """Each question's auto-graded points (manual parts left out), from the rubric."""
    return {
        q["number"]: sum(p["points"] for p in q["parts"] if "manual" not in p)
        for q in hw2_yaml["questions"]
    }


def is_manual(hw2_yaml: dict[str, Any], number: str, name: str) -> bool:
    part = next(p for p in yaml_question(hw2_yaml, number)["parts"] if p["name"] == name)
    return "manual" in part


def squash(text: str) -> str:
    return " ".join(text.split())


def student_visible_texts(graded: Any) -> list[str]:
    results = graded.results
    return [
        results["output"],
        graded.process.stdout,
        *(test["output"] for test in results["tests"]),
    ]


@functools.cache
def loaded_hw2() -> tuple[Any, Any]:
    loaded = load_rubric(HW2_RUBRIC)
    return loaded, load_reference(loaded.reference_path)


def graded_cases(seed: int, target: str) -> tuple[Any, list[Any]]:
    """The reference module and the cases the grader asks `target` for under `seed` (public,
    hidden, then random ones drawn by the rubric's generator from the per-part seed)."""
    loaded, reference = loaded_hw2()
    for q_index, question in enumerate(loaded.rubric.questions):
        for p_index, part in enumerate(question.parts):
            if isinstance(part, AutoPart) and part.target == target:
                assert part.function is not None
                return reference, build_cases(
                    part.function, reference, part_rng(seed, q_index, p_index)
                )
    raise KeyError(target)


# --- correct/ ------------------------------------------------------------------------------


def test_correct_submission_gets_full_marks(graded_example, hw2_yaml) -> None:
    results = graded_example("correct").results
    assert sum(auto_points(hw2_yaml).values()) == AUTO_MAX
    assert results["score"] == pytest.approx(AUTO_MAX)
    assert results["extra_data"]["max_auto_score"] == pytest.approx(AUTO_MAX)
    for test in results["tests"]:
        if "status" not in test:  # graded by hand only: an informational test, never passed
            assert test["name"].endswith("(graded by hand, pending)") and "score" not in test
            continue
        assert test["status"] == "passed", test["name"]
        assert test["score"] == pytest.approx(test["max_score"]), test["name"]
        for part in test["extra_data"]["parts"]:
            if is_manual(hw2_yaml, test["number"], part["name"]):
                assert part["status"] == "pending"
            else:
                assert part["credit"] == 1, (test["number"], part["name"])
                assert part["status"] == "passed", (test["number"], part["name"])
    for number, points in auto_points(hw2_yaml).items():
        assert by_number(results)[number].get("max_score", 0) == pytest.approx(points), number


def test_correct_submission_terminal_report_shows_the_total(graded_example) -> None:
    assert "Total: 7 / 7" in graded_example("correct").process.stdout


# --- starter/ ------------------------------------------------------------------------------


def test_starter_scores_zero_and_every_auto_part_is_not_implemented(
    graded_example, hw2_yaml
) -> None:
    results = graded_example("starter").results
    assert results["score"] == 0
    checked = 0
    for test in results["tests"]:
        if test["number"] in CUSTOM_TEST_NUMBERS:
            continue
        assert test.get("score", 0) == 0, test["name"]
        for part in test["extra_data"]["parts"]:
            manual = is_manual(hw2_yaml, test["number"], part["name"])
            expected = "pending" if manual else "not_implemented"
            assert part["status"] == expected, (test["number"], part["name"])
            checked += not manual
    # every auto part of the rubric was reported
    assert checked == sum(1 for q in hw2_yaml["questions"] for p in q["parts"] if "manual" not in p)


def test_starter_custom_tests_fail_saying_not_implemented(graded_example) -> None:
    tests = by_number(graded_example("starter").results)
    for number in sorted(CUSTOM_TEST_NUMBERS):
        assert tests[number]["status"] == "failed", number
        assert tests[number]["score"] == 0
        assert "not implemented" in tests[number]["output"], tests[number]["output"]


# --- mistakes/ -----------------------------------------------------------------------------


def test_mistakes_get_exactly_the_credit_the_rubric_promises(graded_example) -> None:
    results = graded_example("mistakes").results
    seed = results["extra_data"]["seed"]

    # 2.2.3: eta_star forgets the n/2 factor (mistake eta-star-without-n-over-2, credit 0.5).
    # Every case has n != 2 (where n/2 would be 1 and the mistake invisible): the public case
    # has n = 1, the hidden one n = 3, and the generator redraws n = 2. So each of the 12 cases
    # matches the mistake and earns 0.5.
    _, cases = graded_cases(seed, "eta_star")
    assert [c.kind for c in cases] == ["public"] + ["hidden"] + ["random"] * 10
    assert all(c.kwargs["X"].shape[0] != 2 for c in cases)
    eta_star_credit = 0.5

    expected = {
        # min_norm_solution uses (X^T X)^-1, singular for d > n: no case has the min-norm
        # property (0 * 0.5); sgd starts from ones, off the row space (0 * 0.5). Proof: manual.
        "1.1.1": 0.0,
        "1.1.2": 0.0,  # 0 points
        "1.2.1": 0.0,  # 0 points (adagrad-min-norm has credit 0 anyway)
        "1.2.2": 0.0,  # 0 points
        # select_all, 11 right edges; 9 picked right (eta->w1 and eta->w2 missing) and 1 wrong
        # (L0->w1) with wrong_pick_penalty 1: 1 * (9 - 1 * 1) / 11
        "2.1.1": 1 * (9 - 1 * 1) / 11,
        # O(d) reads as O(1), O(dt) as O(t) since d is a listed constant: 0.25 + 0.25
        "2.1.2": 0.25 + 0.25,
        "2.1.3": 0.5,
        "2.2.1": 0.25 + 0.25,
        "2.2.2": 0.25 + 0.25,
        "2.2.3": 1 * eta_star_credit,
        "2.3.1": 0.0,  # 0 points (lt-power-of-step)
        # I*J: the 3x3 unpadded answer cannot be compared element by element with the 5x5
        # answer, so the whole answer matches conv-no-padding (credit 0.25): 0.5 * 0.25.
        # J_DETECTS right: 0.25. conv2d is cross-correlation (credit 0.5): right on the public
        # case (J is symmetric), which earns nothing (the credit rule: public cases only gate),
        # and 0.5 on each of the 10 random cases, whose kernels are asymmetric: 0.25 * 0.5.
        "3.1": 0.5 * 0.25 + 0.25 + 0.25 * 0.5,
        # PARAMS_PER_LAYER: 8 of 9 layers right, FC-1024 matches fc-without-spatial-size
        # (credit 0.25) per element: 0.75 * (8 + 0.25) / 9. TOTAL_PARAMS is the sum of the
        # student's own layers: total-follows-own-layers, credit 0.5: 0.25 * 0.5.
        # The two 2021-variant parts are worth 0.
        "3.2": 0.75 * (8 + 0.25) / 9 + 0.25 * 0.5,
        "3.3": 0.0,
        "N": 0.0,  # manual
        "2.3.3": 0.0,  # custom tests, 0 points
        "2.3.2": 0.0,
    }
    tests = by_number(results)
    assert set(tests) == set(expected)
    for number, score in expected.items():
        assert tests[number].get("score", 0) == pytest.approx(score, abs=1e-6), number
    assert results["score"] == pytest.approx(sum(expected.values()), abs=1e-5)
    assert results["score"] == pytest.approx(
        sum(t.get("score", 0) for t in results["tests"]), abs=1e-5
    )


@pytest.mark.parametrize(
    ("target", "mistake_id"),
    [
        ("eta_star", "eta-star-without-n-over-2"),
        ("loss_after_t_steps", "lt-power-of-step"),
        ("I_CONV_J", "conv-no-padding"),
        ("conv2d", "cross-correlation"),
        ("PARAMS_PER_LAYER", "fc-without-spatial-size"),
        ("TOTAL_PARAMS", "total-follows-own-layers"),
        ("ADAGRAD_LIMIT", "adagrad-min-norm"),
    ],
)
def test_mistakes_are_recognised_by_id(graded_example, hw2_yaml, target, mistake_id) -> None:
    number, part = yaml_part(hw2_yaml, target)
    assert mistake_id in {m["id"] for m in part["mistakes"]}
    reported = result_part(graded_example("mistakes").results, number, part["name"])
    assert mistake_id in reported["mistakes"], reported


def test_mistakes_big_o_with_a_listed_constant_gets_full_credit_with_a_note(graded_example) -> None:
    test = by_number(graded_example("mistakes").results)["2.1.2"]
    assert test["score"] == pytest.approx(0.5)  # 0.25 + 0.25
    assert "treating d as a constant" in test["output"], test["output"]


# --- convention/ ---------------------------------------------------------------------------


def test_official_convention_gets_full_marks(graded_example) -> None:
    results = graded_example("convention").results
    assert results["score"] == pytest.approx(AUTO_MAX)
    assert all(test.get("status", "passed") == "passed" for test in results["tests"])


@pytest.mark.parametrize(
    ("number", "target"),
    [
        ("2.2.1", "gd_step"),
        ("2.2.2", "second_derivative_L1"),
        ("2.2.3", "eta_star"),
        ("2.3.1", "loss_after_t_steps"),
    ],
)
def test_official_convention_feedback_notes_the_convention(
    graded_example, hw2_yaml, number, target
) -> None:
    notes = [a["note"] for a in yaml_part(hw2_yaml, target)[1]["alternatives"]]
    output = squash(by_number(graded_example("convention").results)[number]["output"])
    assert "convention" in output
    assert any(squash(note) in output for note in notes), output


# --- crashes/ ------------------------------------------------------------------------------


def test_import_crash_scores_zero_everywhere_and_still_exits_0(graded_example) -> None:
    graded = graded_example("crashes")  # graded_example asserted exit code 0
    assert graded.process.returncode == 0
    assert graded.results["score"] == 0
    for test in graded.results["tests"]:
        assert test.get("score", 0) == 0, test["name"]


def test_import_crash_is_explained_once_at_the_top(graded_example) -> None:
    graded = graded_example("crashes")
    assert graded.results["output"].count("FileNotFoundError") == 1, graded.results["output"]
    assert "my_local_data.csv" in graded.results["output"]
    for test in graded.results["tests"]:
        assert "FileNotFoundError" not in test["output"], test["name"]
    assert graded.process.stdout.count("FileNotFoundError") == 1, graded.process.stdout


# --- slow/ ---------------------------------------------------------------------------------


def test_infinite_loop_loses_only_its_own_part(graded_example, hw2_yaml) -> None:
    results = graded_example("slow").results
    eta_points = yaml_part(hw2_yaml, "eta_star")[1]["points"]
    assert results["score"] == pytest.approx(AUTO_MAX - eta_points)  # 7 - 1 = 6
    for number, test in by_number(results).items():
        if number == "2.2.3":
            assert test["score"] == 0
        else:
            assert test.get("score", 0) == pytest.approx(test.get("max_score", 0)), number


def test_infinite_loop_stops_at_the_first_timeout(graded_example, hw2_yaml) -> None:
    graded = graded_example("slow")
    call_timeout = hw2_yaml["limits"]["call_timeout"]
    # one timed-out call, not 12 of them (12 * 5 s): the remaining cases are skipped. The
    # bound leaves room for a loaded machine and still fails at two timed-out calls and more.
    assert graded.seconds < 2 * call_timeout + 5, graded.seconds
    output = by_number(graded.results)["2.2.3"]["output"]
    assert "time limit" in output, output


# --- every example -------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_results_json_matches_the_gradescope_schema(graded_example, schema_validator, name) -> None:
    errors = sorted(schema_validator.iter_errors(graded_example(name).results), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


# --- determinism ---------------------------------------------------------------------------


def test_grading_twice_gives_identical_results(
    graded_example, timed_grade, hw2_rubric, examples_dir, tmp_path
) -> None:
    first = graded_example("mistakes").results
    second = timed_grade(hw2_rubric, examples_dir / "mistakes", tmp_path).results
    assert second["extra_data"]["seed"] == first["extra_data"]["seed"]
    assert without_run_facts(second) == without_run_facts(first)


def test_a_different_submission_id_gives_a_different_seed(
    graded_example, grade_json, hw2_rubric, examples_dir, tmp_path
) -> None:
    default = graded_example("mistakes").results
    other, _ = grade_json(
        hw2_rubric, examples_dir / "mistakes", tmp_path, "--submission-id", "student-42"
    )
    assert other["extra_data"]["seed"] != default["extra_data"]["seed"]


# --- how the submission is uploaded --------------------------------------------------------


def scores(results: dict[str, Any]) -> dict[str, Any]:
    return {
        t["number"]: (
            t.get("score"),
            t.get("max_score"),
            t.get("status"),
            [(p["name"], p["status"], p["credit"]) for p in t["extra_data"]["parts"]],
        )
        for t in results["tests"]
    }


def test_a_single_file_grades_like_its_folder(
    graded_example, grade_json, hw2_rubric, examples_dir, tmp_path
) -> None:
    folder = graded_example("correct").results
    single, _ = grade_json(hw2_rubric, examples_dir / "correct" / "hw2.py", tmp_path)
    assert single["score"] == folder["score"] == pytest.approx(AUTO_MAX)
    assert scores(single) == scores(folder)


def test_a_nested_upload_with_mac_junk_is_found(
    grade_json, hw2_rubric, examples_dir, tmp_path
) -> None:
    student = tmp_path / "student"
    (student / "Homework 2").mkdir(parents=True)
    shutil.copyfile(examples_dir / "correct" / "hw2.py", student / "Homework 2" / "hw2.py")
    # a shallower junk copy: picked by mistake, it would crash at import
    (student / "__MACOSX").mkdir()
    (student / "__MACOSX" / "hw2.py").write_bytes(b"\x00\x05\x16\x07 garbage ) = (\n")
    (student / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1\x00")
    (student / "Homework 2" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1\x00")
    results, _ = grade_json(hw2_rubric, student, tmp_path)
    assert results["score"] == pytest.approx(AUTO_MAX)
    assert all(test.get("status", "passed") == "passed" for test in results["tests"])
    # Both copies sit two levels down and "Homework 2" sorts before "__MACOSX", so the score
    # alone would not show the junk copy being considered; the grader notes every other
    # hw2.py it ignored ("several files are named hw2.py"), and there must be none.
    assert "__MACOSX" not in results["output"], results["output"]
    assert "several files" not in results["output"], results["output"]


def test_a_folder_without_hw2_py_scores_zero_and_says_what_was_uploaded(
    grade_json, hw2_rubric, examples_dir, tmp_path
) -> None:
    upload = tmp_path / "upload"
    upload.mkdir()
    shutil.copyfile(examples_dir / "correct" / "hw2.py", upload / "homework2.py")
    (upload / "scratch.py").write_text("x = 1\n")  # two Python files: which one is unknown
    (upload / "notes.txt").write_text("see the PDF\n")
    results, process = grade_json(hw2_rubric, upload, tmp_path)  # asserts exit 0
    assert process.returncode == 0
    assert results["score"] == 0
    assert "hw2.py was not found" in results["output"], results["output"]
    assert "homework2.py" in results["output"]
    assert "notes.txt" in results["output"]


def test_a_nonexistent_submission_fails_with_a_clear_message(
    run_grader, hw2_rubric, tmp_path
) -> None:
    missing = tmp_path / "no such folder"
    process = run_grader("grade", hw2_rubric, missing, "-o", tmp_path / "results.json")
    assert process.returncode != 0
    assert str(missing) in process.stderr, process.stderr
    assert "no such file" in process.stderr.lower(), process.stderr
    assert "Traceback" not in process.stderr


# --- hidden cases stay hidden ---------------------------------------------------------------


def renderings(value: float) -> set[str]:
    """How an expected value could leak: 4 and 6 significant digits (the grader's %.6g), kept
    only when it has at least 4 significant digits, so round numbers (1, 0.5, integer conv
    outputs) that appear in any text are not taken for a leak."""
    found = set()
    for digits in (4, 6):
        text = f"{value:.{digits}g}"
        mantissa = text.split("e")[0].lstrip("-").replace(".", "").lstrip("0")
        if len(mantissa) >= 4:
            found.add(text)
    return found


def test_hidden_and_random_feedback_never_shows_expected_values(graded_example, hw2_yaml) -> None:
    graded = graded_example("mistakes")
    seed = graded.results["extra_data"]["seed"]

    # The rubric's hidden eta* case, computed by the reference: a = X w0 - t = [-0.5, 1, -1.5],
    # X^T a = [-2, 0, -0.5, -3.5], X X^T a = [-5.5, -0.5, -9.5]: eta* = (3/2) * 16.5 / 120.75
    # = 0.205 (X is 3 x 4: with n = d a mutant swapping them would pass the case)
    hidden = yaml_part(hw2_yaml, "eta_star")[1]["function"]["hidden"][0]
    reference, _ = graded_cases(seed, "eta_star")
    eta = reference.module.eta_star(**{k: np.asarray(v, float) for k, v in hidden.items()})
    assert eta == pytest.approx(1.5 * 16.5 / 120.75)

    canaries: set[str] = renderings(eta)
    for target in (
        "min_norm_solution",
        "sgd",
        "gd_step",
        "loss_after_one_step",
        "second_derivative_L1",
        "eta_star",
        "loss_after_t_steps",
        "conv2d",
    ):
        reference, cases = graded_cases(seed, target)
        for case in cases:
            if case.reveal:
                continue
            if target in ("min_norm_solution", "sgd"):  # property parts: w* is the answer
                value = reference.module.min_norm_solution(case.kwargs["X"], case.kwargs["t"])
            else:
                value = getattr(reference.module, target)(**case.kwargs)
            for number in np.ravel(np.asarray(value, dtype=float)):
                canaries |= renderings(float(number))
    assert len(canaries) >= 50  # the test has something to look for

    tests = by_number(graded.results)
    # hidden/random cases did fail and were explained (so there was feedback that could leak)
    assert "a random case" in tests["2.2.3"]["output"]
    assert "a random case" in tests["2.3.1"]["output"]
    texts = student_visible_texts(graded)
    leaked = sorted(c for c in canaries if any(c in text for text in texts))
    assert not leaked, leaked


@pytest.mark.parametrize("example", ["starter", "mistakes", "crashes", "slow"])
def test_every_example_reports_the_same_tests_as_the_correct_one(graded_example, example):
    def numbers(name: str) -> list[str]:
        return [test["number"] for test in graded_example(name).results["tests"]]

    assert numbers(example) == numbers("correct")
