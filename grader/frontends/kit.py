"""The student kit: what students may see of a rubric, so they can check their work themselves.

A kit holds the questions, points and checks; for functions, the public cases with their
expected outputs (and the outputs of accepted alternative conventions); for constants, only the
form an answer must have (a number, a 5x5 array, one of these options). It never holds the
reference code, the generators, hidden or random cases, mistake variants, or any constant's
answer, in any encoding: those exist only where the grading happens. The harness, which is
public code that runs beside the student's anyway, is included.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from grader.atomic import write_bytes
from grader.checks import compare, public_form, public_options
from grader.errors import GraderInputError
from grader.frontends.autograder import grader_source
from grader.frontends.kit_files import HARNESS_FILE, KIT_FILE, KIT_VERSION
from grader.rubric.model import Alternative, AutoPart, LoadedRubric, ManualPart
from grader.trusted.answers import expected_constant
from grader.trusted.cases import build_cases
from grader.trusted.reference import ReferenceModule

STUDENTS_FILE = "STUDENTS.txt"


def plain(value: Any) -> Any:
    """Reference output as YAML-safe plain data (arrays to nested lists, sets to sorted lists)."""
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((plain(item) for item in value), key=repr)
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    return value


def _function_part(part: AutoPart, reference: ReferenceModule) -> dict[str, Any]:
    spec = part.function
    assert spec is not None
    cases = build_cases(spec, reference, np.random.default_rng(0), public_only=True)
    function = (
        reference.function(spec.reference, field="function.reference") if spec.reference else None
    )
    alternatives = [a for a in part.alternatives if isinstance(a, Alternative)]
    public = []
    for case, raw in zip(cases, spec.public, strict=True):
        entry: dict[str, Any] = {"args": plain(raw)}
        if function is not None:
            entry["expected"] = plain(function(**case.kwargs))
            entry["also_accepted"] = [
                {
                    "expected": plain(
                        reference.function(a.reference, field="alternative")(**case.kwargs)
                    ),
                    "note": a.note,
                    "convention": a.convention,
                    "establishes": a.establishes,
                }
                for a in alternatives
                if a.reference is not None and not a.uses
            ]
        public.append(entry)
    hidden = len(spec.hidden) + (spec.random.count if spec.random else 0)
    return {
        "args": list(spec.args),
        "array_args": list(spec.array_args),
        "tensor_args": list(spec.tensor_args),
        "harness": spec.harness,
        "public": public,
        "hidden_cases": hidden,
        "mistakes_passing_public_cases": _mistakes_passing(part, reference, cases),
    }


def _mistakes_passing(part: AutoPart, reference: ReferenceModule, cases: list[Any]) -> int:
    """How many known mistakes give the expected output on every public case: a student
    passing the public cases may still be making one (a cross-correlation passes a symmetric
    kernel). Only the count goes in the kit, never which mistakes."""
    spec = part.function
    if spec is None or spec.reference is None or not cases:
        return 0
    function = reference.function(spec.reference, field="function.reference")
    expected = [function(**case.kwargs) for case in cases]
    count = 0
    for mistake in part.mistakes:
        if mistake.reference is None or mistake.uses or mistake.convention:
            continue
        try:
            wrong = reference.function(mistake.reference, field="mistake")
            if all(
                compare(part.check, wrong(**case.kwargs), right, reveal=False).passed
                for case, right in zip(cases, expected, strict=True)
            ):
                count += 1
        except Exception:  # validate() reports a failing reference
            continue
    return count


def build_kit(loaded: LoadedRubric, reference: ReferenceModule) -> dict[str, Any]:
    """The public view of a rubric, as plain data."""
    rubric = loaded.rubric
    questions = []
    for question in rubric.questions:
        parts = []
        for part in question.parts:
            if isinstance(part, ManualPart):
                parts.append(
                    {
                        "name": part.name,
                        "points": part.points,
                        "kind": "manual",
                        "manual": part.manual,
                    }
                )
                continue
            entry: dict[str, Any] = {
                "name": part.name,
                "points": part.points,
                "target": part.target,
                "check": public_options(part.check),
                "timeout": part.timeout,
            }
            if part.written is not None:  # where a sheet answers it: names and cues, no answer
                entry["written"] = part.written.model_dump(mode="json")
            if part.function is not None:
                entry["kind"] = "function"
                entry["function"] = _function_part(part, reference)
            else:
                entry["kind"] = "constant"
                entry["form"] = public_form(part.check, expected_constant(part, reference))
            parts.append(entry)
        questions.append(
            {
                "number": question.number,
                "title": question.title,
                "points": question.points,
                "parts": parts,
            }
        )
    return {
        "kit": KIT_VERSION,
        "assignment": rubric.assignment,
        "title": rubric.title,
        "submission": rubric.submission.model_dump(mode="json"),
        "limits": rubric.limits.model_dump(mode="json"),
        "custom_test_points": sum(t.points for t in rubric.custom_tests),
        "questions": questions,
    }


_BUILD = "import sys, setuptools.build_meta as b; print(b.build_wheel(sys.argv[1]))"


def build_grader_wheel(folder: Path) -> Path:
    """A wheel of the grader alone (its package, never a rubric, reference or example), built
    by setuptools' standard build backend from the running grader's source, offline."""
    checkout = grader_source()
    with tempfile.TemporaryDirectory(prefix="grader-wheel-") as temporary:
        source, dist = Path(temporary) / "src", Path(temporary) / "dist"
        for path in [
            checkout / "pyproject.toml",
            checkout / "README.md",
            *sorted((checkout / "grader").rglob("*.py")),
        ]:
            target = source / path.relative_to(checkout)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        dist.mkdir()
        built = subprocess.run(
            [sys.executable, "-c", _BUILD, str(dist)],
            cwd=source,
            capture_output=True,
            text=True,
            check=False,
        )
        if built.returncode != 0:
            raise GraderInputError(
                "building the grader's wheel for the kit failed (is setuptools installed?):\n"
                + built.stderr.strip()[-2000:]
            )
        name = built.stdout.strip().splitlines()[-1]
        folder.mkdir(parents=True, exist_ok=True)
        write_bytes(folder / name, (dist / name).read_bytes())
    return folder / name


def student_instructions(kit: dict[str, Any], folder: Path, wheel: str | None, torch: bool) -> str:
    """What students run, in the order they run it: the commands name files they have."""
    entry = kit["submission"]["entry"]
    install = (
        f'python3 -m pip install "{folder.name}/{wheel}{"[torch]" if torch else ""}"'
        if wheel
        else "python3 -m pip install grader   # the grader, as your instructor says"
    )
    return (
        f"{kit['title']}: checking your work before you submit\n\n"
        "You have this folder and the starter file. Once (Python 3.10 or later):\n"
        f"    {install}\n"
        + ("    (torch 2.13.0 comes with it; the CPU build is enough)\n" if torch and wheel else "")
        + "Then, as often as you like:\n"
        f"    grader check {folder.name} path/to/your/{entry}\n"
        "(a folder, a .py file or a notebook). It runs the public cases only and never gives a\n"
        "grade: hidden cases decide at grading.\n"
        + (
            "Written answers (a .md, .tex or .txt write-up, or a notebook's markdown cells) are\n"
            "read too: check one the same way to see how each answer was read, and fix the\n"
            "notation of any answer it could not read surely. A PDF cannot be read.\n"
            if any("written" in part for q in kit["questions"] for part in q["parts"])
            else ""
        )
    )


def write_kit(
    kit: dict[str, Any],
    harness_source: str | None,
    folder: Path,
    *,
    wheel: bool = False,
    torch: bool = False,
) -> list[Path]:
    """The kit folder students are given: kit.yaml, the harness if any, and (with `wheel`) the
    grader's wheel and STUDENTS.txt saying how to install it and check their work."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / KIT_FILE]
    header = (
        f"# Student kit for {kit['title']}: check your work with\n"
        f"#   grader check {folder.name} path/to/your/{kit['submission']['entry']}\n"
        "# It holds public cases only; your grade also depends on hidden cases.\n"
    )
    write_bytes(written[0], (header + yaml.safe_dump(kit, sort_keys=False)).encode())
    if harness_source is not None:
        written.append(folder / HARNESS_FILE)
        write_bytes(written[1], harness_source.encode())
    built = build_grader_wheel(folder) if wheel else None
    if built is not None:
        written.append(built)
    written.append(folder / STUDENTS_FILE)
    instructions = student_instructions(kit, folder, built.name if built else None, torch)
    write_bytes(written[-1], instructions.encode())
    return written
