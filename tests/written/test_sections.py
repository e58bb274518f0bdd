"""Splitting a sheet into numbered sections, in the forms real sheets use."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from grader.written.sections import split_sections


def _numbers(text: str) -> list[str]:
    return [section.number for section in split_sections(text).sections]


def test_markdown_headings_with_bold_and_titles_give_their_numbers():
    text = "### **Q1 Optimization**\n#### 1.1.1 Minimum Norm\ntext\n# 2.1 Graphs\n"
    assert _numbers(text) == ["1", "1.1.1", "2.1"]


def test_a_number_alone_on_a_line_is_a_heading():
    sheet = split_sections("# 2.1\n2.1.2\n\nThe forward pass takes O(1).\n")
    assert sheet.find("2.1.2").section.text.strip() == "The forward pass takes O(1)."


def test_q_question_and_latex_section_headings_are_recognised():
    text = "Q7\nx\nQuestion 2\ny\n\\section{3 Convolutions}\nz\n\\subsection*{3.2 Size}\nw\n"
    assert _numbers(text) == ["7", "2", "3", "3.2"]


def test_sub_parts_under_a_question_take_its_number():
    text = "# Question-1\n(a) first\nf) $10, 24$\nQ2 (a) Rate A is too high\n"
    assert _numbers(text) == ["1", "1.a", "1.f", "2", "2.a"]
    assert split_sections(text).find("2.a").section.text.strip() == "Rate A is too high"


def test_roman_sub_parts_without_their_letter_stand_for_it():
    sheet = split_sections("# Question 1\n(i) shape [1, 2]\n(ii) shape [3, 4]\n")
    found = sheet.find("1.a.ii")
    assert found is not None and found.doubt == "" and "[3, 4]" in found.section.text


def test_a_question_includes_the_text_of_its_sub_parts():
    sheet = split_sections("## Q7 Optimizers\n(i) first\n(b) second\n")
    assert "first" in sheet.find("7").section.text and "second" in sheet.find("7").section.text


def test_sub_part_labels_under_a_numbered_heading_are_text():
    assert _numbers("#### 2.1.2\n(a) forward\n(b) back\n") == ["2.1.2"]


def test_an_answer_found_only_under_a_parent_heading_is_in_doubt():
    found = split_sections("# 2.2\nw1 = w0 - eta g\n").find("2.2.1")
    assert found is not None and "may be under 2.2" in found.doubt


def test_a_missing_section_under_an_empty_parent_is_not_found():
    assert split_sections("# 1\n## 1.1.1\nproof\n").find("1.2.1") is None


def test_a_section_given_twice_is_in_doubt():
    found = split_sections("## 3.1\nfirst\n## 3.1\nsecond\n").find("3.1")
    assert found is not None and "two sections 3.1" in found.doubt


def test_a_duplicated_heading_with_one_empty_copy_is_not_in_doubt():
    found = split_sections("## 3.1\n\n## 3.1\nsecond\n").find("3.1")
    assert found is not None and found.doubt == "" and "second" in found.section.text


def test_an_empty_section_is_empty():
    assert split_sections("## 2.1.1\n\n\n## 2.1.2\nO(1)\n").find("2.1.1").section.empty


def test_a_section_out_of_order_is_in_doubt():
    found = split_sections("## 2.2\nx\n## 2.1.2\nO(1)\n## 3.1\n").find("2.1.2")
    assert found is not None and "out of order" in found.doubt


@pytest.mark.parametrize(
    "heading",
    [
        "**2.1.2**",
        "**2.1.2 Memory**",
        "Problem 2.1.2",
        "2.1.2)",
        "Q 2.1.2:",
        "## Part 2.1.2",
        "\\textbf{2.1.2}",
        "\\paragraph{2.1.2}",
        "\\subsection{Question 2.1.2}",
    ],
)
def test_other_ways_of_writing_a_number_heading(heading):
    assert _numbers(f"{heading}\nO(1)\n") == ["2.1.2"]


def test_bold_words_in_a_sentence_are_not_a_heading():
    assert _numbers("the \\textbf{answer} is 3\n") == []


def test_text_before_the_first_heading_belongs_to_no_section():
    assert split_sections("name and number\n# 1.1\nanswer\n").sections[0].text == "answer"


@given(
    st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=4),
    st.sampled_from(["#### {}", "{}", "**{}**", "Question {}", "\\subsection*{{{} Title}}"]),
)
def test_any_number_in_any_heading_form_is_found_with_its_answer(parts, form):
    number = ".".join(map(str, parts))
    # a lone integer line, bold or not, is a number in the text, not a heading
    assume(len(parts) > 1 or form not in ("{}", "**{}**"))
    found = split_sections(form.format(number) + "\nthe answer\n").find(number)
    assert found is not None and found.doubt == "" and "the answer" in found.section.text
