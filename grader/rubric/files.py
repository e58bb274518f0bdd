"""A rubric file read as data, and the fields of it that name the files of a grading.

Everything a command needs to start its zygote (which libraries to preload depends on the
submission's entry and preload list, and on the harness) with PyYAML and pydantic only: the
checks, numpy and the formula grammar that validating the questions needs are imported after the
spawn, while the zygote's imports run on another core. The file is read and parsed once
(`read_rubric`); `RubricFiles` validates its file fields with the very definitions the whole
`Rubric` model uses (grader.rubric.model), so the two cannot read them differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from grader.errors import RubricError

SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML has it (its wheels do): the same documents and errors, read
about ten times faster than in pure Python, which took 0.15 s of every command on HW2's rubric."""


def read_yaml(data: bytes | str) -> Any:
    """A YAML document of trusted configuration (a rubric, a kit), safely: plain data only."""
    return yaml.load(data, Loader=SAFE_LOADER)


class SubmissionFiles(BaseModel):
    """Which files make a submission: the entry file imported, and others copied beside it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entry: str = Field(pattern=r"^[^/\\]+\.py$")
    also: list[str] = Field(default_factory=list, description="glob patterns of helper files")
    preload: list[str] = Field(
        default_factory=lambda: ["numpy", "torch"],
        description=(
            "libraries the zygote imports and warms up once (per batch worker, per "
            "`grader grade` or `grader check`) before it forks each sandboxed child: "
            "students' imports and first uses of them then cost nothing. List only "
            "what submissions use (each preloaded library makes every child's start "
            "and exit a little slower); one that is not installed is skipped"
        ),
    )

    @field_validator("preload")
    @classmethod
    def _module_names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", name):
                raise ValueError(f"{name!r} is not a module name")
        return names


Harness = Annotated[
    str | None,
    Field(
        pattern=r"\.py$",
        description=(
            "public module (path relative to the rubric) whose functions run INSIDE the sandbox "
            "around student functions; it is sent to the student's process, so it must not "
            "contain answers"
        ),
    ),
]
"""The rubric's `harness` field, declared once for `Rubric` and `RubricFiles`."""


class RubricFiles(BaseModel):
    """A rubric's fields naming the files of a grading, validated without the rest: the
    fields' own definitions are the whole model's, and every other key is left to it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    harness: Harness = None
    submission: SubmissionFiles


def beside(rubric: Path, relative: str) -> Path:
    """A file the rubric names (reference, harness, custom tests), relative to its folder."""
    return (rubric.resolve().parent / relative).resolve()


@dataclass(frozen=True)
class RubricSource:
    """A rubric file as read: its bytes (which its hash identifies) and the YAML mapping they
    hold, not validated yet."""

    path: Path
    raw: bytes
    data: dict[str, Any]


SUBMISSION_SUFFIXES = (".py", ".ipynb", ".zip")


def _not_a_rubric(path: Path) -> str | None:
    """What a path given as RUBRIC is, when it is plainly something else: the commonest slip
    is swapping RUBRIC and SUBMISSION, or giving a student kit."""
    if path.is_dir():
        if (path / "kit.yaml").is_file():
            return (
                f"{path} is a student kit, not a rubric: students check their work with "
                f"`grader check {path} SUBMISSION`; grading needs the rubric (a .yaml file)"
            )
        return (
            f"{path} is a folder, not a rubric: the rubric (a .yaml file) comes first, as in "
            "`grader grade RUBRIC SUBMISSION`; were the arguments swapped?"
        )
    if path.suffix in SUBMISSION_SUFFIXES:
        return (
            f"{path} looks like a submission, not a rubric: the rubric (a .yaml file) comes "
            "first, as in `grader grade RUBRIC SUBMISSION`; were the arguments swapped?"
        )
    return None


def read_rubric(path: str | Path) -> RubricSource:
    """Read a rubric file and parse its YAML; raise RubricError naming the file when it is
    unreadable, not YAML, not a mapping, or plainly not a rubric."""
    path = Path(path)
    wrong = _not_a_rubric(path)
    if wrong is not None:
        raise RubricError(wrong)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise RubricError(f"{path}: cannot read the rubric ({error.strerror})") from None
    try:
        data = read_yaml(raw)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise RubricError(f"{path}: not valid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise RubricError(
            f"{path}: a rubric is a YAML mapping with keys such as assignment, "
            f"questions; got {type(data).__name__}"
        )
    if "kit" in data and "questions" in data and "reference" not in data:
        raise RubricError(
            f"{path} is a student kit, not a rubric: students check their work with "
            f"`grader check {path.parent} SUBMISSION`; grading needs the rubric"
        )
    return RubricSource(path, raw, data)
