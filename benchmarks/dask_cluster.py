"""Throughput of `grader batch --cluster` against the local pool, on this machine.

Builds the same synthetic HW2 class as benchmarks/batch.py, then grades it (each figure the
best of --repeat runs, local and cluster runs alternated, each from an empty output folder,
start-up of the grading workers included):
- with the local pool of 1 and 2 workers;
- on a real Dask cluster on 127.0.0.1, one `dask scheduler` and 1, then 2, `dask worker`
  processes of one thread each, 12 GiB each (HW2's children may use 2 x 2 GiB) (the
  cluster's own start is not counted: it is up already).
It prints the seconds, the throughput, the cost per submission per worker, the cluster's
overhead per submission against the local pool, the CPU time Dask's own processes and the
client add per submission (a figure a busy machine disturbs far less than wall times), and the
scaling from one to two workers. It asserts nothing. Run it with
    .venv/bin/python benchmarks/dask_cluster.py [--count 100] [--repeat 2]
On a 2-core machine the scheduler, the client and the workers' event loops share the cores
that grade, so the overhead measured here is an upper bound for a cluster of real machines.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil
from batch import RUBRIC, build_class

from grader.batch.run import Batch, BatchOptions

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from dask_processes import DaskProcesses


def grade(source: Path, outdir: Path, workers: int, cluster: str | None) -> tuple[float, float]:
    """Wall seconds of one batch, and the CPU seconds this (client) process spent on it."""
    shutil.rmtree(outdir, ignore_errors=True)
    began, cpu = time.perf_counter(), time.process_time()
    summary = Batch(
        BatchOptions(rubric=RUBRIC, source=source, outdir=outdir, workers=workers, cluster=cluster)
    ).run()
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    assert summary.graded, "nothing was graded"
    return seconds, cpu


def dask_cpu(cluster: DaskProcesses) -> float:
    """CPU seconds used so far by Dask's own processes: the scheduler, each nanny and each
    worker process (not the grading processes a worker starts, which the local pool has too)."""
    processes = [psutil.Process(cluster.scheduler.pid)]
    for worker in cluster.workers.values():
        nanny = psutil.Process(worker.pid)
        processes += [nanny, *nanny.children()]
    return sum(p.cpu_times().user + p.cpu_times().system for p in processes)


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
        local: dict[int, float] = {}
        remote: dict[int, float] = {}
        extra_cpu: dict[int, list[float]] = {}  # batch size -> CPU seconds the cluster added
        background: dict[int, list[float]] = {}  # of which an idle cluster spends as much
        subset = root / "subset"  # the first fifth of the class, for the marginal cost
        subset.mkdir()
        for folder in sorted(source.glob("submission_*"))[: args.count // 5]:
            shutil.copytree(folder, subset / folder.name)
        cluster = DaskProcesses(root / "dask")
        try:
            for workers in (1, 2):
                cluster.add_worker(f"w{workers}", memory_limit="12GiB")
                cluster.wait_for(*(f"w{n}" for n in range(1, workers + 1)))
                # Alternated, so that a load from elsewhere on the machine weighs on both alike.
                for _ in range(args.repeat):
                    seconds, _ = grade(source, root / "out", workers, None)
                    local[workers] = min(local.get(workers, seconds), seconds)
                    seconds, _ = grade(source, root / "out", workers, cluster.address)
                    remote[workers] = min(remote.get(workers, seconds), seconds)
            idle_from, idle_at = dask_cpu(cluster), time.perf_counter()
            time.sleep(10)
            idle = (dask_cpu(cluster) - idle_from) / (time.perf_counter() - idle_at)
            # The CPU Dask and the client add, for a fifth of the class and for all of it, on
            # two workers: the difference is the cost per submission, without the fixed cost
            # of a batch (connecting, installing the plugin, starting the grading processes).
            for folder in (subset, source) * args.repeat:
                count = len(list(folder.glob("submission_*")))
                _, client_cpu = grade(folder, root / "out", 2, None)
                before = dask_cpu(cluster)
                seconds, cluster_client_cpu = grade(folder, root / "out", 2, cluster.address)
                extra = dask_cpu(cluster) - before + cluster_client_cpu - client_cpu
                extra_cpu.setdefault(count, []).append(extra)
                background.setdefault(count, []).append(idle * seconds)
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
    small, large = sorted(extra_cpu)
    fixed = statistics.median(extra_cpu[small])
    cpu = (statistics.median(extra_cpu[large]) - fixed) / (large - small)
    grading = min(local[1], local[2] * 2) / args.count
    idle_part = (statistics.median(background[large]) - statistics.median(background[small])) / (
        large - small
    )
    print(
        f"CPU the cluster adds (scheduler, nannies, Dask workers, client, medians): "
        f"{fixed:.1f} s for a batch of {small}; then {cpu * 1000:.1f} ms per submission, "
        f"{cpu / grading:.1%} of the {grading * 1000:.0f} ms a submission takes to grade;\n"
        f"  of which {idle_part * 1000:.1f} ms is what the cluster spends idle anyway "
        f"(heartbeats, memory monitors: {idle:.1%} of a core), "
        f"{(cpu - idle_part) * 1000:.1f} ms ({(cpu - idle_part) / grading:.1%}) per task"
    )
    print(
        f"scaling from 1 to 2 workers: local pool {local[1] / local[2]:.2f}x, "
        f"Dask {remote[1] / remote[2]:.2f}x (2 cores, so at most 2x)"
    )


if __name__ == "__main__":
    main()
