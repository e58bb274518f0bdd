"""The check kinds a rubric can name, as typed models that validate themselves.

Each model documents its options; pydantic turns a typo or an out-of-range tolerance into an
error that names the field. Tolerances are stated here once, with defaults that suit float64
answers computed by numpy.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Check(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExactCheck(_Check):
    """Equality after light normalisation (strings stripped, case folded unless asked not to)."""

    kind: Literal["exact"]
    case_sensitive: bool = False


class NumericCheck(_Check):
    """A single number, equal within |s - e| <= atol + rtol * |e|, or to `sig_figs` figures."""

    kind: Literal["numeric"]
    rtol: float = Field(1e-6, ge=0)
    atol: float = Field(1e-9, ge=0)
    sig_figs: int | None = Field(None, ge=1, le=17)


class ArrayCheck(_Check):
    """An array (nested lists, numpy arrays and tensors all count) compared element-wise.

    `dtype` says which element types are acceptable: `any` numeric, `integer`, `floating`, or
    `bool`. `per_element` gives the fraction of matching elements as credit when the shape is
    right; otherwise any mismatch is zero. `squeeze` forgives singleton dimensions
    ((5, 1) against (5,)).

    Values are compared in float64 (complex128 for a complex expected array). A float16/float32
    answer is judged with an effective rtol of max(rtol, 4 * eps of its dtype), so the float32
    rounding of the expected array passes even a tighter rtol. The `integer` dtype accepts float
    arrays whose values are all whole numbers; `floating` accepts ints; `bool` accepts 0/1 ints.
    """

    kind: Literal["array"]
    rtol: float = Field(1e-6, ge=0)
    atol: float = Field(1e-9, ge=0)
    dtype: Literal["any", "integer", "floating", "bool"] = "any"
    per_element: bool = False
    squeeze: bool = False


class ShapeCheck(_Check):
    """A shape tuple such as (32, 128, 26, 26); lists and torch.Size count as tuples.

    With `per_dimension`, a shape of the right length earns the fraction of dimensions that
    match.
    """

    kind: Literal["shape"]
    per_dimension: bool = False


class ChoiceCheck(_Check):
    """One answer out of `options` (case-insensitive); `aliases` map other spellings to an option.

    True/False answers are read as "yes"/"no" when those are options.
    """

    kind: Literal["choice"]
    options: list[str] = Field(min_length=2)
    aliases: dict[str, list[str]] = Field(default_factory=dict)


class SelectAllCheck(_Check):
    """A set of picks (select all that apply, or a set of graph edges).

    Credit is (right picks - wrong_pick_penalty * wrong picks) / number of right answers,
    clipped to [0, 1]; a subset of the right answers earns its share.
    """

    kind: Literal["select_all"]
    wrong_pick_penalty: float = Field(1.0, ge=0)
    case_sensitive: bool = False


class BigOCheck(_Check):
    """An asymptotic answer in `variable`: O(t), O(T), \\mathcal{O}(t), "linear in t", O(1),
    "constant", O(t^2), O(t log t)...

    Symbols listed in `constants` are treated as constants (O(dt) reads as O(t)) and earn full
    credit with a note saying so.
    """

    kind: Literal["big_o"]
    variable: str = Field("n", min_length=1)
    constants: list[str] = Field(default_factory=list)


class KeywordAnswer(_Check):
    """One acceptable short answer: every group needs at least one of its words."""

    name: str
    all_of: list[list[str]] = Field(min_length=1)


class KeywordsCheck(_Check):
    """Short free text judged by keywords; the best-matching accepted answer counts.

    Credit is the fraction of that answer's groups found. Keyword credit is never a proof of
    understanding, so rubrics should keep these parts small.
    """

    kind: Literal["keywords"]
    answers: list[KeywordAnswer] = Field(min_length=1)


class PropertyCheck(_Check):
    """A reference predicate judges the value, for answers that are not unique.

    `predicate` names a function in the reference module, called as predicate(value) for a
    constant or predicate(value, **case) for a function case. It returns a bool, a credit in
    [0, 1], or either of those paired with a feedback string.
    """

    kind: Literal["property"]
    predicate: str


_ITEM_CHECKS = (
    ExactCheck
    | NumericCheck
    | ArrayCheck
    | ShapeCheck
    | ChoiceCheck
    | SelectAllCheck
    | BigOCheck
    | KeywordsCheck
)

ItemCheck = Annotated[_ITEM_CHECKS, Field(discriminator="kind")]
"""Checks that can judge one item of an `each` list."""


class EachCheck(_Check):
    """A list of answers (one per layer, per step...) judged item by item with `item` check.

    Credit is the mean over items, so a wrong layer costs only its share; `labels` name the
    items in feedback ("layer c: ..."). Known mistakes are matched item by item too.
    """

    kind: Literal["each"]
    item: ItemCheck
    labels: list[str] = Field(default_factory=list)


Check = Annotated[_ITEM_CHECKS | EachCheck | PropertyCheck, Field(discriminator="kind")]
"""Every check a rubric part can name."""

CHECK_KINDS = (
    "exact",
    "numeric",
    "array",
    "shape",
    "choice",
    "select_all",
    "big_o",
    "keywords",
    "each",
    "property",
)
