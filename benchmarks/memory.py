"""Peak memory of grading: `grader grade` (the grader, its zygote and the sandboxed child), and
one `grader batch` worker (the worker, its zygote and its children), with torch preloaded.

Gradescope gives an autograder 768 MB by default. This samples the process tree every 10 ms and
prints the peak of two sums: PSS (proportional set size: a page shared by n processes counts
1/n in each, so the sum is the memory the tree really occupies, which is what a container's
limit counts; a forked child shares most of its zygote's pages) and RSS (every shared page
counted once per process, an upper bound). It asserts nothing. Run with
    .venv/bin/python benchmarks/memory.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).parents[1]
CASES = [("hw2", "correct"), ("hw2", "mistakes"), ("midterm", "correct")]
PAGE = 4096
GRADER = Path(sys.executable).parent / "grader"


def descendants(root: int) -> list[int]:
    """`root` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack += children.get(pid, [])
    return found


def pss_and_rss(pids: list[int]) -> tuple[int, int]:
    """Bytes: the summed PSS and RSS of the processes still alive."""
    pss = rss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1]) * 1024
        except (OSError, ValueError):
            continue
    return pss, rss


def sample_peak(process: subprocess.Popen[bytes], pids: Callable[[], list[int]]) -> tuple[int, int]:
    """The peak PSS and RSS sums over the processes `pids()` until `process` exits."""
    peak_pss = peak_rss = 0
    while process.poll() is None:
        pss, rss = pss_and_rss(pids())
        peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
        time.sleep(0.01)
    return peak_pss, peak_rss


def grade_peak(assignment: str, example: str) -> tuple[int, int, float]:
    began = time.perf_counter()
    process = subprocess.Popen(
        [
            GRADER,
            "grade",
            REPO / "rubrics" / f"{assignment}.yaml",
            REPO / "submissions_example" / assignment / example,
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
    )
    pss, rss = sample_peak(process, lambda: descendants(process.pid))
    return pss, rss, time.perf_counter() - began


def worker_peak(assignment: str, count: int) -> tuple[int, int]:
    """One batch worker's tree (the batch process itself excluded) over a small class."""
    folder = Path(tempfile.mkdtemp(prefix="grader-memory-"))
    try:
        for index in range(count):
            example = ("correct", "mistakes", "starter")[index % 3]
            shutil.copytree(
                REPO / "submissions_example" / assignment / example, folder / "in" / f"s{index}"
            )
        process = subprocess.Popen(
            [
                GRADER,
                "batch",
                REPO / "rubrics" / f"{assignment}.yaml",
                folder / "in",
                "-o",
                folder / "out",
                "--workers",
                "1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return sample_peak(process, lambda: descendants(process.pid)[1:])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    for assignment, example in CASES:
        pss, rss, seconds = grade_peak(assignment, example)
        print(
            f"grader grade {assignment}/{example:9s} peak {pss / 2**20:5.0f} MiB PSS "
            f"({rss / 2**20:5.0f} MiB RSS summed): grader + zygote + child, {seconds:5.2f} s"
        )
    for assignment in ("hw2", "midterm"):
        pss, rss = worker_peak(assignment, 12)
        print(
            f"grader batch {assignment:18s} peak {pss / 2**20:5.0f} MiB PSS "
            f"({rss / 2**20:5.0f} MiB RSS summed): one worker + zygote + children"
        )


if __name__ == "__main__":
    main()
