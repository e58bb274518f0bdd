"""The written-sheet examples in submissions_example/, graded by the real `grader grade`.

Each expectation follows from the rubric: a read answer is judged like code; a part the sheet
answers by hand (code, the proof) or that the grader cannot read surely is pending; the
mistakes sheet earns exactly the credit its mistakes carry in rubrics/hw2.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).parents[2]


def _parts(grade_json, tmp_path: Path, example: str) -> dict[str, dict[str, Any]]:
    assignment = example.split("/")[0]
    results, _ = grade_json(
        REPO / "rubrics" / f"{assignment}.yaml", REPO / "submissions_example" / example, tmp_path
    )
    return {
        part["name"]: part
        for test in results["tests"]
        for part in test.get("extra_data", {}).get("parts", [])
    }


@pytest.mark.parametrize("example", ["hw2/sheet_typed", "hw2/sheet_tex"])
def test_a_correct_typed_sheet_passes_every_part_it_answers(grade_json, tmp_path, example):
    parts = _parts(grade_json, tmp_path, example)
    graded = {name: p for name, p in parts.items() if p["status"] not in ("pending",)}
    answered = {n: p for n, p in graded.items() if p["status"] != "not_implemented"}
    assert all(p["status"] == "passed" for p in answered.values()), answered
    assert parts["eta*"]["status"] == "passed"


def test_the_mistakes_sheet_earns_each_mistakes_credit(grade_json, tmp_path):
    parts = _parts(grade_json, tmp_path, "hw2/sheet_mistakes")
    assert parts["eta*"]["credit"] == 0.5  # eta-star-without-n-over-2: credit 0.5
    assert parts["w1"]["credit"] == 0  # gd-step-without-one-over-n: credit 0
    assert parts["forward pass computing L_t"]["credit"] == 0  # O(t) for O(1)
    # 1,326,564 is the sum of its own counts: total-follows-own-layers, credit 0.5
    assert parts["total parameters"]["credit"] == 0.5


def test_the_half_sse_convention_used_throughout_is_accepted(grade_json, tmp_path):
    parts = _parts(grade_json, tmp_path, "hw2/sheet_convention")
    assert parts["w1"]["status"] == parts["eta*"]["status"] == "passed"


def test_an_ocr_sheet_puts_what_it_cannot_read_in_review_not_at_zero(grade_json, tmp_path):
    parts = _parts(grade_json, tmp_path, "hw2/sheet_ocr")
    scored = [p for p in parts.values() if p["status"] != "pending" and p["points"] > 0]
    assert all(p["status"] == "not_implemented" for p in scored)
    assert parts["forward pass computing L_t"]["status"] == "pending"
