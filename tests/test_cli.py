"""The command line: exit codes and messages for the people who type these commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).parents[1]
GRADER = str(Path(sys.executable).parent / "grader")
HW2 = REPO / "rubrics" / "hw2.yaml"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([GRADER, *args], capture_output=True, text=True, timeout=120)


def test_validate_accepts_the_hw2_rubric():
    done = run("validate", str(HW2))
    assert done.returncode == 0 and "valid (15 questions" in done.stdout


def test_validate_rejects_a_broken_rubric_naming_file_and_field(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(HW2.read_text().replace("rtol: 1e-3, atol: 1e-3", "rtol: -1, atol: 1e-3"))
    done = run("validate", str(broken))
    assert done.returncode == 2
    assert "broken.yaml" in done.stderr and "questions[2].parts[1].check.rtol" in done.stderr


def test_validate_reports_a_reference_function_that_does_not_exist(tmp_path):
    broken = tmp_path / "hw2.yaml"
    text = HW2.read_text().replace("../reference/", f"{REPO / 'reference'}/")
    assert "{reference: total_params}" in text
    broken.write_text(text.replace("{reference: total_params}", "{reference: total_parms}"))
    done = run("validate", str(broken))
    assert done.returncode == 2
    assert "has no function 'total_parms'" in done.stderr
    assert "questions[12].parts[1].answer.reference" in done.stderr


def test_validate_reports_a_generator_that_fails(tmp_path):
    reference = tmp_path / "ref.py"
    reference.write_text("def f(x):\n    return x\n\ndef cases(rng):\n    return {'y': 1}\n")
    rubric = tmp_path / "r.yaml"
    rubric.write_text(
        "assignment: a\ntitle: A\ntotal_points: 1\nseed: 0\nreference: ref.py\n"
        "submission: {entry: a.py}\nquestions:\n- number: '1'\n  title: T\n  points: 1\n"
        "  parts:\n  - name: f\n    points: 1\n    target: f\n    check: {kind: numeric}\n"
        "    function: {args: [x], reference: f, random: {generator: cases, count: 2}}\n"
    )
    done = run("validate", str(rubric))
    assert done.returncode == 2 and "returned a case without ['x']" in done.stderr


def test_answers_prints_canonical_answers_for_tas():
    done = run("answers", str(HW2))
    assert done.returncode == 0
    assert "52444644" in done.stdout and "0.1" in done.stdout and "O(t)" in done.stdout


def test_grade_with_a_broken_rubric_exits_nonzero_and_leaves_a_valid_results_file(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("assignment: [\n")
    out = tmp_path / "results.json"
    done = run("grade", str(broken), str(REPO / "submissions_example/hw2/correct"), "-o", str(out))
    assert done.returncode == 2 and "not valid YAML" in done.stderr
    assert json.loads(out.read_text())["score"] == 0.0


def test_grade_quiet_prints_only_the_total():
    done = run("grade", str(HW2), str(REPO / "submissions_example/hw2/correct"), "--quiet")
    assert done.returncode == 0 and done.stdout.strip() == "7 / 7"


@pytest.mark.skipif(
    sys.platform != "linux" or os.geteuid() != 0, reason="the sandbox uid is used as root only"
)
def test_an_unusable_sandbox_uid_is_a_named_input_error_not_an_internal_one(
    run_grader, hw2_rubric, examples_dir, tmp_path, monkeypatch
):
    monkeypatch.setenv("GRADER_SANDBOX_UID", "0")  # root's: "every process of the uid" is all
    output = tmp_path / "results.json"
    process = run_grader("grade", hw2_rubric, examples_dir / "correct", "-o", output)
    assert process.returncode == 2
    assert "GRADER_SANDBOX_UID must be" in process.stderr and "Traceback" not in process.stderr
    assert json.loads(output.read_text())["output"].startswith("Not graded: GRADER_SANDBOX_UID")
