"""The four real sheets graded end to end: no confident verdict contradicts the human TA's
(tests/data/writeups/README.md); a part the grader is unsure of is pending instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.grading.engine import Engine
from grader.grading.results import PartResult
from grader.grading.status import FAILED, NOT_IMPLEMENTED, PARTIAL, PASSED, PENDING
from grader.rubric.model import load_rubric
from grader.submission.asked import sheet_parts
from grader.submission.staged import open_submission
from grader.trusted.reference import load_reference

pytestmark = pytest.mark.sandbox

DATA = Path(__file__).parents[1] / "data" / "writeups"
REPO = Path(__file__).parents[2]

RIGHT = {PASSED, PENDING}
WRONG = {FAILED, PARTIAL, PENDING}
ABSENT = {NOT_IMPLEMENTED, PENDING}

HUMAN = {
    "000_7e775bc0a9e89d08.txt": {
        "min_norm_solution": RIGHT,
        "GRAPH_EDGES": ABSENT,
        "FORWARD_MEMORY": RIGHT,
        "BACKPROP_MEMORY": RIGHT,
        "POTENTIAL_PROBLEM": RIGHT,
        "gd_step": RIGHT,
        "loss_after_one_step": RIGHT,
        "L1_IS_CONVEX": RIGHT,
        "eta_star": RIGHT,
        "I_CONV_J": RIGHT,
        "J_DETECTS": RIGHT,
        "PARAMS_PER_LAYER": WRONG,
        "TOTAL_PARAMS": WRONG,
    },
    "002_e8ec41a8a8640cbb.txt": {
        "min_norm_solution": RIGHT,
        "GRAPH_EDGES": ABSENT,
        "POTENTIAL_PROBLEM": RIGHT,
        "gd_step": RIGHT,
        "loss_after_one_step": RIGHT,
        "L1_IS_CONVEX": RIGHT,
        "eta_star": RIGHT,
        "I_CONV_J": RIGHT,
        "J_DETECTS": RIGHT,
        "PARAMS_PER_LAYER": RIGHT,
        "TOTAL_PARAMS": RIGHT,
    },
    "003_fcb76a54e97b3a6a.txt": {
        "min_norm_solution": RIGHT,
        "MINIBATCH_FINDS_MIN_NORM": RIGHT,
        "ADAGRAD_FINDS_MIN_NORM": RIGHT,
        "FORWARD_MEMORY": RIGHT,
        "BACKPROP_MEMORY": RIGHT,
        "POTENTIAL_PROBLEM": RIGHT,
        "gd_step": RIGHT,
        "loss_after_one_step": RIGHT,
        "L1_IS_CONVEX": RIGHT,
        "eta_star": RIGHT,
        "I_CONV_J": RIGHT,
    },
    "004_a838cf123e1d745d.txt": {
        "CONV_SHAPE_I": RIGHT,
        "CONV_SHAPE_II": RIGHT,
        "ENCODER_DECODER_SHAPES": RIGHT,
        "RECEPTIVE_FIELDS_EXAMPLE": RIGHT,
        "LR_TOO_HIGH": RIGHT,
        "train_step": RIGHT,
        "LIMIT_IDENTITY": RIGHT,
        "LIMIT_DIAG_ABS": RIGHT,
        "LIMIT_RESCALED": WRONG,
        "NONUNIFORM_SAMPLING_FINDS_MIN_NORM": RIGHT,
    },
}


def _grade(sheet: str) -> dict[str, PartResult]:
    rubric = "midterm.yaml" if sheet.startswith("004") else "hw2.yaml"
    loaded = load_rubric(REPO / "rubrics" / rubric)
    engine = Engine(loaded, load_reference(loaded.reference_path))
    sheet_of = sheet_parts(loaded.rubric)
    with open_submission(DATA / sheet, loaded.rubric.submission, sheet=sheet_of) as staged:
        result = engine.grade(staged)
    return {part.target or part.name: part for q in result.questions for part in q.parts}


GRADED = {}


@pytest.fixture(scope="module", params=sorted(HUMAN))
def graded(request: pytest.FixtureRequest) -> tuple[str, dict[str, PartResult]]:
    if request.param not in GRADED:
        GRADED[request.param] = _grade(request.param)
    return request.param, GRADED[request.param]


def test_no_confident_verdict_contradicts_the_human_one(graded):
    sheet, parts = graded
    contradicting = {
        target: (parts[target].status, parts[target].feedback[:1])
        for target, allowed in HUMAN[sheet].items()
        if parts[target].status not in allowed
    }
    assert not contradicting


def test_000s_eta_star_earns_full_credit_as_an_equivalent_form():
    parts = GRADED.get("000_7e775bc0a9e89d08.txt") or _grade("000_7e775bc0a9e89d08.txt")
    assert parts["eta_star"].credit == 1
    assert parts["eta_star"].feedback[0].startswith("read as eta^* = (n / 2)")


def test_000s_per_layer_counts_get_the_fc_mistake_and_its_total_no_credit():
    parts = GRADED.get("000_7e775bc0a9e89d08.txt") or _grade("000_7e775bc0a9e89d08.txt")
    assert "fc-without-spatial-size" in parts["PARAMS_PER_LAYER"].mistakes
    assert any("FC-1024 counted as" in line for line in parts["PARAMS_PER_LAYER"].feedback)
    assert parts["TOTAL_PARAMS"].score == 0


def test_002s_table_and_eta_star_earn_full_credit():
    parts = GRADED.get("002_e8ec41a8a8640cbb.txt") or _grade("002_e8ec41a8a8640cbb.txt")
    assert [parts[t].credit for t in ("PARAMS_PER_LAYER", "TOTAL_PARAMS", "eta_star")] == [1] * 3


def test_003s_garble_and_misplaced_answers_wait_for_a_ta_with_their_excerpt():
    parts = GRADED.get("003_fcb76a54e97b3a6a.txt") or _grade("003_fcb76a54e97b3a6a.txt")
    for target in ("FORWARD_MEMORY", "POTENTIAL_PROBLEM", "I_CONV_J"):
        assert parts[target].status == PENDING and parts[target].review is not None
    assert "O(+)" in parts["FORWARD_MEMORY"].feedback[0]


def test_004s_shapes_and_limits_are_read_its_rescaled_answer_is_wrong_its_code_is_manual():
    parts = GRADED.get("004_a838cf123e1d745d.txt") or _grade("004_a838cf123e1d745d.txt")
    read = ("CONV_SHAPE_I", "CONV_SHAPE_II", "ENCODER_DECODER_SHAPES")
    assert all(parts[t].status == PASSED for t in (*read, "LIMIT_IDENTITY", "LIMIT_DIAG_ABS"))
    assert parts["LIMIT_RESCALED"].mistakes == ["rescaled-limit-mapped-back-wrongly"]
    assert parts["LIMIT_RESCALED"].credit == 0.25
    assert parts["train_step"].status == PENDING


def test_check_on_a_sheet_shows_each_reading_and_the_public_cases(tmp_path):
    from grader.frontends.kit import build_kit
    from grader.grading.selfcheck import SelfCheck

    loaded = load_rubric(REPO / "rubrics" / "hw2.yaml")
    kit = build_kit(loaded, load_reference(loaded.reference_path))
    report = SelfCheck(kit, None).run(DATA / "002_e8ec41a8a8640cbb.txt")
    eta = next(part for part in report.parts if part.name == "eta*")
    assert eta.status == PASSED
    assert eta.lines[:2] == [
        "read as eta^* = n ||X^T a||^2 / (2 ||X X^T a||^2), line 145",
        "public case 1: passed",
    ]


def test_check_on_an_ocr_sheet_says_what_could_not_be_read_and_where():
    from grader.frontends.kit import build_kit
    from grader.grading.selfcheck import SelfCheck

    loaded = load_rubric(REPO / "rubrics" / "hw2.yaml")
    kit = build_kit(loaded, load_reference(loaded.reference_path))
    report = SelfCheck(kit, None).run(DATA / "003_fcb76a54e97b3a6a.txt")
    forward = next(part for part in report.parts if part.name == "forward pass computing L_t")
    assert forward.status == FAILED
    assert forward.lines[0].startswith("not read surely (line 72): O(+) is not a bound")
