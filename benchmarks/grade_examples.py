"""How long grading takes: per example submission, per sandbox child start, per request.

Prints figures (medians over repeated runs); it asserts nothing. Run it with
    .venv/bin/python benchmarks/grade_examples.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.grading.engine import Engine
from grader.rubric.model import load_rubric
from grader.sandbox.runner import SandboxSession
from grader.trusted.reference import load_reference

REPO = Path(__file__).parents[1]
RUBRIC = REPO / "rubrics" / "hw2.yaml"
EXAMPLES = ("correct", "mistakes", "starter", "crashes")


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:8.1f} ms"


def child_costs(repeat: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "plain.py").write_text("VALUE = 1\n")
        (work / "numpy_user.py").write_text("import numpy as np\nVALUE = np.ones(3)\n")
        for entry in ("plain.py", "numpy_user.py"):
            starts = []
            for _ in range(repeat):
                with SandboxSession(work, entry) as session:
                    began = time.perf_counter()
                    assert session.start().ok
                    starts.append(time.perf_counter() - began)
            print(f"child start + import of {entry:15s} {median_ms(starts)}")
        with SandboxSession(work, "numpy_user.py") as session:
            session.start()
            requests = []
            for _ in range(repeat * 20):
                began = time.perf_counter()
                session.value("VALUE", 5)
                requests.append(time.perf_counter() - began)
        print(f"one value request (warm child)        {median_ms(requests)}")


def in_process(repeat: int) -> None:
    loaded = load_rubric(RUBRIC)
    engine = Engine(loaded, load_reference(loaded.reference_path))
    for example in EXAMPLES:
        times = []
        for _ in range(repeat):
            began = time.perf_counter()
            engine.grade(REPO / "submissions_example" / "hw2" / example)
            times.append(time.perf_counter() - began)
        print(f"grade {example:10s} (engine, warm)       {median_ms(times)}")


def command_line(repeat: int) -> None:
    grader = Path(sys.executable).parent / "grader"
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        subprocess.run(
            [grader, "grade", RUBRIC, REPO / "submissions_example/hw2/correct", "--quiet"],
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - began)
    print(f"`grader grade` on correct/ (whole CLI)  {median_ms(times)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    repeat = parser.parse_args().repeat
    child_costs(repeat)
    in_process(repeat)
    command_line(repeat)


if __name__ == "__main__":
    main()
