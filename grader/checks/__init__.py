"""Checks: trusted, pure judging of a student value against an expected one.

Every check kind is one module that defines its `KIND` (see grader.checks.kind for the
contract); `KINDS` below registers them, and is the only list of kinds in the grader. The
rubric's `Check` type, the kit's forms and `grader validate` are all derived from it, so adding
a kind is a new module plus its line here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Field, TypeAdapter

from grader.checks import (
    array,
    big_o,
    choice,
    each,
    exact,
    keywords,
    numeric,
    property,
    select_all,
    shape,
)
from grader.checks.kind import CheckKind, CheckSpec, Form
from grader.checks.verdict import Verdict

__all__ = [
    "CHECK_KINDS",
    "KINDS",
    "Check",
    "compare",
    "form_problem",
    "from_public",
    "kind_of",
    "public_form",
    "public_options",
    "validate_expected",
]

KINDS: tuple[CheckKind[Any], ...] = (
    exact.KIND,
    numeric.KIND,
    array.KIND,
    shape.KIND,
    choice.KIND,
    select_all.KIND,
    big_o.KIND,
    keywords.KIND,
    each.KIND,
    property.KIND,
)

CHECK_KINDS = tuple(kind.name for kind in KINDS)
"""The names a rubric's `kind:` may take."""

_BY_SPEC: dict[type[CheckSpec], CheckKind[Any]] = {kind.spec: kind for kind in KINDS}
_BY_NAME: dict[str, CheckKind[Any]] = {kind.name: kind for kind in KINDS}


def _union(kinds: tuple[CheckKind[Any], ...]) -> Any:
    """Told apart by `kind`, so pydantic validates only the named kind's model and an error
    names that kind's own field."""
    return Annotated[Union[tuple(kind.spec for kind in kinds)], Field(discriminator="kind")]  # noqa: UP007


if TYPE_CHECKING:  # a union built at run time is opaque to mypy; every member is a CheckSpec
    Check = CheckSpec
else:
    each.EachCheck.model_rebuild(
        _types_namespace={"ItemCheck": _union(tuple(kind for kind in KINDS if kind.item))}
    )
    Check = _union(KINDS)
    """Every check a rubric part can name, told apart by `kind`."""

_CHECK = TypeAdapter(Check)


def kind_of(check: CheckSpec) -> CheckKind[Any]:
    """The registered kind of a check model; TypeError for anything that is not one."""
    kind = _BY_SPEC.get(type(check))
    if kind is None:
        raise TypeError(f"{type(check).__name__} is not a registered check kind")
    return kind


def compare(check: CheckSpec, student: object, expected: object, *, reveal: bool) -> Verdict:
    """Judge `student` against `expected` under `check`.

    `reveal` is False for hidden cases: the feedback then never contains the expected value.
    Raises TypeError for a PropertyCheck, whose predicate only the engine runs.
    """
    return kind_of(check).compare(check, student, expected, reveal=reveal)


def validate_expected(check: CheckSpec, expected: object) -> str | None:
    """Why a reference value cannot be used with this check, or None when it can."""
    return kind_of(check).validate_expected(check, expected)


def public_form(check: CheckSpec, expected: object) -> Form:
    """What a constant's answer must look like, for the student kit, without what it is."""
    return kind_of(check).public_form(check, expected)


def public_options(check: CheckSpec) -> dict[str, Any]:
    """The check as the student kit shows it."""
    return kind_of(check).public_options(check)


def form_problem(kind: str, form: Form, value: object) -> str | None:
    """Why a student's value does not have the form a kit's check of `kind` asks for."""
    return _BY_NAME[kind].form_problem(form, value)


def from_public(options: dict[str, Any]) -> CheckSpec | None:
    """The check model of a kit's public options; None for a kind the kit cannot judge (its
    judging is not public); pydantic's ValidationError for damaged options."""
    kind = _BY_NAME.get(options.get("kind", ""))
    if kind is not None and not kind.judged_in_public:
        return None
    checked: CheckSpec = _CHECK.validate_python(options)
    return checked
