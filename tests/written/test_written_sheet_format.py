"""A written sheet as a submission: found under any name, read without running anything, and
never a crash whatever it holds."""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.rubric.model import load_rubric
from grader.submission.asked import sheet_parts
from grader.submission.formats.base import Asked, FormatError
from grader.submission.formats.written_sheet import convert
from grader.submission.locate import locate, missing_entry_message

REPO = Path(__file__).parents[2]
HW2 = load_rubric(REPO / "rubrics" / "hw2.yaml").rubric
ASKED = Asked("hw2.py", sheet_parts(HW2))
SHEET = "#### 2.1.2\nThe forward pass takes O(1) space; back-propagation takes O(t).\n"


def _locate(folder: Path):
    return locate(folder, HW2.submission, ASKED.sheet)


def test_the_only_write_up_is_graded_whatever_its_name(tmp_path):
    (tmp_path / "HW2 final.md").write_text(SHEET)
    found = _locate(tmp_path)
    assert found.entry == tmp_path / "HW2 final.md" and found.sheet
    assert found.readings["FORWARD_MEMORY"].shown == "O(1)"


def test_a_python_entry_wins_over_a_write_up(tmp_path):
    (tmp_path / "hw2.py").write_text("X = 1\n")
    (tmp_path / "README.md").write_text(SHEET)
    assert _locate(tmp_path).entry == tmp_path / "hw2.py"


def test_write_ups_are_not_looked_for_when_the_rubric_declares_none(tmp_path):
    (tmp_path / "report.md").write_text(SHEET)
    assert locate(tmp_path, HW2.submission).entry is None


def test_two_write_ups_with_other_names_are_not_guessed_between(tmp_path):
    (tmp_path / "draft.md").write_text(SHEET)
    (tmp_path / "final.tex").write_text(SHEET)
    assert _locate(tmp_path).entry is None


def test_a_pdf_gets_a_message_saying_sources_are_read(tmp_path):
    (tmp_path / "hw2.pdf").write_bytes(b"%PDF-1.4")
    message = missing_entry_message(_locate(tmp_path), HW2.submission)
    assert "a PDF cannot be graded" in message and ".tex" in message


def test_a_sheet_for_an_assignment_without_written_parts_says_so():
    with pytest.raises(FormatError, match="not graded from written answers"):
        convert(SHEET.encode(), "report.md", Asked("hw2.py"))


def test_a_sheet_that_is_not_utf8_names_the_line():
    with pytest.raises(FormatError, match="line 2 has the byte 0xff"):
        convert(b"# 2.1.2\n\xff\n", "report.md", ASKED)


def _literal_module(source: str) -> bool:
    body = ast.parse(source).body
    assignments = [node for node in body if isinstance(node, ast.Assign)]
    for node in assignments:
        ast.literal_eval(node.value)
    return len(assignments) == len(body) - 1  # the docstring


def test_the_module_written_holds_only_literals():
    converted = convert(SHEET.encode() + b"## 3.2\nthe total is $73,\\!856$\n", "r.md", ASKED)
    assert _literal_module(converted.module_source)
    assert "TOTAL_PARAMS = 73856" in converted.module_source


@settings(max_examples=60, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("#$\\{}[]()&|:=.,-+*^_ 0123456789abOtx\n")), max_size=400)
)
def test_any_text_converts_to_literals_and_readings_never_a_crash(text):
    converted = convert(text.encode(), "r.md", ASKED)
    assert _literal_module(converted.module_source)
    assert all(r.status in ("read", "needs_review") for r in converted.readings.values())


def test_a_hundred_thousand_nested_braces_are_read_in_bounded_time():
    text = "## 3.2\ntotal " + "{" * 100_000 + "1" + "}" * 100_000 + "\n"
    converted = convert(text.encode(), "r.md", ASKED)
    assert "TOTAL_PARAMS" in converted.readings


def _eta_reading(formula: str):
    text = f"#### 2.2.3\n$$\\eta^* = {formula}$$\n"
    return convert(text.encode(), "r.md", ASKED).readings["eta_star"]


def test_a_formula_with_unbalanced_braces_goes_to_review():
    assert _eta_reading("\\frac{n{2} \\|X^T a\\|^2").status == "needs_review"


def test_a_formula_with_a_huge_exponent_goes_to_review():
    assert _eta_reading("X^{1000000}").status == "needs_review"


def test_full_width_digits_in_a_heading_read_as_the_section_number():
    converted = convert("#### ２.１.２\nforward: O(1)\n".encode(), "r.md", ASKED)
    assert converted.readings["FORWARD_MEMORY"].shown == "O(1)"


def test_a_formula_nested_a_hundred_thousand_deep_goes_to_review_in_bounded_time():
    started = time.monotonic()
    assert _eta_reading("(" * 100_000 + "X" + ")" * 100_000).status == "needs_review"
    assert time.monotonic() - started < 5


def test_two_different_answers_a_ta_must_read_never_share_a_reading():
    first = convert(b"## 3.1\ncode: return conv(I, J)\n", "a.md", ASKED).readings["conv2d"]
    second = convert(b"## 3.1\ncode: return corr(I, J)\n", "b.md", ASKED).readings["conv2d"]
    assert first.status == second.status == "needs_review"
    assert first.shown != second.shown


def test_several_write_ups_without_the_entrys_name_ask_the_student_to_name_one(tmp_path):
    (tmp_path / "HW2 final.md").write_text(SHEET)
    (tmp_path / "notes.txt").write_text("notes")
    message = missing_entry_message(_locate(tmp_path), HW2.submission)
    assert "HW2 final.md, notes.txt" in message and "name it hw2.md" in message
