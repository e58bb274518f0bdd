"""What a rubric part looks for on a written sheet: its `written:` declaration.

A sheet answers in prose and math, not in named variables, so each part that a sheet can
answer says what to look for (a formula and the names its left side may carry, a number, a
table's rows...) and where (the section, by default the question's number, and optional cue
words choosing the sentence when a section answers several parts). One model per kind, told
apart by `kind`, every model refusing unknown keys so that a typo names its field path, as in
the rest of the rubric.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SECTION = r"^[0-9A-Za-z]+([.][0-9A-Za-z]+)*$"


class _Declared(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    section: str | None = Field(
        None,
        pattern=SECTION,
        description="the sheet's section answering this part; default: the question's number",
    )
    cues: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description=(
            "words choosing the sentence or line within the section (2.1.2's `forward` and "
            "`back`), matched case-insensitively"
        ),
    )


class FormulaSheet(_Declared):
    """A formula whose left side is one of `names` (eta^*, L_1); `symbols` say what the
    letters it may use mean in terms of the function's arguments (a: X w0 - t, n: rows of X)."""

    kind: Literal["formula"]
    names: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    symbols: dict[str, str] = Field(default_factory=dict)

    @field_validator("symbols")
    @classmethod
    def _symbol_names(cls, symbols: dict[str, str]) -> dict[str, str]:
        for name, meaning in symbols.items():
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
                raise ValueError(f"{name!r} is not a symbol name (letters, digits and _)")
            if not meaning.strip():
                raise ValueError(f"symbol {name!r} needs a meaning")
        return symbols


class NumberSheet(_Declared):
    """One number: 52,444,644; 73,\\!856; 1.2e-3; 3/4; the last one of the chosen lines."""

    kind: Literal["number"]


class MatrixSheet(_Declared):
    """A matrix or vector written as bmatrix, pmatrix, array or a bracketed list. With
    `names` (theta, theta^*), only the last equation naming one of them is the answer, and
    any arithmetic on its right side (a factor, a sum) is worked out: theta = [1, 1, 1] / 1.11."""

    kind: Literal["matrix"]
    names: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)


class TableSheet(_Declared):
    """One number per row label, from a Markdown or LaTeX table or from `label: ... = N`
    lines: the row's last number (the result its equation ends on). Labels match loosely
    (case, spaces, dashes); rows in `absent` (pools, which have no parameters) may be left out
    and then count as 0. A label repeated in `rows` is matched to the sheet's rows of that
    label in order."""

    kind: Literal["table"]
    rows: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    absent: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)


class BigOSheet(_Declared):
    """An asymptotic bound, O(t), \\mathcal{O}(dt), Θ(1)."""

    kind: Literal["big_o"]


class ChoiceSheet(_Declared):
    """One of the check's options (an option letter, yes or no). With `about` (say `convex`),
    a sentence stating the property answers yes and one negating it ("not convex") no."""

    kind: Literal["choice"]
    about: str | None = Field(None, min_length=1)


class PicksSheet(_Declared):
    """The letters of a select-all question, written as a list: `C and D`, `A, C, D`."""

    kind: Literal["picks"]


class TextSheet(_Declared):
    """Short text, judged by the part's keywords check: the chosen sentences."""

    kind: Literal["text"]


class ShapeSheet(_Declared):
    """One shape, [32, 128, 26, 26] or 32 x 128 x 26 x 26."""

    kind: Literal["shape"]


class ShapesSheet(_Declared):
    """One shape per label (layers a to f), from `label: [shape]` lines, in order."""

    kind: Literal["shapes"]
    labels: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)


class ManualSheet(_Declared):
    """A part a sheet answers in a form a human must judge (code written by hand): pending
    for a TA with the section's text, never 0."""

    kind: Literal["manual"]


Written = Annotated[
    FormulaSheet
    | NumberSheet
    | MatrixSheet
    | TableSheet
    | BigOSheet
    | ChoiceSheet
    | PicksSheet
    | TextSheet
    | ShapeSheet
    | ShapesSheet
    | ManualSheet,
    Field(discriminator="kind"),
]
"""A part's `written:` declaration."""

WRITTEN_KINDS = (
    "formula",
    "number",
    "matrix",
    "table",
    "big_o",
    "choice",
    "picks",
    "text",
    "shape",
    "shapes",
    "manual",
)
