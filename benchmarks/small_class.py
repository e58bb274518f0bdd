"""A small numpy class graded end to end: what a TA's `grader batch` costs per submission, all
included (starting the command, workers and zygotes, validating, grading, the gradebook,
grades.csv and the report).

Issue 15 compares this figure with Otter-Grader's warm in-process API on a 3-question numpy
homework of 40 submissions. This builds such a homework (a vectorised function with random
cases and a named mistake, a matrix function, a constant), a class of 40 (correct answers,
the mistake, a crash, a missing function), and times the real command in a subprocess.

    .venv/bin/python benchmarks/small_class.py [--count 40] [--repeat 3] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).parents[1]
GRADER = [sys.executable, "-m", "grader"]

REFERENCE = '''
import numpy as np


def mse(predictions, targets):
    """Mean squared error over all entries."""
    return float(np.mean((predictions - targets) ** 2))


def rmse_mistake(predictions, targets):
    return float(np.sqrt(np.mean((predictions - targets) ** 2)))


def mse_cases(rng):
    n = int(rng.integers(2, 9))
    return {"predictions": rng.normal(size=n), "targets": rng.normal(size=n)}


def softmax(z):
    """Row-wise softmax, shifted by the row maximum for stability."""
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def softmax_cases(rng):
    return {"z": rng.normal(size=(int(rng.integers(1, 5)), int(rng.integers(2, 6))))}


def parameter_count():
    """Weights and biases of a 784-100-10 network."""
    return 784 * 100 + 100 + 100 * 10 + 10
'''

RUBRIC = {
    "assignment": "numpy-small",
    "title": "A 3-question numpy homework",
    "total_points": 3,
    "seed": 7,
    "reference": "reference.py",
    "submission": {"entry": "hw.py", "preload": ["numpy"]},
    "questions": [
        {
            "number": "1",
            "title": "Mean squared error",
            "points": 1,
            "parts": [
                {
                    "name": "mse",
                    "points": 1,
                    "target": "mse",
                    "function": {
                        "args": ["predictions", "targets"],
                        "array_args": ["predictions", "targets"],
                        "reference": "mse",
                        "public": [{"predictions": [1, 2], "targets": [1, 4]}],
                        "random": {"generator": "mse_cases", "count": 5},
                    },
                    "check": {"kind": "numeric", "rtol": 1e-6},
                    "mistakes": [
                        {
                            "id": "rmse",
                            "reference": "rmse_mistake",
                            "credit": 0.25,
                            "feedback": "That is the root of the mean squared error.",
                        }
                    ],
                }
            ],
        },
        {
            "number": "2",
            "title": "Softmax",
            "points": 1,
            "parts": [
                {
                    "name": "softmax",
                    "points": 1,
                    "target": "softmax",
                    "function": {
                        "args": ["z"],
                        "array_args": ["z"],
                        "reference": "softmax",
                        "public": [{"z": [[1, 2, 3]]}],
                        "random": {"generator": "softmax_cases", "count": 5},
                    },
                    "check": {"kind": "array", "rtol": 1e-6, "atol": 1e-9},
                }
            ],
        },
        {
            "number": "3",
            "title": "Parameters",
            "points": 1,
            "parts": [
                {
                    "name": "count",
                    "points": 1,
                    "target": "PARAMETERS",
                    "answer": {"reference": "parameter_count"},
                    "check": {"kind": "exact"},
                }
            ],
        },
    ],
}

CORRECT = """import numpy as np


def mse(predictions, targets):
    return float(np.mean((predictions - targets) ** 2))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


PARAMETERS = 79510
"""

CLASS = {
    "correct": CORRECT,
    "mistake": CORRECT.replace(
        "return float(np.mean((predictions - targets) ** 2))",
        "return float(np.sqrt(np.mean((predictions - targets) ** 2)))",
    ),
    "crash": CORRECT.replace("e = np.exp", "raise ValueError('todo')\n    e = np.exp"),
    "missing": CORRECT.split("def softmax")[0] + "PARAMETERS = 79510\n",
}
MIX = ["correct"] * 6 + ["mistake"] * 2 + ["crash", "missing"]


def build(folder: Path, count: int) -> Path:
    """The homework (rubric and reference) and an unpacked export of `count` submissions."""
    (folder / "reference.py").write_text(REFERENCE)
    (folder / "rubric.yaml").write_text(yaml.safe_dump(RUBRIC, sort_keys=False))
    export = folder / "export"
    export.mkdir()
    metadata = {}
    for index in range(count):
        submission = export / f"submission_{200000 + index}"
        submission.mkdir()
        kind = MIX[index % len(MIX)]
        (submission / "hw.py").write_text(CLASS[kind] + f"\n# student {index}\n")
        metadata[submission.name] = {
            ":submitters": [{":name": f"Student {index}", ":sid": f"{index:07d}"}],
            ":status": "processed",
        }
    (export / "submission_metadata.yml").write_text(yaml.safe_dump(metadata))
    return export


def timed_batch(folder: Path, export: Path, workers: int, outdir: Path) -> float:
    began = time.perf_counter()
    subprocess.run(
        [
            *GRADER,
            "batch",
            str(folder / "rubric.yaml"),
            str(export),
            "--outdir",
            str(outdir),
            "--workers",
            str(workers),
        ],
        check=True,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; load {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        export = build(folder, options.count)
        runs = []
        for run in range(options.repeat):
            outdir = folder / f"out{run}"
            runs.append(timed_batch(folder, export, options.workers, outdir))
            shutil.rmtree(outdir)
        rerun_out = folder / "rerun"
        timed_batch(folder, export, options.workers, rerun_out)
        rerun = timed_batch(folder, export, options.workers, rerun_out)
    median = statistics.median(runs)
    print(
        f"`grader batch`, {options.count} submissions of a 3-question numpy homework, "
        f"{options.workers} workers: {', '.join(f'{r:.2f}' for r in runs)} s; median "
        f"{median:.2f} s = {1000 * median / options.count:.0f} ms per submission, all included"
    )
    print(f"rerun with nothing changed: {rerun:.2f} s")


if __name__ == "__main__":
    main()
