"""A real Dask cluster on 127.0.0.1 for the tests and the benchmark: `dask scheduler` and
`dask worker` processes (each worker with its nanny, one process, one thread), on free ports,
each in its own session so that a test can kill a worker and everything it started at once."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from distributed import Client

HOST = "127.0.0.1"
START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class DaskProcesses:
    """One scheduler and any number of named workers, all on 127.0.0.1."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.address = f"tcp://{HOST}:{free_port()}"
        self.scheduler = self._start(
            "scheduler", ["scheduler", "--host", HOST, "--port", self.address.rsplit(":", 1)[1]]
        )
        self.workers: dict[str, subprocess.Popen[bytes]] = {}

    def _start(
        self, log: str, arguments: list[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        with open(self.folder / f"{log}.log", "ab") as output:
            return subprocess.Popen(
                [sys.executable, "-m", "dask", *arguments, "--no-dashboard"],
                stdout=output,
                stderr=output,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, **(env or {})},
            )

    def add_worker(
        self, name: str, *, memory_limit: str = "4GiB", env: dict[str, str] | None = None
    ) -> None:
        """Start `dask worker` (nanny and worker) with one process of one thread; returns at
        once (see wait_for)."""
        self.workers[name] = self._start(
            f"worker-{name}",
            [
                "worker",
                self.address,
                "--host",
                HOST,
                "--name",
                name,
                "--nworkers",
                "1",
                "--nthreads",
                "1",
                "--memory-limit",
                memory_limit,
                "--local-directory",
                str(self.folder / f"scratch-{name}"),
                "--death-timeout",
                "60",  # a worker left behind by a crashed test ends on its own
            ],
            env,
        )

    def wait_for(self, *names: str) -> None:
        """Wait until exactly these workers are connected."""
        deadline = time.monotonic() + START_TIMEOUT
        with Client(self.address, timeout=START_TIMEOUT, set_as_default=False) as client:
            while True:
                connected = {
                    w["name"] for w in client.scheduler_info(n_workers=-1)["workers"].values()
                }
                if connected == set(names):
                    return
                for name in names:
                    if self.workers[name].poll() is not None:
                        raise RuntimeError(f"dask worker {name} exited; see {self.folder}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"workers {names} did not connect; have {connected}")
                time.sleep(0.2)

    def kill_worker(self, name: str) -> None:
        """SIGKILL the worker's nanny and worker process (a machine that disappears); what
        they started dies with them."""
        process = self.workers.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop_worker(self, name: str) -> None:
        process = self.workers.pop(name)
        _stop(process)

    def close(self) -> None:
        for name in list(self.workers):
            self.stop_worker(name)
        _stop(self.scheduler)


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
