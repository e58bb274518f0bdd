"""Throughput of `grader batch` on a synthetic class, where each submission's time goes, and the
floor it is compared with.

Builds an export folder of N submissions of one assignment (copies of its examples: for HW2
correct, mistaken, conventional, notebook, crashing, starter, and with --slow 5% slow ones; for
the midterm correct, mistaken and starter), each made distinct, grades it with `grader batch`
(warm workers; with --cold, fresh interpreters too) and prints:
- the batch's wall time and its fixed cost (workers ready, outputs written at the end);
- a per-submission breakdown measured in this process on a sample of the class, graded by one
  engine with its own zygote exactly as a worker grades (fork, child start and import, requests,
  reference work, custom tests, judging, results), each item timed exclusive of the others;
- the floor: a forked child answering the same number of trivial requests per submission.
It asserts nothing. Run it with
    .venv/bin/python benchmarks/batch.py [--assignment hw2|midterm] [--count 200] [--workers N]
        [--sample 40] [--slow] [--cold]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from grader.batch import run as batch_run
from grader.batch import workers as batch_workers
from grader.batch.run import Batch, BatchOptions
from grader.grading import engine as engine_module
from grader.outputs import gradescope_json
from grader.rubric.model import load_rubric
from grader.sandbox import runner, zygote
from grader.sandbox.plan import SandboxLimits
from grader.trusted import reference as reference_module

REPO = Path(__file__).parents[1]
MIXES = {
    "hw2": (
        ("correct", 40),
        ("mistakes", 25),
        ("convention", 10),
        ("notebook", 10),
        ("crashes", 10),
        ("starter", 5),
    ),
    "midterm": (("correct", 50), ("mistakes", 35), ("starter", 15)),
}
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


def build_class(folder: Path, assignment: str, count: int, slow: bool) -> dict[str, int]:
    """An unpacked export: metadata with Ruby-style keys, one submission_<id>/ per student."""
    mix = [*MIXES[assignment], ("slow", 5)] if slow else list(MIXES[assignment])
    weights = [share for _, share in mix]
    bounds = [sum(weights[: i + 1]) for i in range(len(mix))]
    kinds: dict[str, int] = {}
    metadata = {}
    for index in range(count):
        position = index * sum(weights) // count
        kind = next(name for (name, _), bound in zip(mix, bounds, strict=True) if position < bound)
        kinds[kind] = kinds.get(kind, 0) + 1
        submission = folder / f"submission_{100000 + index}"
        shutil.copytree(REPO / "submissions_example" / assignment / kind, submission)
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


class Stopwatch:
    """Exclusive time per category: a timed call nested in another is subtracted from it, so
    the categories add up to the outermost call's wall time."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self._stack: list[list[float]] = []  # [start, time spent in nested timed calls]

    @contextmanager
    def timing(self, category: str) -> Iterator[None]:
        frame = [time.perf_counter(), 0.0]
        self._stack.append(frame)
        try:
            yield
        finally:
            self._stack.pop()
            elapsed = time.perf_counter() - frame[0]
            self.seconds[category] += elapsed - frame[1]
            self.calls[category] += 1
            if self._stack:
                self._stack[-1][1] += elapsed

    def wrap(self, owner: Any, name: str, category: str | Callable[[], str]) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            label = category() if callable(category) else category
            with self.timing(label):
                return original(*args, **kwargs)

        setattr(owner, name, timed)


@contextmanager
def restored(targets: list[tuple[Any, str]]) -> Iterator[None]:
    """Put back each `owner.name` afterwards, whatever the block wrapped it with."""
    originals = [(owner, name, getattr(owner, name)) for owner, name in targets]
    try:
        yield
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def grade_batch(
    source: Path, outdir: Path, rubric: Path, workers: int, warm: bool
) -> tuple[float, Stopwatch]:
    """Run `grader batch`; its wall time, and the batch process's own items."""
    watch = Stopwatch()
    targets = [
        (batch_run.WorkerPool, "wait_ready"),
        (batch_run, "write_outputs"),
        (Batch, "_record"),
        (batch_run, "check_rubric"),
        (batch_run, "read_export"),
    ]
    with restored(targets):
        watch.wrap(batch_run.WorkerPool, "wait_ready", "waiting for the workers to start")
        watch.wrap(batch_run, "write_outputs", "grades.csv and report.html")
        watch.wrap(Batch, "_record", "results.json and gradebook writes")
        watch.wrap(batch_run, "check_rubric", "validating the rubric")
        watch.wrap(batch_run, "read_export", "reading the export")
        began = time.perf_counter()
        Batch(
            BatchOptions(rubric=rubric, source=source, outdir=outdir, workers=workers, warm=warm)
        ).run()
        seconds = time.perf_counter() - began
    return seconds, watch


def breakdown(rubric: Path, source: Path, sample: int) -> tuple[Stopwatch, int, float]:
    """Grade `sample` submissions of the class in this process as one worker does, with every
    item timed; the stopwatch, how many were graded, and the wall time they took."""
    loaded = load_rubric(rubric)
    reference = reference_module.load_reference(loaded.reference_path)
    launcher, _ = zygote.warm_launcher(tuple(loaded.rubric.submission.preload))
    engine = engine_module.Engine(loaded, reference, launcher=launcher, one_child_at_a_time=False)
    folders = sorted(p for p in source.iterdir() if p.is_dir())
    for folder in folders[:3]:  # a worker's first submissions warm its trusted side once
        batch_workers.grade_task(engine, {"submission_id": folder.name, "path": str(folder)})
    watch = Stopwatch()
    custom = "custom tests (their own code)"

    _in_custom = [False]

    def request_category() -> str:
        return "custom tests' requests" if _in_custom[0] else "requests"

    original_custom = engine_module.run_custom_tests

    def custom_tests(*args: Any, **kwargs: Any) -> Any:
        _in_custom[0] = True
        try:
            with watch.timing(custom):
                return original_custom(*args, **kwargs)
        finally:
            _in_custom[0] = False

    original_function = reference_module.ReferenceModule.function

    def function(self: Any, name: str, *, field: str) -> Callable[..., Any]:
        found = original_function(self, name, field=field)

        def timed(*args: Any, **kwargs: Any) -> Any:
            with watch.timing("reference work (answers, cases, mistakes)"):
                return found(*args, **kwargs)

        return timed

    targets = [
        (engine_module.Engine, "grade"),
        (runner.SandboxSession, "start"),
        (runner.SandboxSession, "request"),
        (zygote.Zygote, "launch"),
        (gradescope_json, "to_gradescope"),
        (batch_workers, "grade_task"),
        (engine_module, "run_custom_tests"),
        (reference_module.ReferenceModule, "function"),
    ]
    with restored(targets):
        watch.wrap(batch_workers, "grade_task", "staging the submission, building the reply")
        watch.wrap(engine_module.Engine, "grade", "judging and bookkeeping (engine)")
        watch.wrap(runner.SandboxSession, "start", "child start: layers, import of the submission")
        watch.wrap(zygote.Zygote, "launch", "fork a child")
        watch.wrap(runner.SandboxSession, "request", request_category)
        watch.wrap(gradescope_json, "to_gradescope", "results (results.json form)")
        engine_module.run_custom_tests = custom_tests  # type: ignore[assignment]
        reference_module.ReferenceModule.function = function  # type: ignore[method-assign]
        chosen = folders[:: max(len(folders) // sample, 1)][:sample]
        began = time.perf_counter()
        for folder in chosen:
            reply = batch_workers.grade_task(
                engine, {"submission_id": folder.name, "path": str(folder)}
            )
            with watch.timing("reply encoding (worker to batch)"):
                json.dumps(batch_workers.valid_text(reply)).encode()
        wall = time.perf_counter() - began
    if isinstance(launcher, zygote.Zygote):
        launcher.close()
    return watch, len(chosen), wall


def floor_seconds(preload: tuple[str, ...], requests: int, children: int, repeat: int) -> float:
    """Per submission: `children` children forked from a zygote with `preload`, importing a
    one-line module and answering `requests` trivial requests between them."""
    launcher, _ = zygote.warm_launcher(preload)
    folder = Path(tempfile.mkdtemp(prefix="grader-floor-"))
    (folder / "answers.py").write_text("VALUE = 1.5\n")
    try:
        times = []
        for _ in range(repeat):
            began = time.perf_counter()
            for child in range(children):
                share = requests // children + (child < requests % children)
                with runner.SandboxSession(
                    folder, "answers.py", SandboxLimits(), launcher=launcher
                ) as session:
                    session.start()
                    for _ in range(share):
                        session.value("VALUE", 5.0)
            times.append(time.perf_counter() - began)
        return statistics.median(times)
    finally:
        if isinstance(launcher, zygote.Zygote):
            launcher.close()
        shutil.rmtree(folder, ignore_errors=True)


def print_breakdown(watch: Stopwatch, graded: int, wall: float) -> None:
    print(f"per submission, one worker, {graded} submissions ({wall / graded * 1000:.0f} ms each):")
    for category, seconds in watch.seconds.most_common():
        calls = watch.calls[category] / graded
        print(f"  {seconds / graded * 1000:7.1f} ms  {category} ({calls:.1f} calls)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--assignment", choices=sorted(MIXES), default="hw2")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--sample", type=int, default=40, help="submissions in the breakdown")
    parser.add_argument("--slow", action="store_true", help="include 5%% slow submissions")
    parser.add_argument(
        "--cold", action="store_true", help="also grade with a fresh interpreter per child"
    )
    args = parser.parse_args()
    rubric = REPO / "rubrics" / f"{args.assignment}.yaml"
    bare = bare_start_seconds()
    print(f"machine: {os.cpu_count()} cores, {args.workers} workers; load {os.getloadavg()}")
    print(f"bare `python -c 'import numpy, torch'`: {bare * 1000:.0f} ms")
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as folder:
        source = Path(folder) / "export"
        source.mkdir()
        kinds = build_class(source, args.assignment, args.count, args.slow)
        print(
            f"class ({args.assignment}): {args.count} submissions: "
            + ", ".join(f"{n} {kind}" for kind, n in kinds.items())
        )
        modes = [("warm (zygote)", True)] + (
            [("cold (fresh interpreter per child)", False)] if args.cold else []
        )
        for label, warm in modes:
            outdir = Path(folder) / f"out-{warm}"
            seconds, watch = grade_batch(source, outdir, rubric, args.workers, warm)
            rate = args.count / seconds
            per_submission = seconds * args.workers / args.count
            print(
                f"{label}: {seconds:.1f} s for {args.count} = {rate:.1f} submissions/s; "
                f"{per_submission * 1000:.0f} ms per submission per worker"
            )
            for category, spent in watch.seconds.most_common():
                print(f"  batch process: {spent * 1000:7.0f} ms  {category}")
            print(
                f"  vs one fresh interpreter per submission on {args.workers} workers "
                f"({args.workers / bare:.2f} submissions/s at best): "
                f"{rate / (args.workers / bare):.1f}x the throughput; "
                f"vs one at a time ({1 / bare:.2f}/s): {rate * bare:.1f}x"
            )
            rerun, _ = grade_batch(source, outdir, rubric, args.workers, warm)
            print(f"  rerun with nothing changed: {rerun:.2f} s")
        watch, graded, wall = breakdown(rubric, source, args.sample)
        print_breakdown(watch, graded, wall)
        requests = round((watch.calls["requests"] + watch.calls["custom tests' requests"]) / graded)
        floor = floor_seconds(
            tuple(load_rubric(rubric).rubric.submission.preload), requests, 2, repeat=9
        )
        print(
            f"floor: two forked children answering {requests} trivial requests: "
            f"{floor * 1000:.0f} ms per submission; a submission costs "
            f"{wall / graded / floor:.1f}x that in the breakdown, "
            f"{seconds * args.workers / args.count / floor:.1f}x in the batch"
        )


if __name__ == "__main__":
    main()
