"""How a batch shows its progress: a bar with throughput and ETA on a terminal, one plain line
per submission otherwise (a log file, CI, a pipe), so the output is useful either way."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TextIO

from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from grader.batch.run import Progress as Finished
from grader.outputs.safe_text import SafeConsole, terminal_safe

STATUS_STYLE = {"graded": "green", "timed_out": "yellow"}


def _score(finished: Finished) -> str:
    if finished.score is None:
        return "-"
    return f"{finished.score:.4g}/{finished.max_score or 0:g}"


class BatchDisplay:
    """Receives each finished submission from the batch; use as a context manager."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.console = SafeConsole(file=self.stream)
        self.interactive = self.console.is_terminal
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def __enter__(self) -> BatchDisplay:
        if self.interactive:
            self.bar = Progress(
                TextColumn("[bold]grading"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
                transient=False,
            )
            self.bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.bar is not None:
            self.bar.stop()

    def __call__(self, finished: Finished, done: int, total: int) -> None:
        if self.bar is None:
            print(
                terminal_safe(
                    f"[{done}/{total}] {finished.submission_id} ({finished.students}): "
                    f"{finished.status} {_score(finished)} in {finished.seconds:.2f} s"
                ),
                file=self.stream,
                flush=True,
            )
            return
        if self.task is None:
            self.task = self.bar.add_task("grading", total=total, rate="")
        elapsed = self.bar.tasks[0].elapsed or 0.0
        rate = f"{done / elapsed:.1f} sub/s" if elapsed > 0 else ""
        self.bar.update(self.task, completed=done, rate=rate)
        if finished.status != "graded":
            style = STATUS_STYLE.get(finished.status, "red")
            self.bar.console.print(
                f"[{style}]{escape(finished.status)}[/] {escape(finished.submission_id)} "
                f"({escape(finished.students)})",
                highlight=False,
            )
