"""What reading a written sheet costs: converting and grading submissions_example/hw2/sheet_typed
against grading the same answers handed in as hw2.py.

The Python twin below defines exactly what the sheet answers (the same constants; the formulas
as numpy functions), so both gradings ask the same questions of the same kind of child. Each
round grades both, alternated, with one engine (the reference loaded once, as in a batch), and
times converting the sheet alone too. It asserts nothing. Run it with
    .venv/bin/python benchmarks/sheet.py [--repeat 10]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from grader.grading.engine import Engine
from grader.rubric.model import load_rubric
from grader.submission.asked import sheet_parts
from grader.submission.formats.base import Asked
from grader.submission.formats.written_sheet import convert
from grader.submission.staged import open_submission
from grader.trusted.reference import load_reference

REPO = Path(__file__).parents[1]
SHEET = REPO / "submissions_example" / "hw2" / "sheet_typed"

TWIN = '''"""The answers of submissions_example/hw2/sheet_typed, as a student would code them."""
import numpy as np


def min_norm_solution(X, t):
    return X.T @ np.linalg.inv(X @ X.T) @ t


def gd_step(X, t, w0, eta):
    return w0 - 2 * eta / X.shape[0] * X.T @ (X @ w0 - t)


def loss_after_one_step(X, t, w0, eta):
    n = X.shape[0]
    a = X @ w0 - t
    r = a - 2 * eta / n * X @ X.T @ a
    return float(r @ r) / n


def eta_star(X, t, w0):
    a = X @ w0 - t
    xta, xxta = X.T @ a, X @ X.T @ a
    return X.shape[0] * float(xta @ xta) / (2 * float(xxta @ xxta))


MINIBATCH_FINDS_MIN_NORM = "yes"
ADAGRAD_FINDS_MIN_NORM = "no"
ADAGRAD_LIMIT = [0.6667, 0.6667]
ADAPTIVE_METHODS_FIND_MIN_NORM = "no"
FORWARD_MEMORY = "O(1)"
BACKPROP_MEMORY = "O(t)"
POTENTIAL_PROBLEM = "Memory grows linearly with the number of iterations."
L1_IS_CONVEX = "yes"
I_CONV_J = [[-1, 2, 2, -2, 0], [-2, 1, 0, 2, -1], [3, 0, 0, 1, -1], [-2, 2, 0, 2, -1],
            [0, -2, 3, -2, 0]]
J_DETECTS = "The filter detects edges."
PARAMS_PER_LAYER = [1792, 0, 73856, 0, 295168, 590080, 0, 51381248, 102500]
TOTAL_PARAMS = 52444644
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    options = parser.parse_args()
    loaded = load_rubric(REPO / "rubrics" / "hw2.yaml")
    engine = Engine(loaded, load_reference(loaded.reference_path))
    sheet = sheet_parts(loaded.rubric)
    asked = Asked(loaded.rubric.submission.entry, sheet)
    sheet_file = next(SHEET.iterdir())
    data = sheet_file.read_bytes()
    with tempfile.TemporaryDirectory() as folder:
        twin = Path(folder) / "twin"
        twin.mkdir()
        (twin / "hw2.py").write_text(TWIN)
        copy = Path(folder) / "sheet"
        shutil.copytree(SHEET, copy)
        timings: dict[str, list[float]] = {"sheet": [], "python": [], "convert": []}
        scores: dict[str, set[float]] = {"sheet": set(), "python": set()}
        for _ in range(options.repeat):
            for kind, path in (("sheet", copy), ("python", twin)):
                started = time.perf_counter()
                with open_submission(path, loaded.rubric.submission, sheet=sheet) as staged:
                    result = engine.grade(staged)
                timings[kind].append(time.perf_counter() - started)
                scores[kind].add(result.score)
                if result.outcome != "graded":  # a busy machine can starve a child
                    print(f"  {kind}: {result.outcome}: {' '.join(result.notes[:1])[:200]}")
            started = time.perf_counter()
            convert(data, sheet_file.name, asked)
            timings["convert"].append(time.perf_counter() - started)
    median = {kind: statistics.median(values) for kind, values in timings.items()}
    print(f"{options.repeat} rounds, median wall time (machine load changes single runs)")
    print(f"  converting the sheet alone:      {median['convert'] * 1000:7.1f} ms")
    print(
        f"  converting and grading the sheet: {median['sheet'] * 1000:6.0f} ms "
        f"(scores {sorted(scores['sheet'])})"
    )
    print(
        f"  grading the same answers as .py:  {median['python'] * 1000:6.0f} ms "
        f"(scores {sorted(scores['python'])})"
    )
    print(f"  ratio: {median['sheet'] / median['python']:.2f}x (target: at most 2x)")


if __name__ == "__main__":
    main()
