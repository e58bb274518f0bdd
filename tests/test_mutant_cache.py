"""The cross-process cache of lurking mutants (trusted.mutant_cache): a hit gives the mutants a
full screening finds, rebuilt by number; a corrupt, foreign or unwritable cache costs only the
screening, never a wrong mutant or a crash."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from grader.grading.engine import Attempt, Engine
from grader.rubric.budget import TimeBudget
from grader.rubric.model import AutoPart, load_rubric
from grader.trusted import line_budget, mutant_cache, mutation
from grader.trusted.cases import build_cases, part_rng
from grader.trusted.mutant_cache import CACHE_ENV
from grader.trusted.mutation import lurking_mutants, numbered_mutant, numbered_mutants
from grader.trusted.reference import ReferenceModule, load_reference

REPO = Path(__file__).resolve().parents[1]
LOADED = load_rubric(REPO / "rubrics" / "hw2.yaml")


def eta_star() -> tuple[int, int, AutoPart]:
    for q_index, question in enumerate(LOADED.rubric.questions):
        for p_index, part in enumerate(question.parts):
            if isinstance(part, AutoPart) and part.target == "eta_star":
                return q_index, p_index, part
    raise AssertionError("hw2 has no eta_star part")


def fresh_reference() -> ReferenceModule:
    """A newly loaded module: the in-process memo is per module, so this one asks the cache."""
    return load_reference(LOADED.reference_path)


def screened() -> list[tuple[str, tuple[int, int]]]:
    return [(m.label, m.number) for m in lurking_mutants(eta_star()[2], fresh_reference())]


def entries(folder: Path) -> list[Path]:
    return sorted((folder / "lurking").glob("*.json"))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_screening_is_stored_as_data_naming_each_mutant_by_number(cache: Path) -> None:
    found = screened()
    [entry] = entries(cache)
    stored = json.loads(entry.read_text())
    assert stored["key"] == entry.stem
    assert [(m["node"], m["choice"]) for m in stored["lurking"]] == [n for _, n in found]


def test_a_hit_rebuilds_the_same_mutants_without_screening(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = screened()
    monkeypatch.setattr(mutation, "numbered_mutants_of", lambda *_: iter(()))
    assert screened() == first and first


def test_rebuilt_mutants_answer_as_the_screened_ones_do(cache: Path) -> None:
    _, _, part = eta_star()
    screened_ones = lurking_mutants(part, fresh_reference())
    rebuilt = lurking_mutants(part, fresh_reference())
    rng = np.random.default_rng(7)
    for _ in range(5):
        case = {"X": rng.normal(size=(4, 3)), "t": rng.normal(size=4), "w0": rng.normal(size=3)}
        for a, b in zip(screened_ones, rebuilt, strict=True):
            assert np.array_equal(a.function(**case), b.function(**case))


def random_cases(q_index: int, p_index: int, part: AutoPart) -> list[dict[str, np.ndarray]]:
    reference = fresh_reference()
    assert part.function is not None
    drawn = []
    for seed in range(3):
        attempt = Attempt(LOADED, reference, None, None, seed, TimeBudget(600, 1))
        rng = part_rng(seed, q_index, p_index)
        cases = build_cases(part.function, reference, rng, blind=attempt.blind_to(part))
        drawn += [case.kwargs for case in cases if case.kind == "random"]
    return drawn


def test_cases_are_drawn_the_same_with_and_without_the_cache(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    q_index, p_index, part = eta_star()
    monkeypatch.setenv(CACHE_ENV, "")
    without = random_cases(q_index, p_index, part)
    monkeypatch.setenv(CACHE_ENV, str(cache))
    random_cases(q_index, p_index, part)  # fills the cache
    assert entries(cache)
    with_cache = random_cases(q_index, p_index, part)
    assert len(without) == len(with_cache)
    for a, b in zip(without, with_cache, strict=True):
        assert a.keys() == b.keys()
        assert all(np.array_equal(a[name], b[name]) for name in a)


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],
        lambda text: "\x00\xff not json",
        lambda text: json.dumps({**json.loads(text), "key": "0" * 64}),
        lambda text: json.dumps({**json.loads(text), "format": 99}),
        lambda text: json.dumps({**json.loads(text), "lurking": [{"where": 1}]}),
        lambda text: json.dumps([1, 2, 3]),
    ],
    ids=["truncated", "not json", "another key", "another format", "bad field", "not a dict"],
)
def test_a_damaged_entry_is_a_miss_and_is_rewritten(cache: Path, damage) -> None:
    first = screened()
    [entry] = entries(cache)
    entry.write_text(damage(entry.read_text()))
    assert screened() == first
    assert json.loads(entry.read_text())["key"] == entry.stem


def test_an_entry_naming_other_mutants_is_a_miss(cache: Path) -> None:
    first = screened()
    [entry] = entries(cache)
    stored = json.loads(entry.read_text())
    for mutant in stored["lurking"]:
        mutant["choice"] += 1  # another change of the same node, or none: not what was stored
    entry.write_text(json.dumps(stored))
    assert screened() == first


def test_a_folder_that_cannot_be_written_disables_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(CACHE_ENV, str(blocker))
    assert screened() == screened()
    assert blocker.read_text() == "not a folder"


def test_an_empty_setting_turns_the_cache_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    screened()
    assert not any(tmp_path.rglob("*.json"))


def test_the_default_folder_is_under_xdg_cache_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    screened()
    assert entries(tmp_path / "grader")


def test_a_changed_reference_module_is_a_miss(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    screened()
    changed = tmp_path / "hw2.py"
    changed.write_text(LOADED.reference_path.read_text() + "\n# changed\n")
    lurking_mutants(eta_star()[2], load_reference(changed))
    assert len(entries(cache)) == 2


def sample(X, t, n):
    """A docstring."""
    return 2.0 / n * X.T @ (X - t) + abs(n - 1)


def test_a_mutant_rebuilt_by_number_is_the_one_numbered() -> None:
    made = list(numbered_mutants(sample))
    assert made
    for number, change, source in made:
        assert numbered_mutant(sample, number) == (change, source)


@pytest.mark.parametrize("number", [(0, 0), (-1, 0), (10_000, 0), (12, 99), (12, -1)])
def test_a_number_naming_no_mutant_rebuilds_none(number: tuple[int, int]) -> None:
    numbered = {n for n, _, _ in numbered_mutants(sample)}
    assert number not in numbered
    assert numbered_mutant(sample, number) is None


def test_no_child_may_read_or_write_the_cache(cache: Path) -> None:
    protected = Engine(LOADED, fresh_reference()).protected
    folder = str(cache / "lurking")
    assert folder in protected.secret and folder in protected.outputs


def test_a_changed_course_file_beside_the_reference_changes_the_key(tmp_path: Path) -> None:
    reference = tmp_path / "reference.py"
    reference.write_text("import helper\n\n\ndef f(x):\n    return helper.shift(x)\n")
    (tmp_path / "helper.py").write_text("def shift(x):\n    return x + 100\n")
    before = mutant_cache.entry_key(reference, "{}")
    (tmp_path / "helper.py").write_text("def shift(x):\n    return x\n")
    mutant_cache._course_digest.cache_clear()
    assert mutant_cache.entry_key(reference, "{}") != before


def test_the_key_names_the_installed_version_of_each_library_the_course_imports(
    tmp_path: Path,
) -> None:
    course = tmp_path / "reference.py"
    course.write_text("import os, yaml,\nfrom numpy import linalg\nfrom . import local\n")
    versions = mutant_cache._imported_versions([course])
    assert versions == {"numpy": np.__version__, "yaml": yaml.__version__}


def test_a_reference_folder_with_too_many_files_is_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mutant_cache, "MAX_COURSE_FILES", 2)
    for name in ("reference.py", "a.py", "b.py"):
        (tmp_path / name).write_text("x = 1\n")
    assert mutant_cache.entry_key(tmp_path / "reference.py", "{}") is None


def test_a_screening_that_left_out_slow_mutants_is_stored_like_any_other(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(line_budget, "LINES_PER_REFERENCE_LINE", 0)
    monkeypatch.setattr(line_budget, "MIN_LINES", 0)  # every mutant runs over its budget
    assert screened() == []
    [entry] = entries(cache)
    assert json.loads(entry.read_text())["lurking"] == []
