"""Each reader reads its kind of answer, and doubts rather than guesses."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from grader.written.declare import Written
from grader.written.readers import read
from grader.written.text import Region, cued_regions, normalise, numbers

WRITTEN: TypeAdapter[Written] = TypeAdapter(Written)


def _read(spec: dict, text: str, options: tuple[str, ...] = ()):
    return read(WRITTEN.validate_python(spec), Region(normalise(text), 1), options)


def test_numbers_with_thousands_separators_and_latex_spacing_are_read():
    assert [n.value for n in numbers("52,444,644 and $73,\\!856$")] == [52444644, 73856]


def test_numbers_in_scientific_notation_and_fractions_are_read():
    found = [n.value for n in numbers("1.2e-3, 1.2 \\times 10^{-3}, 3/4 and \\frac{1}{4}")]
    assert found == [0.0012, 0.0012, 0.75, 0.25]


@given(st.integers(min_value=0, max_value=10**15))
def test_an_integer_written_with_separators_reads_back(value):
    assert [n.value for n in numbers(f"total {value:,} parameters")] == [value]


def test_unicode_look_alikes_read_as_their_ascii_forms():
    assert _read({"kind": "number"}, "η* = \u22120.５").value == -0.5


def test_a_number_answer_is_the_result_an_equation_ends_on():
    answer = _read({"kind": "number"}, "$$((9 \\times 3) + 1) \\times 64 = 1792$$")
    assert answer.value == 1792 and not answer.doubt


def test_two_different_numbers_are_two_candidates_for_review():
    answer = _read({"kind": "number"}, "the total is 1200 or maybe 1300")
    assert answer.value is None and "candidate" in answer.doubt


def test_a_big_o_is_read_in_its_latex_and_plain_forms():
    assert _read({"kind": "big_o"}, "memory is $\\mathcal{O}(dt)$").value == "O(dt)"
    assert _read({"kind": "big_o"}, "takes O(1) space").value == "O(1)"


def test_an_ocr_garbled_big_o_goes_to_review():
    answer = _read({"kind": "big_o"}, "back-propagation: O(+)")
    assert answer.value is None and "O(+)" in answer.doubt


def test_a_negated_property_answers_no():
    spec = {"kind": "choice", "about": "convex"}
    assert _read(spec, "So L1 is not convex in eta.", ("yes", "no")).value == "no"
    assert _read(spec, "Hence L1 is strictly convex.", ("yes", "no")).value == "yes"


def test_yes_and_no_in_one_answer_go_to_review():
    answer = _read({"kind": "choice"}, "Yes. Well, no.", ("yes", "no"))
    assert answer.value is None and "candidate" in answer.doubt


def test_an_option_letter_the_grader_cannot_map_goes_to_review():
    answer = _read({"kind": "choice"}, "Learning Rate A is too high!", ("0.1", "1"))
    assert answer.value is None and "option letter" in answer.doubt


def test_a_bmatrix_is_read_row_by_row():
    text = "$$I * J = \\begin{bmatrix} -1 & 2 \\\\ 3 & 0 \\end{bmatrix}$$"
    assert _read({"kind": "matrix"}, text).value == [[-1.0, 2.0], [3.0, 0.0]]


def test_a_column_vector_with_a_fraction_before_it_is_multiplied_out():
    text = "final answer $\\Rightarrow \\frac{1}{4} \\begin{bmatrix} 1 \\\\ 2 \\end{bmatrix}$"
    assert _read({"kind": "matrix"}, text).value == [0.25, 0.5]


def test_a_matrix_cell_that_is_not_a_number_goes_to_review():
    answer = _read({"kind": "matrix"}, "\\begin{bmatrix} a & 1 \\end{bmatrix}")
    assert answer.value is None and "not a number" in answer.doubt


def test_a_million_entry_matrix_is_refused_quickly():
    row = " & ".join(["1"] * 1000)
    text = "\\begin{bmatrix}" + " \\\\ ".join([row] * 1000) + "\\end{bmatrix}"
    started = time.monotonic()
    answer = _read({"kind": "matrix"}, text)
    assert answer.value is None and "more than" in answer.doubt
    assert time.monotonic() - started < 2


def test_an_unclosed_matrix_is_no_answer():
    assert _read({"kind": "matrix"}, "\\begin{bmatrix} 1 & 2 \\\\ 3") is None


def test_table_rows_are_matched_loosely_and_declared_absent_rows_count_zero():
    text = "| Layer | Params |\n|---|---|\n| conv 3-64 | 1,792 |\n| FC-100 | $102,\\!500$ |"
    spec = {"kind": "table", "rows": ["Conv3-64", "Max Pool", "FC-100"], "absent": ["Max Pool"]}
    assert _read(spec, text).value == [1792, 0, 102500]


def test_a_table_missing_a_required_row_goes_to_review():
    spec = {"kind": "table", "rows": ["Conv3-64", "FC-100"]}
    answer = _read(spec, "Conv3-64: 1792\n")
    assert answer.value is None and "FC-100" in answer.doubt


def test_shapes_are_read_per_label():
    spec = {"kind": "shapes", "labels": ["Layer a", "Layer b"]}
    text = "Layer a: $[10, 16, 32, 32]$\n\nLayer b: 10 x 32 x 16 x 16"
    assert _read(spec, text).value == [[10, 16, 32, 32], [10, 32, 16, 16]]


def test_select_all_letters_are_read_as_a_list():
    assert _read({"kind": "picks"}, "Solution: C and D").value == ["C", "D"]


def test_short_text_is_passed_on_whole():
    assert _read({"kind": "text"}, "It detects  edges.").value == "It detects edges."


def test_one_sentence_answering_two_parts_is_split_at_their_cues():
    lines = [(4, "Forward: $O(1)$, backward: $O(t)$.")]
    forward = cued_regions(lines, ["forward"], ["back"])[0]
    back = cued_regions(lines, ["back"], ["forward"])[0]
    assert _read({"kind": "big_o"}, forward.text).value == "O(1)"
    assert _read({"kind": "big_o"}, back.text).value == "O(t)"


def test_answers_written_before_their_cues_are_not_split_but_reviewed():
    lines = [(4, "O(1) forward and O(t) back")]
    forward = cued_regions(lines, ["forward"], ["back"])[0]
    assert _read({"kind": "big_o"}, forward.text).doubt
