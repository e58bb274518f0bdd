"""Throughput of `grader batch` on a synthetic HW2 class, against one fresh interpreter per
submission.

Builds an export folder of N HW2 submissions (copies of the examples: correct, mistaken,
conventional, notebook, crashing, starter; with --slow, 5% slow ones too), each made distinct,
grades it with `grader batch` (warm workers; and with --cold, fresh interpreters for comparison)
and prints figures. It asserts nothing. Run it with
    .venv/bin/python benchmarks/batch.py [--count 200] [--workers N] [--slow] [--cold]
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

from grader.batch.run import Batch, BatchOptions

REPO = Path(__file__).parents[1]
RUBRIC = REPO / "rubrics" / "hw2.yaml"
EXAMPLES = REPO / "submissions_example" / "hw2"
MIX = (
    ("correct", 40),
    ("mistakes", 25),
    ("convention", 10),
    ("notebook", 10),
    ("crashes", 10),
    ("starter", 5),
)
"""Percentages of each example in the class, roughly what a real class hands in."""


def bare_start_seconds(repeat: int = 5) -> float:
    """Median wall time of `python -c 'import numpy, torch'`: the least a grader that starts
    one interpreter per submission pays before grading anything."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import numpy, torch"], check=True)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def build_class(folder: Path, count: int, slow: bool) -> dict[str, int]:
    """An unpacked export: metadata with Ruby-style keys, one submission_<id>/ per student."""
    mix = [*MIX, ("slow", 5)] if slow else list(MIX)
    weights = [share for _, share in mix]
    kinds: dict[str, int] = {}
    metadata = {}
    for index in range(count):
        position = index * sum(weights) // count
        kind = next(
            name
            for (name, _), bound in zip(
                mix, [sum(weights[: i + 1]) for i in range(len(mix))], strict=True
            )
            if position < bound
        )
        kinds[kind] = kinds.get(kind, 0) + 1
        submission = folder / f"submission_{100000 + index}"
        shutil.copytree(EXAMPLES / kind, submission)
        for file in submission.iterdir():  # distinct content, so nothing is deduplicated
            if file.suffix == ".py":
                file.write_text(file.read_text() + f"\n# student {index}\n")
        metadata[submission.name] = {
            ":submitters": [
                {
                    ":name": f"Student {index}",
                    ":sid": f"{index:07d}",
                    ":email": f"s{index}@example.edu",
                }
            ],
            ":status": "processed",
        }
    (folder / "submission_metadata.yml").write_text(yaml.safe_dump(metadata))
    return kinds


def grade(source: Path, outdir: Path, workers: int, warm: bool) -> float:
    began = time.perf_counter()
    Batch(
        BatchOptions(rubric=RUBRIC, source=source, outdir=outdir, workers=workers, warm=warm)
    ).run()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--slow", action="store_true", help="include 5%% slow submissions")
    parser.add_argument(
        "--cold", action="store_true", help="also grade with a fresh interpreter per child"
    )
    args = parser.parse_args()
    bare = bare_start_seconds()
    print(f"machine: {os.cpu_count()} cores, {args.workers} workers")
    print(f"bare `python -c 'import numpy, torch'`: {bare * 1000:.0f} ms")
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as folder:
        source = Path(folder) / "export"
        source.mkdir()
        kinds = build_class(source, args.count, args.slow)
        print(
            f"class: {args.count} submissions: "
            + ", ".join(f"{n} {kind}" for kind, n in kinds.items())
        )
        modes = [("warm (zygote)", True)] + (
            [("cold (fresh interpreter per child)", False)] if args.cold else []
        )
        for label, warm in modes:
            seconds = grade(source, Path(folder) / f"out-{warm}", args.workers, warm)
            rate = args.count / seconds
            per_submission = seconds * args.workers / args.count
            print(
                f"{label}: {seconds:.1f} s for {args.count} = {rate:.1f} submissions/s; "
                f"{per_submission * 1000:.0f} ms per submission per worker"
            )
            print(
                f"  vs one fresh interpreter per submission on {args.workers} workers "
                f"({args.workers / bare:.2f} submissions/s at best): "
                f"{rate / (args.workers / bare):.1f}x the throughput; "
                f"vs one at a time ({1 / bare:.2f}/s): {rate * bare:.1f}x"
            )
            rerun = grade(source, Path(folder) / f"out-{warm}", args.workers, warm)
            print(f"  rerun with nothing changed: {rerun:.2f} s")


if __name__ == "__main__":
    main()
