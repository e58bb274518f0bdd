"""KeywordsCheck: short free text credited by the key ideas it mentions."""

import pytest

from grader.checks import compare, validate_expected
from grader.checks.keywords import KeywordAnswer, KeywordsCheck, compare_keywords
from grader.checks.values import Opaque

# 2.1.3 of CSC413 HW2: one potential problem with hypergradients through many steps.
PROBLEM = KeywordsCheck(
    kind="keywords",
    answers=[
        KeywordAnswer(name="memory", all_of=[["memory", "store"], ["linear", "iteration", "step"]]),
        KeywordAnswer(name="gradients", all_of=[["vanish", "explod"], ["gradient"]]),
    ],
)


def judge(student, check=PROBLEM, *, reveal=False):
    return compare(check, student, None, reveal=reveal)


def test_answer_with_every_group_passes():
    assert judge("Memory grows with the number of iterations.").passed


def test_keywords_match_case_insensitively_as_word_prefixes():
    assert judge("The Gradients may EXPLODE").passed


def test_keywords_do_not_match_inside_words():
    assert judge("unstored values in the restep").credit == 0
    assert judge("hypergradients may explode").credit == pytest.approx(0.5)


def test_multi_word_keywords_match_across_spaces_and_hyphens():
    check = KeywordsCheck(
        kind="keywords", answers=[KeywordAnswer(name="v", all_of=[["vanishing gradient"]])]
    )
    assert judge("a vanishing-gradient issue", check).passed
    assert judge("vanishing\n  gradients", check).passed


def test_keywords_starting_with_a_symbol_match():
    check = KeywordsCheck(kind="keywords", answers=[KeywordAnswer(name="o", all_of=[["O(t)"]])])
    assert judge("memory is O(t)", check).passed


def test_credit_is_the_best_answers_fraction_of_groups():
    verdict = judge("we must store all weights")
    assert verdict.credit == pytest.approx(0.5)


def test_hidden_partial_feedback_counts_ideas_without_naming_them():
    feedback = judge("we must store all weights").feedback
    assert feedback == "Partly matches: mentions 1 of 2 key ideas."


def test_revealed_partial_feedback_names_the_missing_group_by_its_first_word():
    feedback = judge("we must store all weights", reveal=True).feedback
    assert feedback.endswith("Missing: 'linear'.")


def test_answer_without_key_ideas_gets_zero():
    verdict = judge("it is fine")
    assert verdict.credit == 0
    assert "memory" not in verdict.feedback


@pytest.mark.parametrize("student", ["", "   \n", None, 3, ["memory"], Opaque("generator")])
def test_empty_or_non_text_answers_get_zero(student):
    for reveal in (False, True):
        assert judge(student, reveal=reveal).credit == 0


def test_regex_characters_in_answers_are_harmless():
    assert judge("(*+?[memory \\ steps").passed


def test_keyword_groups_need_a_word():
    check = KeywordsCheck(kind="keywords", answers=[KeywordAnswer(name="x", all_of=[[" "]])])
    assert validate_expected(check, None) is not None
    assert validate_expected(PROBLEM, None) is None


# --- negation and contradiction ----------------------------------------------------------

MEMORY = KeywordsCheck.model_validate(
    {
        "kind": "keywords",
        "answers": [
            {
                "name": "memory grows",
                "all_of": [["memory", "store"], ["grows", "grow", "linear", "each", "steps"]],
                "none_of": ["constant"],
            }
        ],
    }
)
EDGES = KeywordsCheck.model_validate(
    {"kind": "keywords", "answers": [{"name": "edges", "all_of": [["edge", "boundar"]]}]}
)


def credit_of(check: KeywordsCheck, text: str) -> float:
    return compare_keywords(check, text, None, reveal=False).credit


@pytest.mark.parametrize(
    "text",
    [
        "the memory does not grow with the number of steps",
        "memory no longer grows",
        "memory never grows",
        "the memory isn't growing with each step",
    ],
)
def test_a_negated_key_idea_earns_nothing(text: str) -> None:
    assert credit_of(MEMORY, text) == 0.0


def test_an_antonym_contradicts_the_answer() -> None:
    assert credit_of(MEMORY, "memory stays constant over the steps") == 0.0


def test_not_edges_earns_nothing_for_edges() -> None:
    assert credit_of(EDGES, "Not edges: it responds to flat regions") == 0.0


@pytest.mark.parametrize(
    "text",
    [
        "It detects edges, not flat regions",
        "It does not respond to flat regions but to edges",
        "edges (it is 0 wherever the image is flat, never elsewhere)",
    ],
)
def test_a_negation_in_another_clause_leaves_the_key_idea_standing(text: str) -> None:
    assert credit_of(EDGES, text) == 1.0


def test_not_only_is_no_negation() -> None:
    assert credit_of(MEMORY, "not only the weights: memory grows with each step") == 1.0


def test_a_contradicted_answer_is_told_so() -> None:
    verdict = compare_keywords(EDGES, "it isn't an edge detector", None, reveal=False)
    assert "negates the key idea" in verdict.feedback
