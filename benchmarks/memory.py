"""Peak memory of grading one submission: the grader process and its sandboxed children together.

Gradescope gives an autograder 768 MB by default. This samples the resident memory of the whole
process tree of `grader grade` every 10 ms and prints the peak; it asserts nothing. Run with
    .venv/bin/python benchmarks/memory.py
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).parents[1]
CASES = [("hw2", "correct"), ("hw2", "mistakes"), ("midterm", "correct")]
PAGE = 4096


def tree_rss(root: int) -> int:
    """Resident bytes of `root` and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            rss[int(entry.name)] = int((entry / "statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError):
            continue
        children.setdefault(int(stat[1]), []).append(int(entry.name))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack += children.get(pid, [])
    return total


def peak(assignment: str, example: str) -> tuple[int, float]:
    grader = Path(sys.executable).parent / "grader"
    began = time.perf_counter()
    process = subprocess.Popen(
        [
            grader,
            "grade",
            REPO / "rubrics" / f"{assignment}.yaml",
            REPO / "submissions_example" / assignment / example,
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
    )
    highest = 0
    while process.poll() is None:
        highest = max(highest, tree_rss(process.pid))
        time.sleep(0.01)
    return highest, time.perf_counter() - began


def main() -> None:
    for assignment, example in CASES:
        highest, seconds = peak(assignment, example)
        print(
            f"{assignment}/{example:10s} peak {highest / 2**20:6.0f} MiB (grader + sandboxed "
            f"child), {seconds:5.2f} s"
        )


if __name__ == "__main__":
    main()
