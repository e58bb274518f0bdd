"""Submissions as Jupyter notebooks (hw2.ipynb) and data-only answers files (hw2.yaml).

What a student hands in is graded through the real `grader grade` CLI; the two converters
(grader/submission/notebook.py, grader/submission/answers_file.py) have unit tests of their
own. Expected scores are
derived from rubrics/hw2.yaml, never copied from a grader run.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from grader.rubric.files import SubmissionFiles
from grader.submission.formats.answers_file import AnswersFileError, convert_answers
from grader.submission.formats.notebook import (
    MAX_JSON_CONTAINERS,
    NotebookError,
    code_cells,
    convert_notebook,
    strip_ipython,
)
from grader.submission.locate import locate, missing_entry_message, stage

pytestmark = pytest.mark.sandbox

SPEC = SubmissionFiles(entry="hw2.py", also=["*.py"])
AUTO_MAX = 7.0  # hw2's auto-graded points (see tests/test_examples_hw2.py for the sum)
FULL_NOTEBOOK = "notebook"
ANSWERS_EXAMPLE = "answers_yaml"


# --- helpers -------------------------------------------------------------------------------


def notebook_json(*cells: str | tuple[str, str], nbformat: int = 4) -> str:
    """A notebook: plain strings are code cells, ("markdown", text) other kinds of cell."""
    built = []
    for cell in cells:
        kind, source = cell if isinstance(cell, tuple) else ("code", cell)
        entry: dict[str, Any] = {
            "cell_type": kind,
            "metadata": {},
            "source": source.splitlines(keepends=True),
        }
        if kind == "code":
            entry |= {"execution_count": None, "outputs": []}
        built.append(entry)
    return json.dumps(
        {"cells": built, "metadata": {}, "nbformat": nbformat, "nbformat_minor": 5}, indent=1
    )


def write_submission(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if isinstance(content, bytes):
            (folder / name).write_bytes(content)
        else:
            (folder / name).write_text(content, encoding="utf-8")
    return folder


def by_number(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {test["number"]: test for test in results["tests"]}


def constant_points(hw2_yaml: dict[str, Any]) -> float:
    """Points of every auto part whose target is a constant (no `function:`), from the rubric."""
    return sum(
        p["points"]
        for q in hw2_yaml["questions"]
        for p in q["parts"]
        if "manual" not in p and "function" not in p
    )


def assert_schema_valid(results: dict[str, Any], schema_validator: Any) -> None:
    errors = sorted(schema_validator.iter_errors(results), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def assert_nothing_graded(results: dict[str, Any]) -> None:
    assert results["score"] == 0
    for test in results["tests"]:
        assert test.get("score", 0) == 0, test["name"]
        if test["number"] != "N":  # neatness is graded by hand only
            assert "not graded" in test["output"], test


@pytest.fixture(scope="module")
def graded_notebook(
    examples_dir: Path, hw2_rubric: Path, tmp_path_factory: pytest.TempPathFactory, timed_grade: Any
) -> Any:
    """submissions_example/hw2/notebook graded once for the tests that look at it."""
    return timed_grade(
        hw2_rubric, examples_dir / FULL_NOTEBOOK, tmp_path_factory.mktemp("graded-notebook")
    )


CORRECT_MIN_NORM = """\
import numpy as np


def min_norm_solution(X, t):
    X = np.asarray(X, dtype=float)
    %time X.T @ X
    return X.T @ np.linalg.solve(X @ X.T, np.asarray(t, dtype=float))
"""


# --- the notebook example, through the CLI -------------------------------------------------


def test_the_notebook_example_gets_full_marks(graded_notebook, schema_validator) -> None:
    results = graded_notebook.results
    assert results["score"] == pytest.approx(AUTO_MAX)
    for test in results["tests"]:
        assert test.get("score", 0) == pytest.approx(test.get("max_score", 0)), test
    assert_schema_valid(results, schema_validator)


def test_magics_and_shell_lines_are_skipped_with_notes_naming_cell_and_line(
    graded_notebook,
) -> None:
    output = graded_notebook.results["output"]
    # cell 2 of the example holds `!pip install numpy` then `%matplotlib inline`; cell 13 is
    # the %%timeit cell
    assert "cell 2, line 1: !pip install numpy" in output, output
    assert "cell 2, line 2: %matplotlib inline" in output, output
    assert "cell 13: the whole %%timeit cell" in output, output
    assert "hw2.ipynb was graded as hw2.py" in output
    assert "%matplotlib" in graded_notebook.process.stdout  # the terminal report shows them too


def test_an_invalid_json_notebook_is_explained_and_grading_completes(
    tmp_path, grade_json, hw2_rubric, schema_validator
) -> None:
    broken = '{\n "nbformat": 4,\n "cells": [\n  {"cell_type": "code" "source": "x"}\n ]\n}\n'
    folder = write_submission(tmp_path / "student", {"hw2.ipynb": broken})
    results, process = grade_json(hw2_rubric, folder, tmp_path)  # asserts exit code 0
    assert (
        "hw2.ipynb is not a valid notebook: line 4, column 24: Expecting ',' delimiter"
        in results["output"]
    ), results["output"]
    assert_nothing_graded(results)
    assert_schema_valid(results, schema_validator)
    assert "Traceback" not in process.stdout + process.stderr


def test_json_that_is_not_a_notebook_is_explained(
    tmp_path, grade_json, hw2_rubric, schema_validator
) -> None:
    folder = write_submission(
        tmp_path / "student", {"hw2.ipynb": json.dumps({"answers": [1, 2, 3]})}
    )
    results, _ = grade_json(hw2_rubric, folder, tmp_path)
    assert "hw2.ipynb is not a valid notebook" in results["output"]
    assert 'no "nbformat" version' in results["output"], results["output"]
    assert_nothing_graded(results)
    assert_schema_valid(results, schema_validator)


def test_a_25_mb_notebook_is_refused_quickly(
    tmp_path, timed_grade, hw2_rubric, schema_validator
) -> None:
    folder = tmp_path / "student"
    folder.mkdir()
    with (folder / "hw2.ipynb").open("wb") as file:
        file.write(notebook_json("X = 1\n").encode())
        file.write(b" " * ((25 << 20) - file.tell()))  # valid JSON, padded to 25 MB
    graded = timed_grade(hw2_rubric, folder, tmp_path)
    assert "hw2.ipynb is 25.0 MB, more than the 20 MB" in graded.results["output"]
    assert_nothing_graded(graded.results)
    assert_schema_valid(graded.results, schema_validator)
    assert graded.seconds < 10, graded.seconds  # the whole CLI run: about a second


def test_an_indented_magic_inside_a_function_still_grades(tmp_path, grade_json, hw2_rubric) -> None:
    folder = write_submission(tmp_path / "student", {"hw2.ipynb": notebook_json(CORRECT_MIN_NORM)})
    results, _ = grade_json(hw2_rubric, folder, tmp_path)
    closed_form = by_number(results)["1.1.1"]["extra_data"]["parts"][0]
    assert closed_form["status"] == "passed", by_number(results)["1.1.1"]["output"]
    assert "cell 1, line 6: %time X.T @ X" in results["output"], results["output"]


def test_a_cell_that_raises_costs_only_that_cell_like_run_all(
    tmp_path, grade_json, hw2_rubric, examples_dir
) -> None:
    # A stale scratch cell that raises: "Run All" records it and runs the cells after it.
    correct = (examples_dir / "correct" / "hw2.py").read_text()
    notebook = notebook_json(
        "import numpy as np\n",
        ("markdown", "# Data\n"),
        "X = 1\nDATA = np.loadtxt('my_local_data.csv')\n",
        correct,
    )
    folder = write_submission(tmp_path / "student", {"hw2.ipynb": notebook})
    results, _ = grade_json(hw2_rubric, folder, tmp_path)
    output = results["output"]
    assert results["score"] == pytest.approx(AUTO_MAX), output
    assert "could not be imported" not in output and "Your hw2.py" not in output
    assert output.count("FileNotFoundError") == 1, output
    assert "In your hw2.ipynb, some cells raised an error" in output
    assert "cell 3 raised FileNotFoundError" in output
    assert 'File "hw2.ipynb, cell 3", line 2, in <module>' in output, output
    assert "DATA = np.loadtxt('my_local_data.csv')" in output
    assert "_grader_run_cells" not in output and "run(code, namespace)" not in output


def test_a_notebook_that_is_not_utf8_is_explained(
    tmp_path, grade_json, hw2_rubric, schema_validator
) -> None:
    data = notebook_json("NAME = 'cafe'\n").encode().replace(b"cafe", b"caf\xe9")  # Latin-1
    folder = write_submission(tmp_path / "student", {"hw2.ipynb": data})
    results, _ = grade_json(hw2_rubric, folder, tmp_path)
    assert "hw2.ipynb is not a valid notebook: it is not UTF-8 text" in results["output"]
    assert "0xe9" in results["output"]
    assert_nothing_graded(results)
    assert_schema_valid(results, schema_validator)


def test_a_py_file_that_is_not_utf8_is_explained(
    tmp_path, grade_json, hw2_rubric, schema_validator
) -> None:
    source = "X = 1\nNAME = 'caf\xe9'\n".encode("latin-1")
    folder = write_submission(tmp_path / "student", {"hw2.py": source})
    results, _ = grade_json(hw2_rubric, folder, tmp_path)
    output = results["output"]
    assert "hw2.py is not valid UTF-8 text: line 2, column 12 has the byte 0xe9" in output
    assert "coding: latin-1" in output  # how to fix it
    assert "SyntaxError" in output  # what Python said when the sandbox imported it
    assert_schema_valid(results, schema_validator)


# --- answers files, through the CLI --------------------------------------------------------


def test_the_answers_file_example_scores_exactly_the_constant_parts(
    examples_dir, hw2_rubric, hw2_yaml, grade_json, tmp_path, schema_validator
) -> None:
    results, _ = grade_json(hw2_rubric, examples_dir / ANSWERS_EXAMPLE, tmp_path)
    expected = constant_points(hw2_yaml)
    assert expected == pytest.approx(4.0)  # 1 + 0.25 + 0.25 + 0.5 + 0.25 + 0.5 + 0.25 + 0.75 + 0.25
    assert results["score"] == pytest.approx(expected)
    assert "min_norm_solution is not defined" in by_number(results)["1.1.1"]["output"]
    assert_schema_valid(results, schema_validator)


def test_an_answers_file_with_a_key_that_is_not_a_name_is_explained(
    tmp_path, grade_json, hw2_rubric, schema_validator
) -> None:
    folder = write_submission(
        tmp_path / "student", {"hw2.yaml": "TOTAL_PARAMS: 52444644\ntotal params: 3\n"}
    )
    results, _ = grade_json(hw2_rubric, folder, tmp_path)
    assert "hw2.yaml: 'total params' is not a valid name" in results["output"]
    assert_nothing_graded(results)
    assert_schema_valid(results, schema_validator)


# --- precedence, through the CLI ------------------------------------------------------------


def test_a_py_file_comes_before_a_notebook_and_an_answers_file(
    tmp_path, grade_json, hw2_rubric, examples_dir
) -> None:
    folder = tmp_path / "student"
    folder.mkdir()
    shutil.copyfile(examples_dir / "starter" / "hw2.py", folder / "hw2.py")
    shutil.copyfile(examples_dir / FULL_NOTEBOOK / "hw2.ipynb", folder / "hw2.ipynb")
    shutil.copyfile(examples_dir / ANSWERS_EXAMPLE / "hw2.yaml", folder / "hw2.yaml")
    results, _ = grade_json(hw2_rubric, folder, tmp_path)
    assert results["score"] == 0  # the starter was graded, not the full-marks notebook
    assert (
        "graded hw2.py; also found hw2.ipynb, hw2.yaml, which were not graded" in results["output"]
    ), results["output"]


def test_a_notebook_comes_before_an_answers_file(
    tmp_path, grade_json, hw2_rubric, examples_dir
) -> None:
    folder = tmp_path / "student"
    folder.mkdir()
    shutil.copyfile(examples_dir / FULL_NOTEBOOK / "hw2.ipynb", folder / "hw2.ipynb")
    shutil.copyfile(examples_dir / ANSWERS_EXAMPLE / "hw2.yaml", folder / "hw2.yml")
    results, _ = grade_json(hw2_rubric, folder, tmp_path)
    assert results["score"] == pytest.approx(AUTO_MAX)
    assert "graded hw2.ipynb; also found hw2.yml, which was not graded" in results["output"]


# --- locating and staging (unit) -------------------------------------------------------------


def test_a_notebook_is_staged_as_the_entry_and_hashed_as_itself(tmp_path) -> None:
    folder = write_submission(
        tmp_path / "student", {"hw2.ipynb": notebook_json("X = 1\n"), "helpers.py": "Y = 2\n"}
    )
    found = locate(folder, SPEC)
    work = tmp_path / "work"
    work.mkdir()
    assert stage(found, work) == "hw2.py"
    assert sorted(p.name for p in work.iterdir()) == ["helpers.py", "hw2.py"]
    assert "'X = 1\\n'" in (work / "hw2.py").read_text()
    before = found.content_sha256
    (folder / "hw2.ipynb").write_text(notebook_json("X = 2\n"))
    assert locate(folder, SPEC).content_sha256 != before


def test_a_large_notebook_is_refused_without_being_read(tmp_path) -> None:
    folder = tmp_path / "student"
    folder.mkdir()
    with (folder / "hw2.ipynb").open("wb") as file:
        file.truncate(100 << 20)  # sparse: 100 MB that take no disk space
    tracemalloc.start()
    try:
        started = time.monotonic()
        found = locate(folder, SPEC)
        seconds = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found.entry is None
    assert "hw2.ipynb is 100.0 MB" in missing_entry_message(found, SPEC)
    assert peak < 1 << 20, peak
    assert seconds < 1, seconds


def test_an_answers_file_is_staged_as_a_module_of_literals(tmp_path) -> None:
    folder = write_submission(tmp_path / "student", {"hw2.yml": "ETA: 0.5\n"})
    found = locate(folder, SPEC)
    work = tmp_path / "work"
    work.mkdir()
    assert stage(found, work) == "hw2.py"
    assert "ETA = 0.5" in (work / "hw2.py").read_text()


# --- the notebook converter (unit) ----------------------------------------------------------


def test_code_cells_are_numbered_counting_markdown_cells() -> None:
    data = notebook_json(
        ("markdown", "# Title\n"), "A = 1\n", ("raw", "raw text\n"), "B = A + 1\n"
    ).encode()
    assert code_cells(data, "hw2.ipynb") == [(2, "A = 1\n"), (4, "B = A + 1\n")]


def test_the_generated_module_runs_the_cells_in_order(tmp_path) -> None:
    converted = convert_notebook(
        notebook_json("A = 1\n", "%time B = 2\n", "C = A + 1\ndisplay(C)\n").encode(), "hw2.ipynb"
    )
    module = tmp_path / "hw2.py"
    module.write_text(converted.module_source())
    namespace: dict[str, Any] = {"__file__": str(module), "__name__": "hw2"}
    exec(compile(module.read_text(), str(module), "exec"), namespace)  # a test-made notebook
    assert (namespace["A"], namespace["C"]) == (1, 2)
    assert "B" not in namespace


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("%matplotlib inline", False),
        ("!pip install numpy", False),
        ("files = !ls", False),
        ("np.linalg?", False),
        ("x = 3 % 2", True),
        ("s = 'a%sb' % x", True),
    ],
)
def test_ipython_lines_are_replaced_by_pass(line: str, kept: bool) -> None:
    source, skipped = strip_ipython(line + "\n", cell=1)
    assert (source.splitlines()[0] == line) is kept
    assert len(skipped) == (0 if kept else 1)
    if not kept:
        assert source.splitlines()[0] == "pass"


def test_percent_lines_that_continue_an_expression_or_a_string_are_python() -> None:
    source = 'x = ("%d items"\n     % 3)\ns = """\n%not a magic\n!nor this\n"""\n'
    assert strip_ipython(source, cell=1) == (source, [])


@pytest.mark.parametrize(
    "module",
    [
        "argparse",
        "doctest",
        "logging",
        "pydoc",
        "string",
        "textwrap",
        "tokenize",
        "json.decoder",
        "http.server",
    ],
)
def test_valid_python_is_never_changed(module: str) -> None:
    """Standard-library modules full of % formatting, strings spanning lines and brackets."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    source = Path(spec.origin).read_text(encoding="utf-8").replace("\r\n", "\n")
    assert strip_ipython(source, cell=1) == (source, [])


def test_an_indented_magic_keeps_the_block_valid() -> None:
    source, skipped = strip_ipython("def f():\n    %timeit g()\n", cell=4)
    assert source == "def f():\n    pass\n"
    assert [(s.cell, s.line, s.text) for s in skipped] == [(4, 2, "%timeit g()")]
    compile(source, "cell", "exec")


def test_a_cell_magic_leaves_its_whole_cell_out() -> None:
    source, skipped = strip_ipython("\n%%timeit\nf(3)\n", cell=7)
    assert source == ""
    assert skipped[0].describe() == "cell 7: the whole %%timeit cell"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2]", "it is JSON, but a list, not a notebook"),
        ('{"cells": []}', 'no "nbformat" version'),
        ('{"nbformat": 3, "worksheets": []}', "it is in notebook format 3"),
        ('{"nbformat": 4}', 'it has no list of "cells"'),
        ('{"nbformat": 4, "cells": [{"source": "x"}]}', "cell 1 is not a cell"),
        (
            '{"nbformat": 4, "cells": [{"cell_type": "code", "source": 3}]}',
            'the "source" of cell 1 is not text',
        ),
        ('{"nbformat": 4, "cells": [', "line 1, column 27: Expecting value"),
    ],
)
def test_what_is_wrong_with_a_notebook_is_named(content: str, message: str) -> None:
    with pytest.raises(NotebookError) as raised:
        code_cells(content.encode(), "hw2.ipynb")
    assert str(raised.value).startswith("hw2.ipynb is not a valid notebook")
    assert message in str(raised.value)


def test_a_notebook_of_millions_of_tiny_objects_is_refused_before_parsing() -> None:
    crafted = b'{"nbformat": 4, "cells": [], "x": [' + b"{}," * MAX_JSON_CONTAINERS + b"{}]}"
    with pytest.raises(NotebookError, match="JSON objects and lists"):
        code_cells(crafted, "hw2.ipynb")


# --- the answers file converter (unit) ------------------------------------------------------


def test_answers_become_literals_and_nothing_is_evaluated() -> None:
    source, notes = convert_answers(
        b"ETA: 1e-3\nW: [[1, 2.5], [.inf, -.inf]]\nPICK: yes\nTEXT: __import__('os')\n"
        b"BLANK:\nMAP: {a: 1}\n",
        "hw2.yaml",
    )
    assert notes == []
    lines = source.splitlines()[2:]
    assert lines == [
        "ETA = 0.001",
        "W = [[1, 2.5], [float('inf'), -float('inf')]]",
        "PICK = True",
        "TEXT = \"__import__('os')\"",
        "BLANK = None",
        "MAP = {'a': 1}",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"1st: 2\n", "'1st' is not a valid name"),
        (b"on: 2\n", "YAML reads yes/no/on/off"),
        (b"class: 2\n", "'class' is a Python keyword"),
        (b"- 1\n- 2\n", "should map names to answers"),
        (b"", "hw2.yaml is empty"),
        (b"A: &a [1, 2]\nB: *a\n", "aliases (*name) are not allowed"),
        (b"A: 2024-01-31\n", "the value of A is a date"),
        (b"A: !!python/object/apply:os.system [ls]\n", "could not determine a constructor"),
        (b"A: [1, 2\n", "hw2.yaml is not valid YAML: line 2, column 1"),
        (b"? [a, b]\n: 1\n", "found unhashable key"),
    ],
)
def test_what_is_wrong_with_an_answers_file_is_named(content: bytes, message: str) -> None:
    with pytest.raises(AnswersFileError) as raised:
        convert_answers(content, "hw2.yaml")
    assert message in str(raised.value)


def test_a_name_given_twice_is_noted() -> None:
    source, notes = convert_answers(b"A: 1\nB: 2\nA: 3\n", "hw2.yaml")
    assert "A = 3" in source
    assert notes == ["hw2.yaml: A is given twice (lines 1 and 3); the second one is graded"]
