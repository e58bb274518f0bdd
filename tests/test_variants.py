"""Matching known mistakes and accepted alternatives, as a whole or item by item."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from grader.grading.variants import VariantJudge
from grader.rubric.model import AutoPart
from grader.trusted.reference import ReferenceModule


def judge_for(part: dict, conventions: set[str] | None = None, **answers) -> VariantJudge:
    reference = ReferenceModule(
        SimpleNamespace(
            layer_sum=lambda **kw: sum(kw["LAYERS"]) if isinstance(kw["LAYERS"], list) else [],
            layers_no_bias=lambda: [9, 0, 27],
        ),
        path=None,
    )
    return VariantJudge(AutoPart.model_validate(part), reference, answers.get, conventions or set())


TABLE = {
    "name": "table",
    "points": 1,
    "target": "LAYERS",
    "answer": {"value": [10, 0, 30]},
    "check": {"kind": "array", "atol": 0.5, "rtol": 0, "per_element": True},
    "mistakes": [
        {
            "id": "no-bias",
            "reference": "layers_no_bias",
            "credit": 0.5,
            "feedback": "weights without biases",
        }
    ],
}


def test_a_mistake_in_one_cell_costs_only_that_cells_share():
    judgement = judge_for(TABLE).judge([10, 0, 27], [10, 0, 30], {}, reveal=False)
    assert judgement.verdict.credit == pytest.approx((1 + 1 + 0.5) / 3)
    assert judgement.mistakes == ["no-bias"] and "(1 item)" in judgement.verdict.feedback


def test_cells_matching_no_variant_earn_nothing():
    judgement = judge_for(TABLE).judge([10, 0, 5], [10, 0, 30], {}, reveal=False)
    assert judgement.verdict.credit == pytest.approx(2 / 3) and judgement.mistakes == []


def test_wrongly_shaped_arrays_are_not_matched_cell_by_cell():
    judgement = judge_for(TABLE).judge([[10, 0, 27]], [10, 0, 30], {}, reveal=False)
    assert judgement.verdict.credit == 0


def test_each_lists_match_mistakes_item_by_item():
    part = {
        "name": "shapes",
        "points": 1,
        "target": "SHAPES",
        "answer": {"value": [[1, 2], [3, 4]]},
        "check": {"kind": "each", "item": {"kind": "shape"}},
        "mistakes": [
            {
                "id": "swapped",
                "value": [[2, 1], [4, 3]],
                "credit": 0.5,
                "feedback": "height and width swapped",
            }
        ],
    }
    judgement = judge_for(part).judge([[1, 2], [4, 3]], [[1, 2], [3, 4]], {}, reveal=False)
    assert judgement.verdict.credit == pytest.approx(0.75) and judgement.mistakes == ["swapped"]


def test_follow_through_is_judged_against_the_students_own_answers():
    part = {
        "name": "total",
        "points": 1,
        "target": "TOTAL",
        "answer": {"value": 100},
        "check": {"kind": "numeric"},
        "mistakes": [
            {
                "id": "follow",
                "reference": "layer_sum",
                "uses": ["LAYERS"],
                "credit": 0.5,
                "feedback": "carried forward",
            }
        ],
    }
    consistent = judge_for(part, LAYERS=[1, 2, 3]).judge(6, 100, {}, reveal=False)
    assert consistent.verdict.credit == 0.5 and consistent.mistakes == ["follow"]
    inconsistent = judge_for(part, LAYERS=[1, 2, 4]).judge(6, 100, {}, reveal=False)
    assert inconsistent.verdict.credit == 0


def test_a_variant_that_cannot_be_compared_does_not_match():
    part = {
        "name": "total",
        "points": 1,
        "target": "TOTAL",
        "answer": {"value": 100},
        "check": {"kind": "numeric"},
        "mistakes": [
            {
                "id": "follow",
                "reference": "layer_sum",
                "uses": ["LAYERS"],
                "credit": 0.5,
                "feedback": "carried forward",
            }
        ],
    }
    judgement = judge_for(part, LAYERS="junk").judge(6, 100, {}, reveal=False)
    assert judgement.verdict.credit == 0 and judgement.mistakes == []


def test_a_convention_alternative_applies_only_once_established():
    part = {
        "name": "eta",
        "points": 1,
        "target": "ETA",
        "answer": {"value": 0.1},
        "check": {"kind": "numeric"},
        "alternatives": [{"value": 0.2, "convention": "half", "note": "your convention"}],
        "mistakes": [{"id": "no-factor", "value": 0.2, "credit": 0.5, "feedback": "factor"}],
    }
    assert judge_for(part).judge(0.2, 0.1, {}, reveal=False).verdict.credit == 0.5
    established = judge_for(part, {"half"}).judge(0.2, 0.1, {}, reveal=False)
    assert established.verdict.passed and established.verdict.feedback == "your convention"


def test_of_equally_credited_mistakes_the_first_listed_is_reported():
    part = {
        "name": "n",
        "points": 1,
        "target": "N",
        "answer": {"value": 1},
        "check": {"kind": "numeric"},
        "mistakes": [
            {"id": "first", "value": 2, "credit": 0.5, "feedback": "first"},
            {"id": "second", "value": 2, "credit": 0.5, "feedback": "second"},
            {"id": "better", "value": 2, "credit": 0.75, "feedback": "better"},
        ],
    }
    assert judge_for(part).judge(2, 1, {}, reveal=False).mistakes == ["better"]
    part["mistakes"].pop()
    assert judge_for(part).judge(2, 1, {}, reveal=False).mistakes == ["first"]
