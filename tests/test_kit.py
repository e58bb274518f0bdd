"""Student kits and `grader check`: public cases only, nothing hidden shipped, honest reports."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from grader.rubric.model import AutoPart, load_rubric
from grader.trusted.cases import build_cases, positional
from grader.trusted.reference import load_reference

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).parents[1]
GRADER = str(Path(sys.executable).parent / "grader")
ASSIGNMENTS = ("hw2", "midterm")
FORBIDDEN_KEYS = {
    "answer",
    "mistakes",
    "alternatives",
    "hidden",
    "random",
    "generator",
    "reference",
    "predicate",
    "feedback",
    "uses",
}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [GRADER, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.fixture(scope="module")
def kits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    built = {}
    for assignment in ASSIGNMENTS:
        folder = tmp_path_factory.mktemp("kit") / assignment
        done = run("kit", REPO / "rubrics" / f"{assignment}.yaml", "-o", folder)
        assert done.returncode == 0, done.stderr
        built[assignment] = folder
    return built


def kit_texts(folder: Path) -> list[tuple[str, str]]:
    """Every course-derived file students get, as text. The grader's wheel is checked apart:
    it is the grader's own source, byte for byte (see the test below)."""
    return [(p.name, p.read_text()) for p in sorted(folder.rglob("*")) if p.suffix != ".whl"]


def renderings(number: float) -> set[str]:
    """How a distinctive number could appear in a file; trivial ones (0, 1, 0.5) are skipped
    because they occur everywhere (points, timeouts)."""
    if not np.isfinite(number):
        return set()
    forms = {repr(number), f"{number:.6g}", f"{number:.4g}"}
    if float(number).is_integer():
        forms.add(str(int(number)))
    return {form for form in forms if len(form.lstrip("-").replace(".", "")) >= 3}


def numbers_in(value: Any) -> list[float]:
    try:
        return [float(x) for x in np.ravel(np.asarray(value, dtype=float))]
    except (TypeError, ValueError):
        return []


def secrets_of(assignment: str) -> set[str]:
    """Renderings of every constant's answer and every hidden case's input and output."""
    loaded = load_rubric(REPO / "rubrics" / f"{assignment}.yaml")
    reference = load_reference(loaded.reference_path)
    found: set[str] = set()
    for _, part in loaded.rubric.auto_parts():
        if part.answer is not None:
            answer = (
                part.answer.value
                if part.answer.reference is None
                else reference.function(part.answer.reference, field="answer")()
            )
            if isinstance(answer, str) and len(answer) >= 6:
                found.add(answer)
            for number in numbers_in(answer):
                found |= renderings(number)
        spec = part.function
        if spec is None:
            continue
        cases = build_cases(spec, reference, np.random.default_rng(7))
        for case in cases:
            if case.reveal:
                continue
            for value in case.kwargs.values():
                for number in numbers_in(value):
                    found |= renderings(number)
            if spec.reference is not None:
                function = reference.function(spec.reference, field="reference")
                for number in numbers_in(function(*positional(spec, case))):
                    found |= renderings(number)
    return found


def public_numbers(assignment: str) -> set[str]:
    """Renderings that legitimately appear: public cases' inputs and outputs, and points."""
    loaded = load_rubric(REPO / "rubrics" / f"{assignment}.yaml")
    reference = load_reference(loaded.reference_path)
    allowed: set[str] = set()
    for _, part in loaded.rubric.auto_parts():
        spec = part.function
        if spec is None:
            continue
        for case in build_cases(spec, reference, np.random.default_rng(0), public_only=True):
            values = list(case.kwargs.values())
            if spec.reference is not None:
                values.append(
                    reference.function(spec.reference, field="r")(*positional(spec, case))
                )
            values += [
                reference.function(a.reference, field="a")(**case.kwargs)
                for a in part.alternatives
                if a.reference and not a.uses
            ]
            for value in values:
                for number in numbers_in(value):
                    allowed |= renderings(number)
    return allowed


NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def configuration_numbers(kit: Any, inside_case: bool = False) -> set[str]:
    """Numbers of the kit outside public cases (limits, points, tolerances, answer shapes):
    not secrets, whatever value they happen to share with one."""
    found: set[str] = set()
    if isinstance(kit, dict):
        for key, value in kit.items():
            found |= configuration_numbers(value, inside_case or key == "public")
    elif isinstance(kit, list):
        for value in kit:
            found |= configuration_numbers(value, inside_case)
    elif isinstance(kit, (int, float)) and not isinstance(kit, bool) and not inside_case:
        found |= renderings(float(kit))
    return found


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_hidden_value_or_input_appears_in_any_kit_file(kits, assignment):
    kit = yaml.safe_load((kits[assignment] / "kit.yaml").read_text())
    secrets = secrets_of(assignment) - public_numbers(assignment) - configuration_numbers(kit)
    assert len(secrets) > 20  # there is something to look for
    for path, text in kit_texts(kits[assignment]):
        tokens = set(NUMBER.findall(text))
        leaked = sorted(
            s for s in secrets if s in tokens or (not NUMBER.fullmatch(s) and s in text)
        )
        assert not leaked, f"{path} contains {leaked[:10]}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_kit_has_no_answers_mistakes_or_hidden_cases_at_all(kits, assignment):
    kit = yaml.safe_load((kits[assignment] / "kit.yaml").read_text())

    def keys(node: Any) -> set[str]:
        if isinstance(node, dict):
            return set(node) | set().union(*(keys(v) for v in node.values()))
        if isinstance(node, list):
            return set().union(*(keys(v) for v in node)) if node else set()
        return set()

    assert not keys(kit) & FORBIDDEN_KEYS
    assert {p.name for p in kits[assignment].iterdir()} <= {
        "kit.yaml",
        "harness.py",
        "STUDENTS.txt",
        "grader-0.1.0-py3-none-any.whl",
    }
    with zipfile.ZipFile(kits[assignment] / "grader-0.1.0-py3-none-any.whl") as wheel:
        # The grader's package and its metadata: no rubric, reference or example, in any folder.
        names = wheel.namelist()
        assert all(n.startswith(("grader/", "grader-0.1.0.dist-info/")) for n in names)
        for name in names:
            if name.startswith("grader/"):
                assert wheel.read(name) == (REPO / name).read_bytes(), name


def test_the_kit_lists_exactly_the_rubrics_public_cases(kits):
    kit = yaml.safe_load((kits["hw2"] / "kit.yaml").read_text())
    rubric = load_rubric(REPO / "rubrics" / "hw2.yaml").rubric
    listed = {
        part["target"]: [case["args"] for case in part["function"]["public"]]
        for question in kit["questions"]
        for part in question["parts"]
        if part["kind"] == "function"
    }
    for _, part in rubric.auto_parts():
        if isinstance(part, AutoPart) and part.function is not None:
            assert listed[part.target] == [dict(c) for c in part.function.public]


def test_check_passes_the_correct_example_and_exits_zero(kits):
    done = run("check", kits["hw2"], REPO / "submissions_example/hw2/correct")
    assert done.returncode == 0, done.stdout
    assert "every public check passes" in done.stdout and "This is not your grade" in done.stdout


def test_check_on_the_starter_says_not_implemented_and_exits_one(kits):
    done = run("check", kits["hw2"], REPO / "submissions_example/hw2/starter")
    assert done.returncode == 1
    assert "eta_star is not implemented yet" in done.stdout
    assert "MINIBATCH_FINDS_MIN_NORM is still None" in done.stdout


def test_check_on_mistakes_shows_what_is_wrong_in_public_cases(kits):
    done = run("check", kits["hw2"], REPO / "submissions_example/hw2/mistakes")
    assert done.returncode == 1
    assert "I_CONV_J should have shape 5x5, but it has 3x3" in done.stdout
    assert "Expected 0.1, got 0.2" in done.stdout  # eta* without n/2: no convention was used


def test_check_accepts_a_convention_used_consistently(kits):
    done = run("check", kits["hw2"], REPO / "submissions_example/hw2/convention")
    assert done.returncode == 0 and "official solution's convention" in done.stdout


def test_check_tells_when_the_grader_cannot_read_a_complexity(kits, tmp_path):
    source = (REPO / "submissions_example/hw2/correct/hw2.py").read_text()
    (tmp_path / "hw2.py").write_text(source + '\nFORWARD_MEMORY = "it is fast"\n')
    done = run("check", kits["hw2"], tmp_path)
    assert done.returncode == 1 and "the grader cannot read 'it is fast'" in done.stdout


def test_check_never_prints_a_score(kits):
    done = run("check", kits["hw2"], REPO / "submissions_example/hw2/correct")
    assert "Total" not in done.stdout and "/ 7" not in done.stdout


def test_check_runs_harness_parts_from_the_kit(kits):
    done = run("check", kits["midterm"], REPO / "submissions_example/midterm/correct")
    assert done.returncode == 0, done.stdout
    done = run("check", kits["midterm"], REPO / "submissions_example/midterm/mistakes")
    assert done.returncode == 1


def test_check_against_the_rubric_itself_matches_the_kit(kits):
    from_kit = run("check", kits["hw2"], REPO / "submissions_example/hw2/mistakes")
    from_rubric = run("check", REPO / "rubrics/hw2.yaml", REPO / "submissions_example/hw2/mistakes")
    assert from_kit.stdout == from_rubric.stdout and from_kit.returncode == 1


def test_a_damaged_kit_is_refused_with_a_clear_message(kits, tmp_path):
    (tmp_path / "kit.yaml").write_text("kit: 1\nquestions: [\n")
    done = run("check", tmp_path, REPO / "submissions_example/hw2/correct")
    assert done.returncode == 2 and "not a readable kit" in done.stderr


def test_check_works_without_namespaces_and_without_root(kits, monkeypatch):
    monkeypatch.setenv("GRADER_SANDBOX_DISABLE", "namespaces,uid")
    done = run("check", kits["hw2"], REPO / "submissions_example/hw2/correct")
    assert done.returncode == 0


def as_notebook(source: Path, folder: Path) -> Path:
    """The example's code as a notebook, one cell per top-level block, with a markdown cell
    and an IPython magic the grader must skip."""
    blocks = [block for block in source.read_text().split("\n\n\n") if block.strip()]
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Homework 2\n"]},
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": ["%matplotlib inline\n"],
        },
    ]
    cells += [
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": block.splitlines(keepends=True),
        }
        for block in blocks
    ]
    folder.mkdir(parents=True, exist_ok=True)
    notebook = folder / "hw2.ipynb"
    notebook.write_text(
        json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells})
    )
    return notebook


@pytest.mark.parametrize(
    ("example", "exit_code", "expected"),
    [
        ("correct", 0, "every public check passes"),
        ("starter", 1, "eta_star is not implemented yet"),
        ("mistakes", 1, "I_CONV_J should have shape 5x5, but it has 3x3"),
    ],
)
def test_check_reports_the_same_on_a_notebook(kits, tmp_path, example, exit_code, expected):
    notebook = as_notebook(REPO / "submissions_example/hw2" / example / "hw2.py", tmp_path)
    done = run("check", kits["hw2"], notebook)
    assert done.returncode == exit_code, done.stdout
    assert expected in done.stdout and "%matplotlib" in done.stdout
