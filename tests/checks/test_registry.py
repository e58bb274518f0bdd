"""The check-kind contract: every registered kind is complete, and the registry is the only
list of kinds (the rubric's union, the names and the kit are all derived from it)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from grader.checks import (
    CHECK_KINDS,
    KINDS,
    Check,
    compare,
    form_problem,
    from_public,
    kind_of,
    public_form,
    public_options,
    validate_expected,
)
from grader.checks.kind import CheckKind, CheckSpec

# One valid check per kind, with a right answer: a new kind must add its line here.
EXAMPLES: dict[str, tuple[dict[str, Any], Any]] = {
    "exact": ({"kind": "exact"}, "relu"),
    "numeric": ({"kind": "numeric"}, 0.5),
    "array": ({"kind": "array"}, [[1.0, 2.0], [3.0, 4.0]]),
    "shape": ({"kind": "shape"}, (32, 128, 26, 26)),
    "choice": ({"kind": "choice", "options": ["yes", "no"]}, "yes"),
    "select_all": ({"kind": "select_all"}, ["a", "c"]),
    "big_o": ({"kind": "big_o", "variable": "t"}, "O(t)"),
    "keywords": (
        {"kind": "keywords", "answers": [{"name": "vanish", "all_of": [["vanish"]]}]},
        "the gradients vanish",
    ),
    "each": ({"kind": "each", "item": {"kind": "numeric"}, "labels": ["a", "b"]}, [1, 2]),
    "property": ({"kind": "property", "predicate": "in_row_space"}, None),
}

CHECK = TypeAdapter(Check)


def test_every_registered_kind_has_an_example_and_a_unique_name():
    assert list(CHECK_KINDS) == [kind.name for kind in KINDS]
    assert len(set(CHECK_KINDS)) == len(CHECK_KINDS)
    assert set(CHECK_KINDS) == set(EXAMPLES)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_every_registered_kind_fulfils_the_contract(kind: CheckKind[Any]):
    assert issubclass(kind.spec, CheckSpec)
    options, _ = EXAMPLES[kind.name]
    check = CHECK.validate_python(options)
    assert type(check) is kind.spec
    assert kind_of(check) is kind
    for member in ("compare", "validate_expected", "public_form", "form_problem", "items"):
        assert callable(getattr(kind, member)), member


@pytest.mark.parametrize("name", [n for n in EXAMPLES if n != "property"])
def test_a_value_check_judges_validates_and_describes_its_right_answer(name: str):
    options, answer = EXAMPLES[name]
    check = CHECK.validate_python(options)
    assert validate_expected(check, answer) is None
    assert compare(check, answer, answer, reveal=False).passed
    form = public_form(check, answer)
    assert form_problem(name, form, answer) is None
    assert from_public(public_options(check)) == check


def test_a_property_check_keeps_its_predicate_out_of_the_kit_and_out_of_compare():
    options, _ = EXAMPLES["property"]
    check = CHECK.validate_python(options)
    assert public_options(check) == {"kind": "property"}
    assert from_public(public_options(check)) is None
    assert public_form(check, None) == {"kind": "any"}
    with pytest.raises(TypeError):
        compare(check, 1, 1, reveal=False)


def test_an_each_item_can_be_any_kind_that_judges_one_value():
    item_kinds = [kind.name for kind in KINDS if kind.item]
    assert "each" not in item_kinds and "property" not in item_kinds
    for name in item_kinds:
        options, answer = EXAMPLES[name]
        check = CHECK.validate_python({"kind": "each", "item": options})
        assert compare(check, [answer], [answer], reveal=False).passed


def test_an_unregistered_model_is_not_a_check():
    class Stray(CheckSpec):
        kind: str = "stray"

    with pytest.raises(TypeError):
        compare(Stray(), 1, 1, reveal=True)
