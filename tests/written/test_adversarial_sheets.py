"""What an adversarial review of written sheets found, each a rule: wrong answers earn nothing,
every correct notation reads, and a doubt goes to a TA rather than to a confident 0."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from grader.rubric.model import load_rubric
from grader.submission.asked import sheet_parts
from grader.submission.formats.base import Asked
from grader.submission.formats.written_sheet import read_sheet
from grader.written.declare import Written
from grader.written.formulas import find_formula
from grader.written.readers import read
from grader.written.text import Region, normalise, numbers

REPO = Path(__file__).parents[2]
HW2 = Asked("hw2.py", sheet_parts(load_rubric(REPO / "rubrics" / "hw2.yaml").rubric))
MIDTERM = Asked("midterm.py", sheet_parts(load_rubric(REPO / "rubrics" / "midterm.yaml").rubric))
WRITTEN: TypeAdapter[Written] = TypeAdapter(Written)
SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
ETA = r"$$\eta^* = \frac{n \|X^T a\|_2^2}{2 \|X X^T a\|_2^2}$$"
SYMBOLS = {"X": "X", "t": "t"}


def _choice(text: str, about: str | None = None):
    spec = WRITTEN.validate_python({"kind": "choice", "about": about})
    return read(spec, Region(normalise(text), 1), ("yes", "no"))


@given(st.integers(min_value=0, max_value=10**6))
def test_superscript_digits_stay_an_exponent(power):
    written = "".join(SUPERSCRIPT_DIGITS[int(d)] for d in str(power))
    assert normalise(f"x{written}") == f"x^{{{power}}}"


def test_a_unicode_transpose_and_inverse_keep_their_meaning():
    assert normalise("Xᵀ(XXᵀ)⁻¹t w₀") == "X^{T}(XX^{T})^{-1}t w_{0}"


def test_a_restated_question_is_not_read_as_its_answer():
    assert _choice("Is $L_1$ convex? False.", about="convex").value == "no"


def test_true_and_false_answer_a_yes_no_question():
    assert (_choice("True: the same argument holds.").value, _choice("False.").value) == (
        "yes",
        "no",
    )


def test_true_and_false_together_go_to_a_ta():
    assert _choice("True. Hmm, actually false.").doubt


def test_digits_grouped_by_spaces_are_one_total():
    spec = WRITTEN.validate_python({"kind": "number"})
    assert read(spec, Region("Total: 52 444 644 parameters.", 1), ()).value == 52444644


def test_a_vector_written_with_spaces_stays_a_vector():
    assert [n.value for n in numbers("[100 200 300]")] == [100, 200, 300]


def test_a_derivation_step_in_the_students_own_letters_does_not_block_the_closed_form():
    text = r"Let $\hat{w} = X^T a$ for some $a$. Then $$\hat{w} = X^T (X X^T)^{-1} t$$"
    found = find_formula(text, [r"\hat{w}"], SYMBOLS, ["X", "t"], None)
    assert found is not None and found.sure


def test_an_unreadable_earlier_candidate_still_goes_to_a_ta():
    text = r"$$\hat{w} = X^T (X X^T$$ and $$\hat{w} = X^T (X X^T)^{-1} t$$"
    found = find_formula(text, [r"\hat{w}"], SYMBOLS, ["X", "t"], None)
    assert found is not None and not found.sure


def test_a_later_candidate_in_other_letters_still_goes_to_a_ta():
    text = r"$$\hat{w} = X^T (X X^T)^{-1} t$$ and so $\hat{w} = X^T b$"
    found = find_formula(text, [r"\hat{w}"], SYMBOLS, ["X", "t"], None)
    assert found is not None and not found.sure


def test_a_chain_closing_on_the_parts_own_name_is_sure():
    text = r"$$\hat{w} = X^T (X X^T)^{-1} t = w^*$$"
    found = find_formula(text, [r"\hat{w}", "w^*"], SYMBOLS, ["X", "t"], None)
    assert found is not None and found.sure


def test_a_formula_under_another_heading_goes_to_a_ta_rather_than_scoring_0():
    sheet = f"#### 2.2.2\n\n{ETA}\n\n#### 2.2.3\n\n#### 3.1\n\nedges\n"
    read_ = read_sheet(sheet, HW2)
    assert read_.readings["eta_star"].status == "needs_review"


def test_an_absent_section_with_nothing_elsewhere_is_not_answered():
    read_ = read_sheet("#### 2.2.2\n\nL1 is convex.\n\n#### 3.1\n\nedges\n", HW2)
    assert "eta_star" in read_.unanswered


def test_parts_labelled_in_a_way_the_rubric_does_not_know_go_to_a_ta():
    sheet = "## Q7 Optimizers\n\n(i)\n\n$$\\theta_{t+1} = \\theta_t - \\alpha M g$$\n"
    read_ = read_sheet(sheet, MIDTERM)
    assert read_.readings["preconditioned_step"].status == "needs_review"


def test_a_hundred_thousand_headings_are_read():
    sheet = f"#### 2.2.3\n\n{ETA}\n" + "".join(f"#### {i}.1.1\n" for i in range(4, 100_004))
    assert read_sheet(sheet, HW2).readings["eta_star"].status == "read"
