"""How commands start: `grader --help` loads click and little else, and the commands that grade
start their zygote before they import the grading stack, so that the zygote's imports (2 to 3 s
with torch) run on another core while the trusted process imports and validates."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml

from grader.rubric.files import read_rubric
from grader.rubric.model import load_rubric
from grader.submission.asked import sheet_parts
from grader.submission.locate import locate
from grader.submission.preload import decided_by_harness, preload_for, rubric_preload

REPO = Path(__file__).parents[1]
MIDTERM = REPO / "rubrics" / "midterm.yaml"
HW2 = REPO / "rubrics" / "hw2.yaml"
GRADING_STACK = ("numpy", "torch", "grader.grading.engine", "grader.trusted.validate")

PROBE = """
import json, os, sys

def stop_at_the_preload_list(event, args):
    if event == "subprocess.Popen" and "zygote_main" in str(args[1]):
        print("loaded:", json.dumps(sorted(sys.modules)), flush=True)
    elif event == "socket.sendmsg":
        print("loaded:", json.dumps(sorted(sys.modules)), flush=True)
        os._exit(0)

sys.addaudithook(stop_at_the_preload_list)
sys.argv = ["grader", *sys.argv[1:]]
from grader.cli import main
main()
"""
"""Runs a command up to the moment it sends its zygote the preload list (its first message to
the zygote), and prints the modules loaded when it spawned the zygote and when it sent the
list; the process ends there."""


class Loaded(NamedTuple):
    at_spawn: set[str]
    at_preload_list: set[str]


def loaded_at_zygote_start(*args: str | Path) -> Loaded:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("loaded: ")]
    spawn, preload_list = (set(json.loads(line.removeprefix("loaded: "))) for line in lines)
    return Loaded(spawn, preload_list)


def test_importing_the_command_line_loads_neither_numpy_nor_torch_nor_the_engine():
    listing = "import json, sys, grader.cli; print(json.dumps(list(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", listing],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = set(json.loads(done.stdout))
    assert not loaded & {*GRADING_STACK, "grader.rubric.model", "pydantic", "rich"}


def test_the_midterms_harness_decides_its_zygotes_preload_before_any_submission_is_located():
    early = rubric_preload(read_rubric(MIDTERM))
    loaded = load_rubric(MIDTERM)
    for example in ("correct", "starter", "mistakes"):
        folder = REPO / "submissions_example" / "midterm" / example
        located = locate(folder, loaded.rubric.submission, sheet_parts(loaded.rubric))
        assert early == preload_for(loaded, located) == ["numpy", "torch"]


def test_without_a_harness_the_submission_decides_the_preload():
    assert rubric_preload(read_rubric(HW2)) is None


def test_a_harness_missing_one_preloaded_library_leaves_the_decision_to_the_submission():
    assert decided_by_harness(["numpy", "torch"], "import numpy as np\n") is None
    assert decided_by_harness(["numpy"], "import numpy as np\n") == ["numpy"]


def test_a_rubric_whose_file_fields_are_invalid_starts_no_zygote_early(tmp_path):
    rubric = tmp_path / "rubric.yaml"
    data = yaml.safe_load(MIDTERM.read_text())
    data["submission"]["preload"] = ["not a module"]
    rubric.write_text(yaml.safe_dump(data))
    assert rubric_preload(read_rubric(rubric)) is None


@pytest.mark.sandbox
def test_grade_spawns_its_zygote_before_reading_the_rubric():
    loaded = loaded_at_zygote_start(
        "grade", MIDTERM, REPO / "submissions_example" / "midterm" / "correct"
    )
    assert not loaded.at_spawn & {*GRADING_STACK, "pydantic", "yaml", "grader.rubric.files"}


@pytest.mark.sandbox
def test_grade_gives_its_zygote_the_preload_before_importing_numpy_when_the_harness_decides():
    loaded = loaded_at_zygote_start(
        "grade", MIDTERM, REPO / "submissions_example" / "midterm" / "correct"
    )
    assert not loaded.at_preload_list & {*GRADING_STACK, "grader.rubric.model"}


@pytest.mark.sandbox
def test_grade_gives_its_zygote_the_preload_before_the_engine_when_the_submission_decides():
    loaded = loaded_at_zygote_start("grade", HW2, REPO / "submissions_example" / "hw2" / "correct")
    assert "grader.rubric.model" in loaded.at_preload_list  # the submission is located first
    assert not loaded.at_preload_list & {
        "torch",
        "grader.grading.engine",
        "grader.trusted.validate",
    }


@pytest.mark.sandbox
def test_check_against_the_rubric_gives_its_zygote_the_preload_before_importing_numpy():
    loaded = loaded_at_zygote_start(
        "check", MIDTERM, REPO / "submissions_example" / "midterm" / "correct"
    )
    assert not loaded.at_spawn & {"pydantic", "yaml"}
    assert not loaded.at_preload_list & {*GRADING_STACK, "grader.rubric.model"}


@pytest.mark.sandbox
def test_check_against_a_kit_gives_its_zygote_the_preload_before_importing_numpy(tmp_path):
    kit = tmp_path / "kit"
    kit.mkdir()
    submission = yaml.safe_load(MIDTERM.read_text())["submission"]
    (kit / "kit.yaml").write_text(yaml.safe_dump({"kit": 1, "submission": submission}))
    shutil.copy(REPO / "reference" / "midterm_harness.py", kit / "harness.py")
    loaded = loaded_at_zygote_start("check", kit, REPO / "submissions_example/midterm/correct")
    assert not loaded.at_spawn & {"pydantic", "yaml"}
    assert not loaded.at_preload_list & {*GRADING_STACK, "grader.rubric.model"}


@pytest.mark.sandbox
def test_the_gradescope_entry_point_gives_its_zygote_the_preload_before_importing_numpy(tmp_path):
    shutil.copytree(REPO / "submissions_example/midterm/correct", tmp_path / "submission")
    loaded = loaded_at_zygote_start("gradescope", MIDTERM, "--root", tmp_path)
    assert not loaded.at_spawn & {"pydantic", "yaml"}
    assert not loaded.at_preload_list & {*GRADING_STACK, "grader.rubric.model"}


@pytest.mark.sandbox
def test_gradescope_gives_its_zygote_the_preload_before_the_engine_when_the_submission_decides(
    tmp_path,
):
    shutil.copytree(REPO / "submissions_example/hw2/correct", tmp_path / "submission")
    loaded = loaded_at_zygote_start("gradescope", HW2, "--root", tmp_path)
    assert not loaded.at_preload_list & {
        "torch",
        "grader.grading.engine",
        "grader.trusted.reference",
    }
