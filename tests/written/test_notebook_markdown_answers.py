"""Answers typed in a notebook's markdown cells are read like a written sheet; code wins."""

from __future__ import annotations

import json
from pathlib import Path

from grader.rubric.model import load_rubric
from grader.submission.asked import sheet_parts
from grader.submission.formats.base import Asked
from grader.submission.formats.notebook import convert

REPO = Path(__file__).parents[2]
ASKED = Asked("hw2.py", sheet_parts(load_rubric(REPO / "rubrics" / "hw2.yaml").rubric))


def _notebook(*cells: tuple[str, str]) -> bytes:
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {},
            "cells": [
                {"cell_type": kind, "metadata": {}, "source": source, "outputs": []}
                if kind == "code"
                else {"cell_type": kind, "metadata": {}, "source": source}
                for kind, source in cells
            ],
        }
    ).encode()


MEMORY = ("markdown", "#### 2.1.2\nForward: O(1). Back-propagation: O(t).\n")


def test_an_answer_in_a_markdown_cell_is_read_and_staged_after_the_code():
    converted = convert(_notebook(("code", "import numpy as np\n"), MEMORY), "hw2.ipynb", ASKED)
    assert converted.readings["BACKPROP_MEMORY"].shown == "O(t)"
    assert converted.module_source.rstrip().endswith("BACKPROP_MEMORY = 'O(t)'")


def test_a_target_a_code_cell_defines_is_not_read_from_markdown():
    cells = (("code", "FORWARD_MEMORY = 'O(t)'\n"), MEMORY)
    converted = convert(_notebook(*cells), "hw2.ipynb", ASKED)
    assert "FORWARD_MEMORY" not in converted.readings
    assert "FORWARD_MEMORY = 'O(1)'" not in converted.module_source


def test_a_reading_says_which_cell_and_line_it_came_from():
    converted = convert(_notebook(("code", "x = 1\n"), MEMORY), "hw2.ipynb", ASKED)
    reading = converted.readings["FORWARD_MEMORY"]
    assert reading.excerpt.startswith("(cell 2)") and reading.line == 2


def test_a_notebook_without_markdown_answers_is_graded_as_before():
    converted = convert(_notebook(("code", "x = 1\n")), "hw2.ipynb", ASKED)
    assert not converted.readings and "markdown and raw cells are ignored" in converted.notes[0]
