"""The four real sheets of ../shared/writeups, read as the human TA read them: every answer read
surely is the one the TA saw, and what a machine cannot read surely goes to review, never 0.

The TA's verdicts are in tests/data/writeups/README.md; each expectation below cites one."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from grader.rubric.model import load_rubric
from grader.submission.asked import sheet_parts
from grader.submission.locate import LocatedSubmission, locate

DATA = Path(__file__).parents[1] / "data" / "writeups"
REPO = Path(__file__).parents[2]
REVIEW = "review"
ABSENT = "absent"


def _read(rubric: str, sheet: str) -> LocatedSubmission:
    loaded = load_rubric(REPO / "rubrics" / rubric).rubric
    return locate(DATA / sheet, loaded.submission, sheet_parts(loaded))


SHEET_000 = _read("hw2.yaml", "000_7e775bc0a9e89d08.txt")
SHEET_002 = _read("hw2.yaml", "002_e8ec41a8a8640cbb.txt")
SHEET_003 = _read("hw2.yaml", "003_fcb76a54e97b3a6a.txt")
SHEET_004 = _read("midterm.yaml", "004_a838cf123e1d745d.txt")


def _outcome(sheet: LocatedSubmission, target: str) -> Any:
    reading = sheet.readings.get(target)
    if reading is None:
        return ABSENT
    if reading.status == "needs_review":
        return REVIEW
    for node in ast.parse(sheet.module_source or "").body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == target:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{target} was read but not staged")


PER_LAYER_000 = [1792, 0, 73856, 0, 296168, 590080, 0, 263168, 102500]
PER_LAYER_002 = [1792, 0, 73856, 0, 295168, 590080, 0, 51381248, 102500]


@pytest.mark.parametrize(
    ("sheet", "target", "expected"),
    [
        # 000: 2.1.2 O(1) / O(t); 2.1.3 out of memory; 2.2.2 convex; 3.1 matrix, "edges";
        # 3.2 FC-1024 without 14x14, typo 296168, total 1,326,564; 2.1.1 figure lost.
        (SHEET_000, "FORWARD_MEMORY", "O(1)"),
        (SHEET_000, "BACKPROP_MEMORY", "O(t)"),
        (SHEET_000, "L1_IS_CONVEX", "yes"),
        (SHEET_000, "PARAMS_PER_LAYER", PER_LAYER_000),
        (SHEET_000, "TOTAL_PARAMS", 1326564),
        (SHEET_000, "GRAPH_EDGES", ABSENT),
        (SHEET_000, "ADAGRAD_FINDS_MIN_NORM", ABSENT),
        # 002: 2.1.2 O(d) / O(dt); the 3.2 table with $73,\!856$, total 52,444,644.
        (SHEET_002, "FORWARD_MEMORY", "O(d)"),
        (SHEET_002, "BACKPROP_MEMORY", "O(dt)"),
        (SHEET_002, "L1_IS_CONVEX", "yes"),
        (SHEET_002, "PARAMS_PER_LAYER", PER_LAYER_002),
        (SHEET_002, "TOTAL_PARAMS", 52444644),
        # 003 (OCR): mini-batch yes, AdaGrad no; "O(+)" and the answers under wrong headings
        # go to a TA.
        (SHEET_003, "MINIBATCH_FINDS_MIN_NORM", "yes"),
        (SHEET_003, "ADAGRAD_FINDS_MIN_NORM", "no"),
        (SHEET_003, "FORWARD_MEMORY", REVIEW),
        (SHEET_003, "BACKPROP_MEMORY", REVIEW),
        (SHEET_003, "POTENTIAL_PROBLEM", REVIEW),
        (SHEET_003, "L1_IS_CONVEX", REVIEW),
        (SHEET_003, "I_CONV_J", REVIEW),
        (SHEET_003, "PARAMS_PER_LAYER", REVIEW),
        (SHEET_003, "TOTAL_PARAMS", REVIEW),
        # 004 (OCR, midterm): conv and encoder-decoder shapes; Q7 rescaled (1/3)[1, 100, 1000];
        # an option letter and code written by hand go to a TA.
        (SHEET_004, "CONV_SHAPE_I", [32, 128, 26, 26]),
        (SHEET_004, "CONV_SHAPE_II", [32, 128, 14, 14]),
        (
            SHEET_004,
            "ENCODER_DECODER_SHAPES",
            [
                [10, 16, 32, 32],
                [10, 32, 16, 16],
                [10, 128, 8, 8],
                [10, 16, 8, 8],
                [10, 8, 16, 16],
                [10, 1, 32, 32],
            ],
        ),
        (SHEET_004, "LIMIT_IDENTITY", pytest.approx([1 / 1.0101, 0.1 / 1.0101, 0.01 / 1.0101])),
        (SHEET_004, "LIMIT_DIAG_ABS", pytest.approx([1 / 1.11] * 3)),
        (SHEET_004, "LIMIT_RESCALED", pytest.approx([1 / 3, 100 / 3, 1000 / 3])),
        (SHEET_004, "NONUNIFORM_SAMPLING_FINDS_MIN_NORM", "yes"),
        (SHEET_004, "LR_TOO_HIGH", REVIEW),
        (SHEET_004, "train_step", REVIEW),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_each_answer_reads_as_the_ta_read_it(sheet, target, expected):
    assert _outcome(sheet, target) == expected


@pytest.mark.parametrize(
    ("sheet", "shown", "line"),
    [
        (SHEET_000, "eta^* = (n / 2) ((X X^T a)^T (X w_0 - t) / ((X X^T a)^T X X^T a))", 82),
        (SHEET_002, "eta^* = n ||X^T a||^2 / (2 ||X X^T a||^2)", 145),
    ],
)
def test_eta_star_is_read_from_the_typed_sheets_as_written(sheet, shown, line):
    reading = sheet.readings["eta_star"]
    assert (reading.status, reading.shown, reading.line) == ("read", shown, line)


def test_the_ocr_big_o_garble_is_shown_to_the_ta_with_its_line():
    reading = SHEET_003.readings["FORWARD_MEMORY"]
    assert "O(+)" in reading.reason and "O(+)" in reading.excerpt and reading.line == 72


def test_typed_sheets_put_nothing_they_answer_in_review_except_work_written_by_hand():
    for sheet in (SHEET_000, SHEET_002):
        unsure = {t for t, r in sheet.readings.items() if r.status == "needs_review"}
        # code and the proof are a TA's; 1.1.1's closed form uses the proof's own `a`; 002
        # argues convexity in words, without a second derivative
        known = {"sgd", "conv2d", "min_norm_solution", "second_derivative_L1"}
        assert unsure <= known | {"MINIBATCH_FINDS_MIN_NORM"}
