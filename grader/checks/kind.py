"""The contract every check kind fulfils, so that a kind lives in one module.

A rubric names a check by its `kind`; everything the grader does with that kind (read its
options from YAML, judge a student value, refuse a reference value it could never compare
with, tell the student kit what form a constant's answer takes, and check that form in
`grader check`) is reached through one `CheckKind` value, which the kind's module defines as
`KIND` and `grader.checks` registers. Nothing outside the kind's module needs to know its
options.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, get_args

from pydantic import BaseModel, ConfigDict

from grader.checks.verdict import Verdict


class CheckSpec(BaseModel):
    """A check's options as the rubric states them; a typo is an error naming the field."""

    model_config = ConfigDict(extra="forbid", frozen=True)


S = TypeVar("S", bound=CheckSpec)
S_contra = TypeVar("S_contra", bound=CheckSpec, contravariant=True)

Form = dict[str, Any]
"""What a constant's answer must look like, as plain data in the kit (never the answer)."""


class Comparator(Protocol[S_contra]):
    def __call__(
        self, check: S_contra, student: object, expected: object, *, reveal: bool
    ) -> Verdict:
        """Judge `student` against `expected`. With reveal=False (a hidden case) the
        feedback must not contain the expected value. Never raises on student values."""
        ...


@dataclass(frozen=True)
class ItemScorer:
    """How a check splits an answer into items that known mistakes are matched against one
    by one (a table's cells, a network's layers), and how one item scores in [0, 1]."""

    split: Callable[[Any], list[Any] | None]
    score: Callable[[Any, Any], float]


def _any_form(check: Any, expected: object) -> Form:
    return {"kind": "any"}


def _no_form_problem(form: Form, value: object) -> str | None:
    return None


def _no_items(check: Any) -> ItemScorer | None:
    return None


def _options(check: CheckSpec) -> dict[str, Any]:
    return check.model_dump(mode="json")


@dataclass(frozen=True)
class CheckKind(Generic[S]):
    """One check kind: its YAML model and what the grader does with it.

    `spec` is the pydantic model, whose `kind: Literal[...]` field names the kind.
    `compare` judges a value; `validate_expected` says why a reference value cannot be used
    (None when it can), so that `grader validate` fails before any student does.
    `public_form` is the form of a constant's answer shown in the student kit, and
    `form_problem` checks a student's value against such a form in `grader check`.
    `public_options` is what the kit shows of the check's options. `items` says how known
    mistakes are matched item by item, for kinds graded per item. `item` is False for kinds
    that cannot judge one item of an `each` list, and `judged_in_public` for kinds whose
    judging needs the reference (so `grader check` only runs the student's code).
    """

    spec: type[S]
    compare: Comparator[S]
    validate_expected: Callable[[S, object], str | None]
    public_form: Callable[[S, object], Form] = _any_form
    form_problem: Callable[[Form, object], str | None] = _no_form_problem
    public_options: Callable[[S], dict[str, Any]] = _options
    items: Callable[[S], ItemScorer | None] = _no_items
    item: bool = True
    judged_in_public: bool = True

    @property
    def name(self) -> str:
        """The `kind:` a rubric writes, read from the model's Literal so it is stated once."""
        annotation = self.spec.model_fields["kind"].annotation
        return str(get_args(annotation)[0])
