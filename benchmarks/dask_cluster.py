"""Throughput of `grader batch --cluster` against the local pool, on this machine.

Builds the same synthetic HW2 class as benchmarks/batch.py, then grades it (each figure the
best of --repeat runs, from an empty output folder, start-up of the grading workers included):
- with the local pool of 1 and 2 workers;
- on a real Dask cluster on 127.0.0.1, one `dask scheduler` and 1, then 2, `dask worker`
  processes of one thread each, 12 GiB each (HW2's children may use 2 x 2 GiB) (the
  cluster's own start is not counted: it is up already).
It prints the seconds, the throughput, the cost per submission per worker, the cluster's
overhead per submission against the local pool, and the scaling from one to two workers. It
asserts nothing. Run it with
    .venv/bin/python benchmarks/dask_cluster.py [--count 100] [--repeat 2]
On a 2-core machine the scheduler, the client and the workers' event loops share the cores
that grade, so the overhead measured here is an upper bound for a cluster of real machines.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from batch import RUBRIC, build_class

from grader.batch.run import Batch, BatchOptions

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from dask_processes import DaskProcesses


def grade(source: Path, outdir: Path, workers: int, cluster: str | None) -> float:
    shutil.rmtree(outdir, ignore_errors=True)
    began = time.perf_counter()
    summary = Batch(
        BatchOptions(rubric=RUBRIC, source=source, outdir=outdir, workers=workers, cluster=cluster)
    ).run()
    seconds = time.perf_counter() - began
    assert summary.graded, "nothing was graded"
    return seconds


def best(repeat: int, source: Path, outdir: Path, workers: int, cluster: str | None) -> float:
    return min(grade(source, outdir, workers, cluster) for _ in range(repeat))


def line(label: str, seconds: float, count: int, workers: int) -> str:
    return (
        f"{label:<34} {seconds:6.1f} s  {count / seconds:5.1f} submissions/s  "
        f"{seconds * workers / count * 1000:5.0f} ms per submission per worker"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; {args.count} HW2 submissions; best of {args.repeat}")
    with tempfile.TemporaryDirectory(prefix="grader-bench-dask-") as folder:
        root = Path(folder)
        source = root / "export"
        source.mkdir()
        build_class(source, args.count, slow=False)
        local = {n: best(args.repeat, source, root / "out", n, None) for n in (1, 2)}
        cluster = DaskProcesses(root / "dask")
        try:
            cluster.add_worker("w1", memory_limit="12GiB")
            cluster.wait_for("w1")
            remote = {1: best(args.repeat, source, root / "out", 1, cluster.address)}
            cluster.add_worker("w2", memory_limit="12GiB")
            cluster.wait_for("w1", "w2")
            remote[2] = best(args.repeat, source, root / "out", 2, cluster.address)
        finally:
            cluster.close()
    for workers in (1, 2):
        print(line(f"local pool, {workers} worker(s)", local[workers], args.count, workers))
        print(line(f"Dask, scheduler + {workers} worker(s)", remote[workers], args.count, workers))
        overhead = remote[workers] / local[workers] - 1
        per_submission = (remote[workers] - local[workers]) * workers / args.count
        print(
            f"  cluster overhead with {workers} worker(s): {overhead:+.1%} "
            f"({per_submission * 1000:+.0f} ms per submission per worker)"
        )
    print(
        f"scaling from 1 to 2 workers: local pool {local[1] / local[2]:.2f}x, "
        f"Dask {remote[1] / remote[2]:.2f}x (2 cores, so at most 2x)"
    )


if __name__ == "__main__":
    main()
