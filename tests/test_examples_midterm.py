"""End-to-end: the real `grader` CLI on the midterm's example submissions.

The midterm is the second assignment and, by design (issue 7), needed a rubric and a reference
module and nothing else: no engine code mentions it. Every expected score below is derived from
rubrics/midterm.yaml (points, mistake credits, penalties), with the arithmetic in a comment; none
is copied from a grader run. Each example is graded once per session (about 3 to 7 s each, most
of it importing torch in the grader and in the sandboxed child).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from grader.rubric.model import load_rubric
from grader.trusted.cases import Case, build_cases, part_rng
from grader.trusted.reference import ReferenceModule, load_reference

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).resolve().parents[1]
RUBRIC = REPO / "rubrics" / "midterm.yaml"
EXAMPLES = REPO / "submissions_example" / "midterm"
TOTAL = 14.0
"""1.a 1.5 + 1.b 0.5 + 1.c 0.5 + 1.d 0.5 + 1.e 1.5 + 1.f 0.5 + 1.h 1.5 + 2.a 0.5 + 2.b 1.5
+ 3 2 + 7.a 1.5 + 7.b 1.5 + 7.c 0.5 = 14, all auto-graded (no manual parts, no custom tests)."""


# --- helpers -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def graded(timed_grade, tmp_path_factory) -> Callable[[str], Any]:
    """graded("mistakes") grades submissions_example/midterm/mistakes once per session."""
    cache: dict[str, Any] = {}

    def get(name: str) -> Any:
        if name not in cache:
            folder = EXAMPLES / name
            assert folder.is_dir(), f"no example submission {folder}"
            cache[name] = timed_grade(RUBRIC, folder, tmp_path_factory.mktemp(f"midterm-{name}"))
        return cache[name]

    return get


@pytest.fixture(scope="session")
def rubric_yaml() -> dict[str, Any]:
    return yaml.safe_load(RUBRIC.read_text(encoding="utf-8"))


def by_number(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    tests = {test["number"]: test for test in results["tests"]}
    assert len(tests) == len(results["tests"]), "two tests share a number"
    return tests


def result_part(results: dict[str, Any], number: str, index: int) -> dict[str, Any]:
    return by_number(results)[number]["extra_data"]["parts"][index]


def yaml_part(rubric_yaml: dict[str, Any], number: str, index: int) -> dict[str, Any]:
    question = next(q for q in rubric_yaml["questions"] if q["number"] == number)
    return question["parts"][index]


@functools.cache
def loaded_midterm() -> tuple[Any, ReferenceModule]:
    loaded = load_rubric(RUBRIC)
    return loaded, load_reference(loaded.reference_path)


def graded_cases(seed: int, number: str, index: int) -> tuple[Any, list[Case]]:
    """The reference module and the cases the grader used for part `index` of question
    `number` under `seed` (public, hidden, then random ones from the per-part seed)."""
    loaded, reference = loaded_midterm()
    q_index, question = next(
        (i, q) for i, q in enumerate(loaded.rubric.questions) if q.number == number
    )
    part = question.parts[index]
    assert part.function is not None
    return reference.module, build_cases(part.function, reference, part_rng(seed, q_index, index))


# --- the rubric and the engine ----------------------------------------------------------------


def test_the_rubric_validates(run_grader) -> None:
    process = run_grader("validate", RUBRIC)
    assert process.returncode == 0, process.stderr
    assert "14 auto points of 14" in process.stdout


def test_the_rubric_points_add_up_to_14(rubric_yaml) -> None:
    parts = [p for q in rubric_yaml["questions"] for p in q["parts"]]
    assert sum(p["points"] for p in parts) == rubric_yaml["total_points"] == TOTAL
    assert not any("manual" in p for p in parts)


def test_answers_prints_the_exam_numbers_for_tas(run_grader) -> None:
    process = run_grader("answers", RUBRIC)
    assert process.returncode == 0, process.stderr
    text = " ".join(process.stdout.split())
    for number in (
        "[32, 128, 26, 26]",
        "[32, 128, 14, 14]",
        "[10, 40, 16, 16]",
        "[3, 7, 15]",
        "0.9009009",
    ):
        assert number in text, number


def test_no_engine_file_mentions_the_midterm() -> None:
    # Issue 7: a new assignment is a rubric and a reference module, never engine code.
    hits = []
    for folder, _, files in os.walk(REPO / "grader"):
        for name in files:
            path = Path(folder) / name
            if "midterm" in str(path.relative_to(REPO)).lower():
                hits.append(f"{path}: name")
            elif b"midterm" in path.read_bytes().lower():
                hits.append(f"{path}: content")
    assert not hits, hits


# --- correct/ ------------------------------------------------------------------------------


def test_correct_submission_gets_full_marks(graded, rubric_yaml) -> None:
    results = graded("correct").results
    assert results["score"] == pytest.approx(TOTAL)
    assert results["extra_data"]["max_auto_score"] == pytest.approx(TOTAL)
    assert results["extra_data"]["internal_errors"] == []
    for test in results["tests"]:
        assert test["status"] == "passed", test["name"]
        for part in test["extra_data"]["parts"]:
            assert part["credit"] == 1, (test["number"], part["name"])
            assert part["status"] == "passed", (test["number"], part["name"])
    points = {q["number"]: q["points"] for q in rubric_yaml["questions"]}
    assert {n: t["max_score"] for n, t in by_number(results).items()} == pytest.approx(points)


def test_correct_submission_does_not_import_the_reference() -> None:
    source = (EXAMPLES / "correct" / "midterm.py").read_text(encoding="utf-8")
    assert "reference" not in source and "midterm_harness" not in source


# --- starter/ ------------------------------------------------------------------------------


def test_starter_scores_zero_and_every_auto_part_is_not_implemented(graded, rubric_yaml) -> None:
    results = graded("starter").results
    assert results["score"] == 0
    parts = [part for test in results["tests"] for part in test["extra_data"]["parts"]]
    assert len(parts) == sum(len(q["parts"]) for q in rubric_yaml["questions"])
    for test in results["tests"]:
        assert test["score"] == 0, test["name"]
        assert test["extra_data"]["status"] == "not_implemented", test["name"]
        for part in test["extra_data"]["parts"]:
            assert part["status"] == "not_implemented", (test["number"], part["name"])


# --- mistakes/ -----------------------------------------------------------------------------


def test_mistakes_get_exactly_the_credit_the_rubric_promises(graded) -> None:
    results = graded("mistakes").results
    seed = results["extra_data"]["seed"]

    # receptive_field ignores the strides. The mistake shows on every case: the public stack
    # has stride 2, the hidden one strides 2 and 3 before its last layer, and the generator
    # redraws stacks on which ignoring strides gives the right answer.
    reference, cases = graded_cases(seed, "1.h", 0)
    assert [c.kind for c in cases] == ["public", "hidden"] + ["random"] * 10
    for case in cases:
        assert reference.receptive_field_ignoring_strides(
            **case.kwargs
        ) != reference.receptive_field(**case.kwargs)

    expected = {
        # conv_output_shape forgets the +1: every size is exactly one too small on every case,
        # which is mistake conv-no-plus-one (credit 0.5; on exam case (ii) it coincides with
        # conv-single-padding, also 0.5): 1 * 0.5. CONV_SHAPE_I right: 0.25. CONV_SHAPE_II
        # [32, 128, 13, 13] is conv-no-plus-one-or-single-padding (credit 0.5): 0.25 * 0.5.
        "1.a": 1 * 0.5 + 0.25 + 0.25 * 0.5,
        "1.b": 0.0,  # a vertical-edge filter: the predicate fails it
        "1.c": 0.5,  # Roberts' cross
        "1.d": 0.0,  # the right shift (the kernel flipped, as for convolution): fails
        # output_padding forgotten: layers e and f match transposed-conv-without-output-padding
        # per item (credit 0.5), a to d are right: 1.5 * (4 + 2 * 0.5) / 6
        "1.e": 1.5 * (4 + 2 * 0.5) / 6,
        "1.f": 0.5,  # a tuple is a shape too
        # receptive_field: receptive-field-ignores-strides (credit 0.25) on all 12 cases:
        # 1 * 0.25; the exam example [3, 5, 7] is the same mistake: 0.5 * 0.25
        "1.h": 1 * 0.25 + 0.5 * 0.25,
        "2.a": 0.0,  # "0.001" is mistake lr-too-low, credit 0
        "2.b": 0.0,  # missing zero_grad: mistake missing-zero-grad, credit 0, on every case
        # select_all, 4 right letters (A, C, D, G); picked A and C right and E wrong, with
        # wrong_pick_penalty 1: 2 * (2 - 1 * 1) / 4
        "3": 2 * (2 - 1 * 1) / 4,
        # the step drops the factor 2: gradient-without-factor-two (credit 0.5) on every case
        # (the generator keeps the residual away from 0): 0.5 * 0.5. Run from 0, the half-length
        # step still converges to the same limit (the limit does not depend on the step size,
        # and every case's step count is chosen for a half-length step): 1 * 1.
        "7.a": 0.5 * 0.5 + 1 * 1,
        # LIMIT_IDENTITY and LIMIT_DIAG_ABS right (0.5 + 0.5), within rtol 1e-3 of the rounded
        # exam numbers; [1, 100, 1000] / 3 is rescaled-limit-mapped-back-wrongly, credit 0.25
        "7.b": 0.5 + 0.5 + 0.5 * 0.25,
        "7.c": 0.0,  # "no" is mistake sampling-changes-the-limit, credit 0
    }
    tests = by_number(results)
    assert set(tests) == set(expected)
    for number, score in expected.items():
        assert tests[number]["score"] == pytest.approx(score, abs=1e-6), number
    assert results["score"] == pytest.approx(sum(expected.values()), abs=1e-5)  # 6.375


@pytest.mark.parametrize(
    ("number", "index", "mistake_id"),
    [
        ("1.a", 0, "conv-no-plus-one"),
        ("1.a", 2, "conv-no-plus-one-or-single-padding"),
        ("1.e", 0, "transposed-conv-without-output-padding"),
        ("1.h", 0, "receptive-field-ignores-strides"),
        ("1.h", 1, "receptive-field-ignores-strides"),
        ("2.a", 0, "lr-too-low"),
        ("2.b", 0, "missing-zero-grad"),
        ("7.a", 0, "gradient-without-factor-two"),
        ("7.b", 2, "rescaled-limit-mapped-back-wrongly"),
        ("7.c", 0, "sampling-changes-the-limit"),
    ],
)
def test_mistakes_are_recognised_by_id(graded, rubric_yaml, number, index, mistake_id) -> None:
    assert mistake_id in {m["id"] for m in yaml_part(rubric_yaml, number, index)["mistakes"]}
    reported = result_part(graded("mistakes").results, number, index)
    assert mistake_id in reported["mistakes"], reported


def test_the_missing_zero_grad_is_explained_on_every_case(graded, rubric_yaml) -> None:
    part = result_part(graded("mistakes").results, "2.b", 0)
    assert part["mistakes"] == ["missing-zero-grad"]
    assert part["cases"] == [0, 5]  # 1 public + 4 random cases, none right
    output = " ".join(by_number(graded("mistakes").results)["2.b"]["output"].split())
    assert "optimizer.zero_grad()" in output
    assert "(x4)" in output  # the four random cases share one explanation


def test_filter_feedback_explains_what_the_wrong_filters_do(graded) -> None:
    tests = by_number(graded("mistakes").results)
    assert "vertical-edge filter" in tests["1.b"]["output"]
    assert "RIGHT" in tests["1.d"]["output"]
    assert "cross-correlation" in tests["1.d"]["output"]


def test_random_case_feedback_never_shows_expected_values(graded) -> None:
    results = graded("mistakes").results
    seed = results["extra_data"]["seed"]
    canaries: set[str] = set()
    for number, index, reference_name in [
        ("2.b", 0, "train_steps"),
        ("7.a", 0, "preconditioned_step"),
    ]:
        reference, cases = graded_cases(seed, number, index)
        for case in cases:
            if case.reveal:
                continue
            value = getattr(reference, reference_name)(**case.kwargs)
            for item in value if isinstance(value, list) else [value]:
                for number_ in np.ravel(np.asarray(item, dtype=float)):
                    text = f"{float(number_):.6g}"
                    if len(text.lstrip("-").replace(".", "").lstrip("0")) >= 4:
                        canaries.add(text)
    assert len(canaries) >= 30  # the test has something to look for
    texts = [
        results["output"],
        graded("mistakes").process.stdout,
        *(test["output"] for test in results["tests"]),
    ]
    leaked = sorted(c for c in canaries if any(c in text for text in texts))
    assert not leaked, leaked


# --- every example -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["correct", "starter", "mistakes"])
def test_results_json_matches_the_gradescope_schema(graded, schema_validator, name) -> None:
    errors = sorted(schema_validator.iter_errors(graded(name).results), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


@pytest.mark.parametrize("name", ["starter", "mistakes"])
def test_every_example_reports_the_same_tests_as_the_correct_one(graded, name) -> None:
    def numbers(example: str) -> list[str]:
        return [test["number"] for test in graded(example).results["tests"]]

    assert numbers(name) == numbers("correct")
