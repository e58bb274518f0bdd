"""What makes two written answers one answer group, and what survives storing a result."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import yaml
from batch_course import RUBRIC
from hypothesis import given
from hypothesis import strategies as st
from review_class import sheet_result, unsure_answer

from grader.batch.gradebook import Gradebook, ReviewPart
from grader.batch.review import answer_groups, normalise_reading, review_parts
from grader.grading.result_data import result_from_data, result_to_data
from grader.rubric.model import Rubric
from grader.submission.formats.base import Reading

TOKENS = st.lists(
    st.sampled_from(
        ["n", "X", "x", "w_0", "a", "2", "10", "+", "-", "/", "(", ")", "^T", "\\cdot"]
    ),
    min_size=1,
    max_size=12,
)
SPACES = st.lists(st.sampled_from(["", " ", "  ", "\t", "\n"]), min_size=13, max_size=13)


@given(TOKENS, SPACES)
def test_spacing_between_tokens_never_changes_a_group_when_a_side_is_punctuation(
    tokens: list[str], spaces: list[str]
) -> None:
    """Spaces are optional wherever a token is not a name or a number; between two names or
    numbers one space is kept, so "a b" and "ab" stay apart."""
    spaced, joined = "", ""
    for space, token in zip(spaces, tokens, strict=False):
        word = joined[-1:].isalnum() and token[0].isalnum()
        spaced += (space or " " if word else space) + token
        joined += (" " if word else "") + token
    assert normalise_reading(spaced, fold_case=False) == normalise_reading(joined, fold_case=False)


def test_a_product_of_names_and_one_longer_name_are_different_groups() -> None:
    assert normalise_reading("a b", fold_case=False) != normalise_reading("ab", fold_case=False)


def test_case_separates_groups_of_a_formula_but_not_of_a_choice() -> None:
    assert normalise_reading("X^T X", fold_case=False) != normalise_reading(
        "x^T x", fold_case=False
    )
    assert normalise_reading("Not convex", fold_case=True) == normalise_reading(
        "not  convex", fold_case=True
    )


def test_canonically_equivalent_unicode_is_one_group_but_a_superscript_is_not_a_digit() -> None:
    assert normalise_reading("e\u0301", fold_case=False) == normalise_reading("é", fold_case=False)
    assert normalise_reading("x²", fold_case=False) != normalise_reading("x2", fold_case=False)


def test_a_choice_parts_readings_are_grouped_without_case() -> None:
    numeric = "answer: {value: 0.5}\n        check: {kind: numeric, rtol: 1.0e-6}"
    choice = "answer: {value: 'yes'}\n        check: {kind: choice, options: ['yes', 'no']}"
    assert numeric in RUBRIC
    rubric = Rubric.model_validate(yaml.safe_load(RUBRIC.replace(numeric, choice)))
    (part,) = review_parts("s", sheet_result(unsure_answer("YES")), rubric)
    assert part.reading == "yes"


def _keys(*readings: Reading) -> list[str]:
    rubric = Rubric.model_validate(yaml.safe_load(RUBRIC))
    return [
        part.reading
        for index, reading in enumerate(readings)
        for part in review_parts(
            f"s{index}", sheet_result(replace(unsure_answer(""), review=reading)), rubric
        )
    ]


def test_parts_with_nothing_read_are_grouped_by_what_was_written() -> None:
    proof, other = "Since X w0 = 0, every step stays in the row space.", "By induction."
    first, second, third = _keys(
        Reading("needs_review", "", 3, proof, "answered in writing"),
        Reading("needs_review", "", 9, proof, "answered in writing"),
        Reading("needs_review", "", 3, other, "answered in writing"),
    )
    assert first == second != third


def test_a_written_answer_never_shares_a_group_with_a_reading_of_the_same_text() -> None:
    text = "n/2"
    read, written = _keys(
        Reading("needs_review", text, 3, text, "OCR"),
        Reading("needs_review", "", 3, text, "no formula found"),
    )
    assert read != written


def test_parts_with_nothing_read_or_written_are_each_a_group_of_their_own() -> None:
    first, second = _keys(
        Reading("needs_review", "", 1, "", "no section 2.1.1"),
        Reading("needs_review", "", 1, "", "no section 2.1.1"),
    )
    assert first != second


def test_a_result_kept_in_the_gradebook_reads_back_equal() -> None:
    result = sheet_result(unsure_answer("n/2"))
    assert result_from_data(result_to_data(result)) == result


def test_a_gradebook_from_before_reviews_is_migrated_and_keeps_its_grades(tmp_path: Path) -> None:
    path = tmp_path / "gradebook.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE runs (run_id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, "
            "finished_at TEXT, rubric TEXT NOT NULL, rubric_sha256 TEXT NOT NULL, "
            "source TEXT NOT NULL, workers INTEGER NOT NULL, launcher TEXT NOT NULL, "
            "grader_version TEXT NOT NULL);"
            "CREATE TABLE submissions (submission_id TEXT PRIMARY KEY, status TEXT NOT NULL, "
            "detail TEXT NOT NULL DEFAULT '', score REAL, max_score REAL, content_sha256 TEXT, "
            "rubric_sha256 TEXT, fingerprint TEXT, seed INTEGER, seconds REAL, "
            "created_at TEXT NOT NULL DEFAULT '', graded_at TEXT NOT NULL, "
            "run_id INTEGER NOT NULL, results_path TEXT);"
            "CREATE TABLE gradings (run_id INTEGER NOT NULL, submission_id TEXT NOT NULL, "
            "status TEXT NOT NULL, finished_at TEXT NOT NULL);"
            "INSERT INTO submissions (submission_id, status, score, max_score, graded_at, "
            "run_id) VALUES ('ada', 'graded', 2.5, 3, '2026-01-01', 1);"
        )
    db.close()
    with Gradebook(path) as book:
        (record,) = book.records()
        assert (record.score, record.review_pending, record.reviews) == (2.5, 0.0, ())
        assert book.decisions() == {}


def test_groups_come_in_question_order_and_the_largest_of_a_part_first() -> None:
    def part(sid: str, question: str, reading: str) -> ReviewPart:
        return ReviewPart(sid, question, "p", 1.0, reading, reading, 1, reading, "")

    parts = [part("a", "2.10", "x"), part("b", "2.9", "y"), part("c", "2.10", "z")]
    parts += [part("d", "2.10", "z")]
    order = [(g.question, g.key[2]) for g in answer_groups(parts, {})]
    assert order == [("2.9", "y"), ("2.10", "z"), ("2.10", "x")]
