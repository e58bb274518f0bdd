"""Per-element credit that is earned: whole-answer transformations and placeholders first."""

from __future__ import annotations

import numpy as np
from corpus_support import REPO, course, grade_in_process, load_answers

from grader.grading.structure import is_genuine, is_placeholder, transformations

CORRECT = REPO / "submissions_example" / "hw2" / "correct" / "hw2.py"


def conv_truth() -> np.ndarray:
    return np.asarray(course("hw2")[1].function("conv_I_J", field="t")())


def graded_with(**changes) -> dict[str, float]:
    answers = load_answers(CORRECT)
    answers.update(changes)
    return grade_in_process("hw2", answers)


def test_a_transposed_matrix_earns_the_named_mistakes_credit_not_its_symmetric_cells() -> None:
    assert graded_with(I_CONV_J=conv_truth().T.tolist())["3.1/I_CONV_J"] == 0.5


def test_a_sign_flipped_matrix_earns_nothing_for_its_zero_cells() -> None:
    assert graded_with(I_CONV_J=(-conv_truth()).tolist())["3.1/I_CONV_J"] == 0.0


def test_a_sign_flipped_matrix_is_told_so_not_that_it_is_transposed() -> None:
    truth = conv_truth()
    words = [w for w, other in transformations(truth) if np.array_equal(other, -truth)]
    assert words == ["the right answer with every sign flipped"]


def test_a_matrix_flipped_upside_down_earns_nothing() -> None:
    assert graded_with(I_CONV_J=conv_truth()[::-1].tolist())["3.1/I_CONV_J"] == 0.0


def test_a_list_of_zeros_earns_nothing_for_the_pooling_layers() -> None:
    assert graded_with(PARAMS_PER_LAYER=[0] * 9)["3.2/PARAMS_PER_LAYER"] == 0.0


def test_a_total_of_zero_after_placeholder_layers_earns_no_follow_through() -> None:
    credits = graded_with(PARAMS_PER_LAYER=[0] * 9, TOTAL_PARAMS=0)
    assert credits["3.2/TOTAL_PARAMS"] == 0.0


def test_follow_through_still_pays_a_genuine_attempt() -> None:
    layers = [1728, 0, 73728, 0, 294912, 589824, 0, 51380224, 102400]  # weights, no biases
    credits = graded_with(PARAMS_PER_LAYER=layers, TOTAL_PARAMS=sum(layers))
    assert credits["3.2/TOTAL_PARAMS"] == 0.5


def test_one_wrong_layer_keeps_the_other_layers_credit() -> None:
    layers = [1792, 0, 73856, 0, 296168, 590080, 0, 51381248, 102500]  # a transcription slip
    assert graded_with(PARAMS_PER_LAYER=layers)["3.2/PARAMS_PER_LAYER"] == 8 / 9


def test_a_constant_answer_is_a_placeholder_only_where_the_truth_varies() -> None:
    assert is_placeholder([0, 0, 0], [1, 0, 2]) and not is_placeholder([0, 0], [0, 0])


def test_a_list_of_zeros_is_not_a_genuine_attempt() -> None:
    assert not is_genuine([0, 0, 0]) and is_genuine([1, 0, 3]) and not is_genuine(None)


def test_weights_without_biases_earn_the_mistakes_credit_not_the_pooling_zeros() -> None:
    layers = [1728, 0, 73728, 0, 294912, 589824, 0, 51380224, 102400]
    assert graded_with(PARAMS_PER_LAYER=layers)["3.2/PARAMS_PER_LAYER"] == 0.5
