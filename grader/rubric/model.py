"""The rubric: one YAML file per assignment, validated into typed models.

A rubric says what to ask the submission for (targets), how to judge each answer (checks), what
partial credit and common mistakes are worth, and what stays for a human (manual parts). Every
model forbids unknown keys, so a typo is an error that names its field path
(`questions[4].parts[0].check.rtol`) instead of a silently ignored option.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)

from grader.checks import CHECK_KINDS, Check
from grader.checks.property import PropertyCheck
from grader.errors import RubricError
from grader.rubric.budget import RESERVE
from grader.rubric.files import Harness, RubricSource, SubmissionFiles, beside, read_rubric
from grader.sandbox.plan import SandboxLimits
from grader.written.declare import WRITTEN_KINDS, FormulaSheet, ManualSheet, Written
from grader.written.formulas import read_symbols
from grader.written.latex_math import FormulaError

Visibility = Literal["visible", "after_due_date", "after_published", "hidden"]
IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
POINTS_SLACK = 1e-9


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Answer(_Model):
    """The canonical answer of a constant: a reference function's result or a literal value."""

    reference: str | None = Field(None, pattern=IDENTIFIER)
    value: Any = None

    @model_validator(mode="after")
    def _one_source(self) -> Answer:
        if (self.reference is None) == (self.value is None):
            raise ValueError(
                "give exactly one of `reference` (a function in the reference "
                "module) or `value` (a literal)"
            )
        return self


class RandomCases(_Model):
    """`count` cases drawn by a generator in the reference module, seeded per submission."""

    generator: str = Field(pattern=IDENTIFIER)
    count: int = Field(ge=1, le=1000)


class FunctionTarget(_Model):
    """How to call a student's function: argument order, where cases come from, the reference.

    Cases listed in YAML are keyword dictionaries; arguments named in `array_args` are turned
    into float64 numpy arrays (and those in `tensor_args` into torch tensors) before the call.
    The student's function is called positionally in `args` order, so students may name their
    parameters as they like. With `harness`, the named harness function is called instead, with
    the student's function as its first argument; it returns data.
    """

    args: list[Annotated[str, Field(pattern=IDENTIFIER)]]
    reference: str | None = Field(None, pattern=IDENTIFIER)
    array_args: list[str] = Field(default_factory=list)
    tensor_args: list[str] = Field(default_factory=list)
    public: list[dict[str, Any]] = Field(default_factory=list)
    hidden: list[dict[str, Any]] = Field(default_factory=list)
    random: RandomCases | None = None
    harness: str | None = Field(
        None,
        pattern=IDENTIFIER,
        description=(
            "a function of the rubric's harness module, run inside the sandbox as "
            "harness(student_function, *args), for targets that take objects (a torch model, an "
            "optimizer) that cannot cross the boundary as data"
        ),
    )

    @model_validator(mode="after")
    def _consistent(self) -> FunctionTarget:
        for group in ("array_args", "tensor_args"):
            unknown = set(getattr(self, group)) - set(self.args)
            if unknown:
                raise ValueError(f"{group} names {sorted(unknown)} which are not in args")
        for label, cases in (("public", self.public), ("hidden", self.hidden)):
            for index, case in enumerate(cases):
                if set(case) != set(self.args):
                    raise ValueError(
                        f"{label}[{index}] has arguments {sorted(case)} but args are {self.args}"
                    )
        if not (self.public or self.hidden or self.random):
            raise ValueError("a function target needs at least one case (public, hidden or random)")
        return self


class Variant(_Model):
    """Another answer than the canonical one: given by a reference function or a value.

    `uses` passes the student's own answers to other targets to the reference function as
    keyword arguments (follow-through credit: a total judged against the student's own parts).
    `convention`, when set, makes the variant apply only to students who were seen to follow
    that convention in an earlier part (see Alternative.establishes).
    """

    reference: str | None = Field(None, pattern=IDENTIFIER)
    value: Any = None
    uses: list[Annotated[str, Field(pattern=IDENTIFIER)]] = Field(default_factory=list)
    convention: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Variant:
        if (self.reference is None) == (self.value is None):
            raise ValueError("give exactly one of `reference` or `value`")
        if self.uses and self.reference is None:
            raise ValueError("`uses` needs a `reference` function to pass the answers to")
        return self


class Mistake(Variant):
    """A known wrong answer, with the credit it still earns and feedback that teaches."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    credit: float = Field(0.0, ge=0.0, lt=1.0)
    feedback: str = Field(min_length=1)


class Alternative(Variant):
    """An accepted alternative convention: full credit, with a note for the student.

    `establishes` names a convention that later variants may require, so that a convention is
    only accepted when the student used it consistently.
    """

    note: str = Field(min_length=1)
    establishes: str | None = None


class AutoPart(_Model):
    """A part the grader judges: one target, one check, its points and its known mistakes."""

    name: str = Field(min_length=1)
    points: float = Field(ge=0)
    target: str = Field(pattern=IDENTIFIER)
    check: Check
    answer: Answer | None = None
    function: FunctionTarget | None = None
    mistakes: list[Mistake] = Field(default_factory=list)
    alternatives: list[Alternative] = Field(default_factory=list)
    timeout: float | None = Field(None, gt=0, le=3600)
    written: Written | None = Field(
        None,
        description=(
            "what a written answer sheet gives for this part and where (grader.written); "
            "without it a sheet cannot answer the part"
        ),
    )

    @model_validator(mode="after")
    def _answer_source(self) -> AutoPart:
        is_property = isinstance(self.check, PropertyCheck)
        if self.function is not None and self.answer is not None:
            raise ValueError(
                "a function target takes its answers from `function.reference`; remove `answer`"
            )
        if self.function is None and self.answer is None and not is_property:
            raise ValueError("a constant target needs an `answer` (or use a property check)")
        if self.function is not None and self.function.reference is None and not is_property:
            raise ValueError("function.reference is required unless the check is a property")
        if is_property and (self.mistakes or self.alternatives):
            raise ValueError(
                "a property check explains failures through its predicate's "
                "feedback; it takes no mistakes or alternatives"
            )
        written = self.written
        formula_mismatch = written is not None and (
            (written.kind == "formula") != (self.function is not None)
        )
        if formula_mismatch and not isinstance(written, ManualSheet):
            raise ValueError(
                "written.kind formula is for a function target (the formula becomes the "
                "function), and a function target can only be written as a formula (or "
                "`kind: manual`)"
            )
        if isinstance(written, FormulaSheet) and self.function is not None:
            try:
                read_symbols(written.symbols, self.function.args)
            except FormulaError as error:
                raise ValueError(f"written.symbols: {error}") from None
        return self


class ManualPart(_Model):
    """Points a human grades (proofs, drawings, free text): reported as pending, never guessed."""

    name: str = Field(min_length=1)
    points: float = Field(ge=0)
    manual: str = Field(min_length=1, description="what the grader should look for")


def _part_kind(data: Any) -> str:
    if isinstance(data, dict):
        return "manual" if "manual" in data else "auto"
    return "manual" if isinstance(data, ManualPart) else "auto"


Part = Annotated[
    Annotated[AutoPart, Tag("auto")] | Annotated[ManualPart, Tag("manual")],
    Discriminator(_part_kind),
]


class Question(_Model):
    """A numbered sub-question: the unit of one Gradescope test."""

    number: str = Field(pattern=r"^[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$")
    title: str = Field(min_length=1)
    points: float = Field(ge=0)
    visibility: Visibility = "visible"
    parts: list[Part] = Field(min_length=1)

    @model_validator(mode="after")
    def _points_add_up(self) -> Question:
        total = sum(part.points for part in self.parts)
        if not math.isclose(total, self.points, abs_tol=POINTS_SLACK):
            raise ValueError(f"points is {self.points:g} but the parts add up to {total:g}")
        return self

    @property
    def auto_points(self) -> float:
        return sum(p.points for p in self.parts if isinstance(p, AutoPart))

    @property
    def manual_points(self) -> float:
        return sum(p.points for p in self.parts if isinstance(p, ManualPart))


class Limits(_Model):
    """Time and resource limits for the student's code."""

    call_timeout: float = Field(10.0, gt=0, le=3600, description="seconds per request")
    import_timeout: float = Field(60.0, gt=0, le=3600)
    memory_mb: int = Field(2048, ge=256, le=65536)
    cpu_seconds: int = Field(600, ge=1, le=86400, description="CPU time for one child, in all")
    total_seconds: float = Field(
        600,
        gt=0,
        le=86400,
        description=(
            "the whole submission's limit (set it to the Gradescope assignment's timeout): each "
            "part gets a share of it, and 20% is kept in reserve"
        ),
    )

    @model_validator(mode="after")
    def _import_fits_the_reserve(self) -> Limits:
        if self.import_timeout > self.total_seconds * RESERVE + 1e-9:
            raise ValueError(
                f"import_timeout ({self.import_timeout:g} s) must be at most the "
                f"{RESERVE:.0%} of total_seconds kept in reserve "
                f"({self.total_seconds * RESERVE:g} s), or re-importing after a crash could "
                "overrun the whole limit"
            )
        return self

    max_return_mb: int = Field(32, ge=1, le=1024)

    def sandbox_limits(self) -> SandboxLimits:
        """The limits each sandboxed child gets (the call timeout and the total are the
        grader's to enforce, per request and per submission)."""
        return SandboxLimits(
            import_timeout=self.import_timeout,
            memory_mb=self.memory_mb,
            cpu_seconds=self.cpu_seconds,
            max_response_bytes=self.max_return_mb << 20,
        )


class CustomTests(_Model):
    """A unittest module written with gradescope-utils decorators, run in the trusted process.

    Its module globals `submission` (a proxy to the sandboxed code) and `reference` (the
    reference module) are set before it runs. `points` must equal the sum of its @weight values.
    """

    module: str = Field(pattern=r"\.py$")
    points: float = Field(ge=0)


class Rubric(_Model):
    """A whole assignment."""

    assignment: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str = Field(min_length=1)
    total_points: float = Field(ge=0)
    seed: int = Field(ge=0)
    reference: str = Field(pattern=r"\.py$", description="path relative to the rubric file")
    harness: Harness = None
    submission: SubmissionFiles
    limits: Limits = Field(default_factory=Limits)
    conventions: dict[str, str] = Field(default_factory=dict)
    custom_tests: list[CustomTests] = Field(default_factory=list)
    questions: list[Question] = Field(min_length=1)

    @model_validator(mode="after")
    def _whole_rubric_consistent(self) -> Rubric:
        numbers = [q.number for q in self.questions]
        duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
        if duplicates:
            raise ValueError(f"question numbers repeat: {duplicates}")
        total = sum(q.points for q in self.questions) + sum(c.points for c in self.custom_tests)
        if not math.isclose(total, self.total_points, abs_tol=POINTS_SLACK):
            raise ValueError(
                f"total_points is {self.total_points:g} but the questions (and "
                f"custom tests) add up to {total:g}"
            )
        self._check_conventions()
        if self.harness is None:
            for q_index, question in enumerate(self.questions):
                for p_index, part in enumerate(question.parts):
                    if isinstance(part, AutoPart) and part.function and part.function.harness:
                        raise ValueError(
                            f"questions[{q_index}].parts[{p_index}].function.harness names "
                            f"{part.function.harness!r} but the rubric has no `harness` module"
                        )
        return self

    def _check_conventions(self) -> None:
        established: set[str] = set()
        for q_index, question in enumerate(self.questions):
            for p_index, part in enumerate(question.parts):
                if not isinstance(part, AutoPart):
                    continue
                for variant in [*part.mistakes, *part.alternatives]:
                    name = variant.convention
                    if name is not None and name not in established:
                        raise ValueError(
                            f"questions[{q_index}].parts[{p_index}] uses convention {name!r} "
                            "before any earlier alternative establishes it"
                        )
                for alternative in part.alternatives:
                    if alternative.establishes is not None:
                        if alternative.establishes not in self.conventions:
                            raise ValueError(
                                f"questions[{q_index}].parts[{p_index}] establishes "
                                f"{alternative.establishes!r}, which `conventions` does not "
                                "describe"
                            )
                        established.add(alternative.establishes)

    def auto_parts(self) -> list[tuple[Question, AutoPart]]:
        return [(q, p) for q in self.questions for p in q.parts if isinstance(p, AutoPart)]

    @property
    def auto_points(self) -> float:
        return sum(q.auto_points for q in self.questions) + sum(c.points for c in self.custom_tests)


class LoadedRubric:
    """A validated rubric together with where it came from and the hash that identifies it."""

    def __init__(self, rubric: Rubric, path: Path, sha256: str) -> None:
        self.rubric = rubric
        self.path = path
        self.sha256 = sha256

    @property
    def reference_path(self) -> Path:
        return beside(self.path, self.rubric.reference)

    @property
    def harness_path(self) -> Path | None:
        if self.rubric.harness is None:
            return None
        return beside(self.path, self.rubric.harness)

    def custom_test_path(self, tests: CustomTests) -> Path:
        return beside(self.path, tests.module)


def format_location(location: tuple[int | str, ...]) -> str:
    """pydantic's ('questions', 4, 'parts', 0, 'check', 'numeric', 'rtol') as
    questions[4].parts[0].check.rtol: union tags are dropped, indices bracketed."""
    path = ""
    previous: int | str | None = None
    for item in location:
        if isinstance(item, int):
            path += f"[{item}]"
        elif (
            (previous in ("check", "parts") or isinstance(previous, int))
            and (item in CHECK_KINDS or item in ("auto", "manual"))
        ) or (previous == "written" and item in WRITTEN_KINDS):
            continue  # discriminated-union tag, not a field
        else:
            path += f".{item}" if path else item
        previous = item
    return path or "(top level)"


def _hint(item: Any) -> str:
    """What the rubric probably meant, for the slips newcomers make."""
    got = item.get("input")
    if (
        item["loc"]
        and item["loc"][-1] == "answer"
        and item["type"] in ("model_type", "dict_type")
        and not isinstance(got, dict)
    ):
        literal = yaml.safe_dump(got, default_flow_style=True, width=60).strip()
        literal = literal.removesuffix("...").strip()
        return (
            f"\n    did you mean `answer: {{value: {literal}}}`? An answer is a literal under "
            "`value`, or a reference function under `reference`"
        )
    return ""


def _describe_errors(error: ValidationError, path: Path) -> str:
    lines = [f"{path}: invalid rubric"]
    for item in error.errors(include_url=False):
        message = item["msg"].removeprefix("Value error, ")
        got = item.get("input")
        shown = "" if isinstance(got, (dict, list)) or got is None else f" (got {got!r})"
        lines.append(f"  {format_location(item['loc'])}: {message}{shown}{_hint(item)}")
    return "\n".join(lines)


def validate_rubric(source: RubricSource) -> LoadedRubric:
    """Validate a rubric read by `read_rubric`; raise RubricError naming the file and every bad
    field."""
    try:
        rubric = Rubric.model_validate(source.data)
    except ValidationError as error:
        raise RubricError(_describe_errors(error, source.path)) from None
    return LoadedRubric(rubric, source.path.resolve(), hashlib.sha256(source.raw).hexdigest())


def load_rubric(path: str | Path) -> LoadedRubric:
    """Read and validate a rubric file; raise RubricError naming the file and every bad field."""
    return validate_rubric(read_rubric(path))
