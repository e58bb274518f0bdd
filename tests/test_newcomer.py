"""The steps a newcomer took when the tool was tried fresh (issue 16), each as a test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from batch_course import CORRECT, write_course, write_plain_folder

GRADER = Path(sys.executable).parent / "grader"


def grader(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(GRADER), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.mark.sandbox
def test_batch_runs_from_a_folder_holding_a_decoy_grader_package(tmp_path: Path) -> None:
    # Right after cloning the tool, the current directory holds a folder named `grader`.
    course = write_course(tmp_path / "course")
    source = write_plain_folder(tmp_path / "class", {"alice": CORRECT})
    decoy = tmp_path / "clone" / "grader"
    decoy.mkdir(parents=True)
    (decoy / "batch").mkdir()
    result = grader(
        "batch",
        course.rubric,
        source,
        "-o",
        tmp_path / "out",
        "--workers",
        "1",
        cwd=tmp_path / "clone",
    )
    assert result.returncode == 0, result.stderr
    assert "1 graded" in result.stdout
    assert "ImportError" not in result.stderr


GENERATOR_RUBRIC = """\
assignment: soft
title: softmax
total_points: 1
seed: 1
reference: soft_reference.py
submission: {entry: soft.py}
questions:
  - number: "1"
    title: softmax
    points: 1
    parts:
      - name: softmax
        points: 1
        target: softmax
        function:
          args: [x, scale]
          array_args: [x]
          reference: softmax
          random: {generator: draw, count: 3}
        check: {kind: array}
"""
GENERATOR_REFERENCE = """\
import numpy as np


def softmax(x, scale):
    e = np.exp(x - x.max())
    return e / e.sum()


def draw(rng):
    # Lists, as a newcomer writes them: x is declared an array.
    return {"x": rng.normal(size=4).tolist(), "scale": [1.0, 2.0]}
"""


def test_a_generator_returning_lists_gives_arrays_and_validate_names_the_rest(
    tmp_path: Path,
) -> None:
    import numpy as np

    from grader.rubric.model import load_rubric
    from grader.trusted.cases import build_cases
    from grader.trusted.reference import load_reference
    from grader.trusted.validate import mistake_warnings, validate

    (tmp_path / "soft.yaml").write_text(GENERATOR_RUBRIC)
    (tmp_path / "soft_reference.py").write_text(GENERATOR_REFERENCE)
    loaded = load_rubric(tmp_path / "soft.yaml")
    assert validate(loaded) == []
    spec = loaded.rubric.auto_parts()[0][1].function
    assert spec is not None
    cases = build_cases(spec, load_reference(loaded.reference_path), np.random.default_rng(3))
    assert len(cases) == 3
    assert all(isinstance(case.kwargs["x"], np.ndarray) for case in cases)
    assert all(case.kwargs["x"].dtype == np.float64 for case in cases)
    assert mistake_warnings(loaded) == []
    # Had x not been declared an array, validate says so (the reference fails on the list).
    (tmp_path / "soft.yaml").write_text(
        GENERATOR_RUBRIC.replace("array_args: [x]", "array_args: []")
    )
    warnings = mistake_warnings(load_rubric(tmp_path / "soft.yaml"))
    assert len(warnings) == 1
    assert "draws x as a list" in warnings[0] and "array_args" in warnings[0]


def _graded_with_neatness_pending():
    from grader.grading.results import GradeResult, PartResult, QuestionResult

    return GradeResult(
        assignment="hw2",
        title="HW2",
        questions=[
            QuestionResult("1", "Sum", "visible", [PartResult("x", 7.0, "passed", credit=1.0)]),
            QuestionResult("4", "Neatness", "visible", [PartResult("neat", 1.8, "pending")]),
        ],
        seed=1,
        rubric_sha256="r",
        submission_sha256="s",
        versions={},
        sandbox={},
    )


def test_a_question_graded_by_hand_is_never_passed_in_results_json(schema_validator) -> None:
    from grader.outputs.gradescope_json import to_gradescope

    results = to_gradescope(_graded_with_neatness_pending())
    schema_validator.validate(results)
    neatness = results["tests"][1]
    assert "status" not in neatness and "score" not in neatness
    assert neatness["name"] == "4 Neatness (graded by hand, pending)"
    assert "1.8 pt, graded by hand (pending)" in neatness["output"]
    assert results["tests"][0]["status"] == "passed"


def test_the_terminal_says_pending_where_a_score_would_be_and_what_the_total_is_out_of() -> None:
    import io

    from grader.outputs.safe_text import SafeConsole
    from grader.outputs.terminal import print_report

    out = io.StringIO()
    print_report(_graded_with_neatness_pending(), SafeConsole(file=out, width=200))
    text = out.getvalue()
    assert "pending: 1.8 by hand" in text and "0 / 0" not in text
    assert "Total: 7 / 7 auto-graded; 1.8 more points pending" in text
    assert "out of 8.8" in text


# --- friction 10: accidental inputs get what was expected and the command that would work --


def _tiny(tmp_path: Path) -> Path:
    return write_course(tmp_path / "course").rubric


def _cli(*args: str | Path):
    from click.testing import CliRunner

    from grader.cli import main

    return CliRunner().invoke(main, [str(a) for a in args])


def test_a_bare_answer_gets_a_did_you_mean(tmp_path: Path) -> None:
    from grader.errors import GraderInputError
    from grader.rubric.model import load_rubric

    rubric = _tiny(tmp_path)
    rubric.write_text(rubric.read_text().replace("answer: {value: 0.5}", "answer: 2.30"))
    with pytest.raises(GraderInputError) as raised:
        load_rubric(rubric)
    assert "questions[0].parts[0].answer" in str(raised.value)
    assert "did you mean `answer: {value: 2.3}`?" in str(raised.value)


def test_swapped_arguments_to_grade_are_named_with_the_command_that_works(tmp_path: Path) -> None:
    rubric = _tiny(tmp_path)
    student = tmp_path / "student"
    student.mkdir()
    (student / "answers.py").write_text(CORRECT)
    for first, second in ((student, rubric), (student / "answers.py", rubric)):
        result = _cli("grade", first, second)
        assert result.exit_code == 2
        assert "were the arguments swapped?" in result.output
        assert "grader grade RUBRIC SUBMISSION" in result.output
        assert "Traceback" not in result.output


def test_swapped_arguments_to_check_and_a_kit_given_as_rubric(tmp_path: Path) -> None:
    rubric = _tiny(tmp_path)
    kit = tmp_path / "kit"
    assert _cli("kit", rubric, "-o", kit).exit_code == 0
    student = tmp_path / "answers.py"
    student.write_text(CORRECT)
    result = _cli("check", student, kit)
    assert result.exit_code == 2
    assert f"grader check {kit} {student}" in result.output
    for given in (kit, kit / "kit.yaml"):
        result = _cli("grade", given, student)
        assert result.exit_code == 2
        assert "is a student kit, not a rubric" in result.output
        assert f"grader check {kit} SUBMISSION" in result.output


def test_kit_yaml_is_accepted_where_the_kit_folder_is(tmp_path: Path) -> None:
    from grader.frontends.kit_files import load_kit

    rubric = _tiny(tmp_path)
    assert _cli("kit", rubric, "-o", tmp_path / "kit").exit_code == 0
    assert load_kit(tmp_path / "kit" / "kit.yaml") == load_kit(tmp_path / "kit")


def test_a_reference_that_raises_stops_grade_as_it_stops_batch_naming_the_function(
    tmp_path: Path,
) -> None:
    from grader.batch.run import check_rubric
    from grader.errors import GraderInputError
    from grader.rubric.model import load_rubric

    rubric = _tiny(tmp_path)
    (rubric.parent / "tiny_reference.py").write_text("def square(x):\n    return 1 / 0\n")
    student = tmp_path / "answers.py"
    student.write_text(CORRECT)
    result = _cli("grade", rubric, student)
    assert result.exit_code == 2, result.output
    assert "running the reference square() failed: ZeroDivisionError" in result.output
    with pytest.raises(GraderInputError) as raised:
        check_rubric(load_rubric(rubric))
    assert "running the reference square() failed: ZeroDivisionError" in str(raised.value)


def test_make_test_says_before_it_adds_a_system_user() -> None:
    makefile = (Path(__file__).parents[1] / "Makefile").read_text()
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "temporary system" in recipe and "useradd" in recipe
    assert recipe.index("temporary system") < recipe.index("pytest")


# --- friction 5: a check mark means one thing -------------------------------------------------

REPO = Path(__file__).parents[1]
CROSS_CORRELATION = '''

def conv2d(image, kernel):  # the kernel is not flipped: a cross-correlation
    image = np.asarray(image, float)
    kernel = np.asarray(kernel, float)
    k = kernel.shape[0]
    padded = np.pad(image, k // 2)
    out = np.zeros_like(image)
    for i in range(image.shape[0]):
        for j in range(image.shape[1]):
            out[i, j] = np.sum(padded[i:i + k, j:j + k] * kernel)
    return out


def second_derivative_L1(X, t, w0):
    """Not done yet."""
    raise NotImplementedError
'''


@pytest.mark.sandbox
def test_check_marks_say_what_was_checked(tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    assert grader("kit", REPO / "rubrics/hw2.yaml", "-o", kit).returncode == 0
    student = tmp_path / "hw2.py"
    correct = (REPO / "submissions_example/hw2/correct/hw2.py").read_text()
    student.write_text(correct + CROSS_CORRELATION)
    done = grader("check", kit, student)
    lines = done.stdout.splitlines()

    def line_of(name: str) -> str:
        return next(line for line in lines if f" {name} " in f"{line} ")

    # An unimplemented function with no public case is not a tick.
    assert "✓" not in line_of("second derivative")
    assert "second_derivative_L1 is not implemented yet" in done.stdout
    # The cross-correlation passes the symmetric public kernel, and is told what that means.
    assert "the public cases cannot tell a common mistake from the right answer" in done.stdout
    # Constants only checked for form have their own mark.
    assert "○" in done.stdout and "✓ public cases pass" in done.stdout
    assert done.returncode == 1


# --- friction 8: an import that fails is explained once, where it failed ----------------------


@pytest.mark.sandbox
def test_a_syntax_error_shows_line_and_caret_once_in_check_and_grade(tmp_path: Path) -> None:
    rubric = _tiny(tmp_path)
    kit = tmp_path / "kit"
    assert grader("kit", rubric, "-o", kit).returncode == 0
    student = tmp_path / "answers.py"
    student.write_text("ANSWER = 0.5\n\ndef square(x):\n    return x * * x\n")
    checked = grader("check", kit, student)
    graded = grader("grade", rubric, student)
    for done in (checked, graded):
        assert "line 4" in done.stdout and "return x * * x" in done.stdout, done.stdout
        assert "^" in done.stdout
        assert done.stdout.count("SyntaxError") == 1, done.stdout
        assert "import failed" not in done.stdout
        assert "see the top" not in done.stdout


@pytest.mark.sandbox
def test_a_hung_import_names_the_line_it_was_running(tmp_path: Path) -> None:
    rubric = _tiny(tmp_path)
    student = tmp_path / "answers.py"
    student.write_text("ANSWER = 0.5\n\ndef train():\n    while True:\n        pass\n\ntrain()\n")
    graded = grader("grade", rubric, student)
    assert "took longer than 4 s; it was still running" in graded.stdout, graded.stdout
    assert "line 7, in <module>" in graded.stdout and "line 4, in train" in graded.stdout


# --- friction 3: what students install is the grader alone, torch only when the course needs it


def test_torch_is_an_optional_extra_pinned_wherever_it_is_installed() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert not any(d.startswith("torch") for d in project["dependencies"])
    extras = project["optional-dependencies"]
    assert extras["torch"] == ["torch==2.13.0"]
    assert "torch==2.13.0" in extras["test"]  # make demo and make test get torch
    assert "'.[test,torch]'" in (REPO / "Makefile").read_text()
    assert '"/tmp/grader-repo[torch]"' in (REPO / "Dockerfile").read_text()


def test_setup_sh_installs_torch_exactly_when_the_rubric_needs_it() -> None:
    from grader.frontends.autograder import bundle
    from grader.rubric.model import load_rubric

    hw2 = bundle(load_rubric(REPO / "rubrics/hw2.yaml"), None)["setup.sh"]
    midterm = bundle(load_rubric(REPO / "rubrics/midterm.yaml"), None)["setup.sh"]
    assert isinstance(hw2, str) and isinstance(midterm, str)
    assert '"$SOURCE/grader-src"' in hw2  # numpy only (submission.preload: [numpy])
    assert '"$SOURCE/grader-src[torch]"' in midterm


def test_the_grader_imports_torch_only_where_needed() -> None:
    # A numpy homework's student runs `grader check` without torch installed.
    code = (
        "import sys\n"
        "import grader.cli, grader.grading.selfcheck, grader.frontends.kit, grader.batch.run\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(("assignment", "torch"), [("hw2", False), ("midterm", True)])
def test_the_kit_says_what_students_install_and_run(
    tmp_path: Path, assignment: str, torch: bool
) -> None:
    kit = tmp_path / f"{assignment}-kit"
    done = _cli("kit", REPO / f"rubrics/{assignment}.yaml", "-o", kit)
    assert done.exit_code == 0, done.output
    wheel = kit / "grader-0.1.0-py3-none-any.whl"
    assert wheel.is_file()
    students = (kit / "STUDENTS.txt").read_text()
    extra = "[torch]" if torch else ""
    assert f'python3 -m pip install "{assignment}-kit/{wheel.name}{extra}"' in students
    assert f"grader check {assignment}-kit path/to/your/{assignment}.py" in students
    # The starter file names a command students can run with what they were handed.
    starter = (REPO / f"submissions_example/{assignment}/starter/{assignment}.py").read_text()
    assert f"grader check {assignment}-kit {assignment}.py" in starter
    assert "rubrics/" not in starter
