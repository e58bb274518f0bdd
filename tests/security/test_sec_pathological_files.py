"""Pathological submission folders: links pointing outside, odd file names, non-UTF-8 source.

Only regular files inside the submission are staged; a link is never followed, so its target
(/etc/shadow, the reference, another student's work) never reaches the sandbox or the grade.
(A zip bomb in a TA export and invalid or 100 MB notebooks belong to the batch and notebook
features, which do not exist yet.)

Links are tried in every mode; names and encodings are the staging code's business, not an
isolation layer's, so those run in the default mode only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from sectest_support import NOTHING, modes

pytestmark = pytest.mark.sandbox

LOOK_AROUND = """
def attack(x):
    return {"staged": sorted(set(os.listdir(".")) - {"__pycache__"}),
            "link": _attempt(lambda: open($link_name, errors="replace").read()),
            "import": _attempt(lambda: __import__($module_name).__name__),
            "target": _attempt(lambda: open($target, errors="replace").read())}
"""


def test_a_symlink_to_etc_shadow_is_not_staged(attack):
    run = attack(
        LOOK_AROUND,
        symlinks={"shadow.py": Path("/etc/shadow")},
        values={"link_name": "shadow.py", "module_name": "shadow", "target": "/etc/shadow"},
    )
    observed = run.observation
    assert observed["staged"] == ["answers.py"], observed
    assert observed["link"].startswith("denied: FileNotFoundError"), observed
    assert observed["import"].startswith("denied: ModuleNotFoundError"), observed
    assert observed["target"].startswith("denied: PermissionError"), observed
    assert "root:" not in json.dumps(observed)


def test_a_symlink_to_the_reference_is_not_staged(attack, course):
    run = attack(
        LOOK_AROUND,
        symlinks={"reference_copy.py": course.reference},
        values={
            "link_name": "reference_copy.py",
            "module_name": "reference_copy",
            "target": course.reference,
        },
    )
    observed = run.observation
    assert observed["staged"] == ["answers.py"], observed
    assert observed["link"].startswith("denied: FileNotFoundError"), observed
    assert observed["import"].startswith("denied: ModuleNotFoundError"), observed
    assert observed["target"].startswith("denied: PermissionError"), observed


def test_an_entry_file_that_links_to_another_submission_is_not_graded(attack, course):
    """The other student's answers.py would earn the control point if it were followed."""
    run = attack(
        entry=False,
        symlinks={"answers.py": course.other_submission},
        scores=NOTHING,
        check_layers=False,
    )
    assert "answers.py was not found" in run.results["output"]


def test_a_linked_folder_pointing_outside_is_not_searched(attack, course):
    run = attack(
        entry=False,
        symlinks={"work": course.other_submission.parent},
        scores=NOTHING,
        check_layers=False,
    )
    assert "answers.py was not found" in run.results["output"]


ODD_NAMES = ["new\nline.py", 'quote"brace{}.py', "dots..py", "..\n..py"]


@modes("default")
def test_odd_file_names_beside_the_entry_are_staged_as_plain_names(attack):
    files: dict[str, Any] = {name: "X = 1\n" for name in ODD_NAMES}
    run = attack(
        """
        def attack(x):
            return {"staged": sorted(os.listdir(".")), "cwd": os.getcwd()}
    """,
        files=files,
    )
    staged = run.observation["staged"]
    assert "answers.py" in staged
    assert all("/" not in name for name in staged)
    assert "new\nline.py" in staged and "dots..py" in staged
    assert "..\n..py" not in staged  # a dot file is skipped, like .DS_Store


@modes("default")
def test_a_helper_file_whose_name_is_not_utf8_does_not_crash_the_grader(attack):
    attack(
        """
        def attack(x):
            return {"staged": sorted(os.listdir("."))}
    """,
        files={os.fsdecode(b"latin1-\xe9.py"): "X = 1\n"},
    )


@modes("default")
def test_a_file_name_that_is_not_utf8_keeps_results_valid_unicode(attack):
    run = attack(
        entry=False,
        files={os.fsdecode(b"\xff\xfe-notes.txt"): "X = 1\n"},
        scores=NOTHING,
        check_layers=False,
    )
    assert "was not found" in run.results["output"]
    text = json.dumps(run.results, ensure_ascii=False)
    surrogates = [char for char in text if 0xD800 <= ord(char) <= 0xDFFF]
    assert surrogates == [], f"results.json holds lone surrogates {surrogates}"


@modes("default")
def test_non_utf8_source_without_a_coding_line_is_an_import_error(attack):
    source = "CONTROL = 42\nNAME = 'caf\xe9'\n".encode("latin-1")
    run = attack(entry=False, files={"answers.py": source}, scores=NOTHING, check_layers=False)
    assert "could not be imported" in run.results["output"]
    assert "SyntaxError" in run.results["output"]


@modes("default")
def test_non_utf8_source_with_a_coding_line_is_graded(attack):
    source = "# -*- coding: latin-1 -*-\nCONTROL = 42\nNAME = 'caf\xe9'\n".encode("latin-1")
    run = attack(entry=False, files={"answers.py": source})
    assert run.test("1")["score"] == 1
