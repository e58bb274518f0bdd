"""`grader batch --cluster ADDRESS`: the same batch, graded on the workers of a Dask cluster.

The local pool (workers.py) stays the default; this is a second executor with the same four
calls (`spawn`, `wait_ready`, `run`, `close`) for classes that outgrow one machine.

What runs where:
- The client (the `grader batch` process) reads the export, decides what to grade and is the
  only writer of the gradebook and the outputs, exactly as with the local pool.
- Each Dask worker process gets a `GradingPlugin` once: the course's files (rubric, reference
  module and the Python files beside it, custom tests, harness) as bytes, with their
  fingerprint (run.grading_fingerprint), which the worker recomputes from what it wrote and must
  match. The plugin then starts, per worker thread, the same warm grading worker the local pool
  starts (`python -m grader.batch.workers`, with its zygote) and probes the machine's sandbox
  layers. As everywhere, each sandboxed child's session claims a uid no other grading process
  on that machine holds (sandbox.identities). A worker
  that cannot grade (its strict policy found no isolating layer, its fingerprint differs, the
  children's memory caps would not fit under its memory limit) says why and does not take
  tasks: only workers whose plugin is ready hold the Dask resource the tasks ask for.
- A task carries one submission as its files' bytes and returns the grading worker's reply as
  a JSON text. Student code runs only in the sandboxed children of the grading worker, never
  in the Dask worker process.

On pickling: Dask's comm pickles task arguments, results and plugins between the client, the
scheduler and the workers, and unpickles what its peers send; it trusts them. What crosses
here is only plain data the grader itself built in trusted processes: the plugin's file bytes
and settings, a JSON text, (name, bytes) pairs, and a JSON text back. No object a submission
produced is ever pickled: what its code returned was decoded from the sandbox's data-only wire
by the grading worker, and its grade travels inside a JSON text, a str, whose unpickling builds
a str and nothing else; the client then parses it as JSON. Task failures are turned into such
replies on the worker, so the only exceptions unpickled here are Dask's own (KilledWorker). A
Dask network must still be private (or use TLS with certificates): anyone who can talk to the
scheduler can run code on every worker.

Exactly once: a submission is recorded when its future completes, and a future completes once
(a result lost with the worker holding it is computed again by Dask, and still recorded once).
A worker that dies mid-task has its tasks rescheduled by Dask on the others (after
`distributed.scheduler.allowed-failures` deaths it fails with KilledWorker, recorded as
internal_error, which a rerun grades again). Killing the client loses nothing recorded, and the
rerun skips it as with the local pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import queue
import shutil
import tempfile
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from distributed import Client, Future, get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from grader import __version__
from grader.batch.workers import Task, WorkerConfig, WorkerPool
from grader.errors import GraderInputError
from grader.rubric.model import LoadedRubric
from grader.sandbox.plan import Protected
from grader.sandbox.probe import Diagnosis, diagnose

CLUSTER_ENV = "GRADER_DASK_CLUSTER"
CONNECT_TIMEOUT = 30.0
START_TIMEOUT = 300.0
NO_WORKER_TIMEOUT = 300.0
"""How long a batch waits with tasks left and no worker able to grade them before it stops
(what was graded stays in the gradebook; a rerun continues)."""
WATCH_INTERVAL = 5.0
ABSENT_GRACE = 30.0
"""How long a worker may show no plugin at all (it joined mid-registration) before it is
reported as unable to grade."""
MIB = 1 << 20


class ClusterError(GraderInputError):
    """The cluster cannot grade this batch at all: unreachable, or no worker able to."""


# --- the course, shipped once per worker ----------------------------------------------------


@dataclass(frozen=True)
class CourseBundle:
    """The course's files as bytes under paths that keep their layout, and their digest."""

    files: tuple[tuple[str, bytes], ...]
    rubric: str
    """The rubric's path among `files`."""
    fingerprint: str
    grader_version: str


def course_bundle(loaded: LoadedRubric, fingerprint: str) -> CourseBundle:
    """The rubric, every file it names and the Python files beside its reference module (which
    it may import), relative to their common folder."""
    named = [loaded.path, loaded.reference_path]
    if loaded.harness_path is not None:
        named.append(loaded.harness_path)
    named += [loaded.custom_test_path(tests) for tests in loaded.rubric.custom_tests]
    named += sorted(loaded.reference_path.parent.glob("*.py"))
    named = [path for path in dict.fromkeys(named) if path.is_file()]
    base = Path(os.path.commonpath([path.parent for path in named]))
    return CourseBundle(
        files=tuple((path.relative_to(base).as_posix(), path.read_bytes()) for path in named),
        rubric=loaded.path.relative_to(base).as_posix(),
        fingerprint=fingerprint,
        grader_version=__version__,
    )


def plugin_name(fingerprint: str, config: WorkerConfig) -> str:
    """One plugin (and one Dask resource) per course and grading settings: a rerun of the same
    batch finds its workers warm; another course's batch gets workers of its own."""
    settings = json.dumps([fingerprint, config.policy, list(config.preload), config.warm])
    return f"grader-{hashlib.sha256(settings.encode()).hexdigest()[:16]}"


def _safe_relative(name: str) -> PurePosixPath:
    """A path from the client, checked to stay inside the folder it is written to."""
    path = PurePosixPath(name)
    if path.is_absolute() or not path.parts or any(p in ("", ".", "..") for p in path.parts):
        raise ValueError(f"refusing the path {name!r}")
    return path


def write_files(folder: Path, files: Iterable[tuple[str, bytes]]) -> None:
    for name, data in files:
        target = folder.joinpath(*_safe_relative(name).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as handle:
            handle.write(data)


def submission_files(path: Path) -> list[tuple[str, bytes]]:
    """A submission as it travels: (relative name, bytes) of each regular file (links not
    followed), the same files its content hash covers."""
    if path.is_file():
        return [(path.name, path.read_bytes())]
    return [
        (file.relative_to(path).as_posix(), file.read_bytes())
        for file in sorted(path.rglob("*"))
        if file.is_file() and not file.is_symlink()
    ]


# --- the worker side ------------------------------------------------------------------------


def _layers_line(diagnosis: Diagnosis) -> str:
    return f"isolating layers: {', '.join(diagnosis.isolating) or 'none'}"


class _Slot:
    """One grading worker (a local pool of one) and the thread that starts, feeds and replaces
    it. Its own thread, because a grading worker is armed to die with the thread that started
    it (PR_SET_PDEATHSIG follows the thread), and Dask's task threads may come and go."""

    def __init__(self, pool: WorkerPool) -> None:
        self.pool = pool
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="grader-slot")

    def start(self) -> str:
        self.pool.spawn()
        return self.pool.wait_ready()[0]

    def close(self) -> None:
        self.pool.close()
        self.thread.shutdown(wait=False)


class GradingPlugin(WorkerPlugin):
    """Installed on every Dask worker of the cluster (present and future) by the client.

    Setup (in a thread, off the worker's event loop) writes the course, checks its fingerprint
    and the memory caps, probes the sandbox layers and starts one warm
    grading worker per Dask thread; then it offers the Dask resource `name`, one unit per
    thread. It never raises: a worker that cannot grade reports why in `state`."""

    idempotent = True
    """Registering it again (a rerun after a killed client) keeps the workers warm."""

    def __init__(self, name: str, bundle: CourseBundle, config: WorkerConfig) -> None:
        self.name = name
        self.bundle = bundle
        self.config = config
        self.state: dict[str, Any] = {"status": "starting"}
        self.worker_name = ""
        self.folder: Path | None = None
        self.slots: list[_Slot] = []
        self.free: queue.Queue[_Slot] = queue.Queue()
        self.closed = False

    def __getstate__(self) -> dict[str, Any]:
        """What travels to the workers: the course and the settings, plain data only."""
        return {"name": self.name, "bundle": self.bundle, "config": self.config}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["name"], state["bundle"], state["config"])  # type: ignore[misc]

    async def setup(self, worker: Any) -> None:
        from distributed.core import Status

        self.worker_name = str(worker.name)
        slots = max(1, int(worker.state.nthreads))
        memory_limit = worker.memory_manager.memory_limit
        self.state = {"status": "starting", "worker": self.worker_name, "slots": slots}
        await asyncio.to_thread(self._start, slots, memory_limit, Path(worker.local_directory))
        if self.state["status"] == "ready":
            await worker.set_resources(**{self.name: slots})
            if worker.status == Status.running:
                # The scheduler looks again at tasks no worker could run (all died, say) only
                # when a worker joins or returns to running, not when one gains a resource:
                # tell it this worker can now run ours.
                worker.status = Status.paused
                worker.status = Status.running

    async def teardown(self, worker: Any) -> None:
        with contextlib.suppress(Exception):
            await worker.set_resources(**{self.name: 0})
        await asyncio.to_thread(self._stop)

    def _start(self, slots: int, memory_limit: int | None, local_directory: Path) -> None:
        try:
            self.state.update(self._prepare(slots, memory_limit, local_directory))
        except Exception:
            self.state.update(status="failed", detail=traceback.format_exc(limit=6))
        if self.state["status"] != "ready":
            self._stop()

    def _prepare(
        self, slots: int, memory_limit: int | None, local_directory: Path
    ) -> dict[str, Any]:
        from grader.batch.run import grading_fingerprint
        from grader.rubric.model import load_rubric

        if self.bundle.grader_version != __version__:
            return {
                "status": "refused",
                "detail": f"this worker has grader {__version__}, the client "
                f"{self.bundle.grader_version}: install the same grader on every machine",
            }
        # The course (answers included) in a folder only this user can read; inside the Dask
        # worker's own directory, which Dask removes when a dead worker's successor starts.
        local_directory.mkdir(parents=True, exist_ok=True)
        self.folder = Path(tempfile.mkdtemp(prefix="grader-course-", dir=local_directory))
        write_files(self.folder / "course", self.bundle.files)
        rubric_path = self.folder / "course" / self.bundle.rubric
        loaded = load_rubric(rubric_path)
        fingerprint = grading_fingerprint(loaded)
        if fingerprint != self.bundle.fingerprint:
            return {
                "status": "refused",
                "detail": f"the course's fingerprint here is {fingerprint[:12]}, the client's "
                f"{self.bundle.fingerprint[:12]}: the files changed on the way",
            }
        per_thread = 2 if self.config.warm else 1  # a visible and a hidden child at once
        memory_mb = loaded.rubric.limits.memory_mb
        children = slots * per_thread * memory_mb * MIB
        if memory_limit and children >= memory_limit:
            return {
                "status": "refused",
                "detail": f"the sandboxed children may use {children // MIB} MiB ({slots} "
                f"thread(s) x {per_thread} children x the rubric's memory_mb {memory_mb}), not "
                f"below this worker's memory limit of {memory_limit // MIB} MiB: give the "
                "worker more memory (--memory-limit) or fewer threads",
            }
        probe = diagnose(self.config.policy)
        layers = {"layers": _layers_line(probe), "applied": probe.applied}
        if probe.refused:
            return {"status": "refused", "detail": probe.refused, **layers}
        # What no child may reach here: this plugin's folder (the course, and every student's
        # submission staged for grading). The client's own paths mean nothing on this machine.
        config = replace(
            self.config, rubric=str(rubric_path), protected=Protected(secret=(str(self.folder),))
        )
        self.slots = [
            _Slot(WorkerPool(config, 1, self.folder / "logs" / f"thread-{i}")) for i in range(slots)
        ]
        starts = [slot.thread.submit(slot.start) for slot in self.slots]
        launchers = [start.result() for start in starts]
        for slot in self.slots:
            self.free.put(slot)
        return {"status": "ready", "launcher": launchers[0], "detail": "", **layers}

    def _stop(self) -> None:
        self.closed = True
        for slot in self.slots:
            slot.close()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def grade(self, task: dict[str, Any], files: list[tuple[str, bytes]]) -> dict[str, Any]:
        """Grade one submission with a free grading worker of this Dask worker."""
        if self.state.get("status") != "ready" or self.folder is None:
            return {
                "error": "internal_error",
                "detail": f"the Dask worker {self.worker_name} cannot grade: "
                f"{self.state.get('detail') or self.state.get('status')}",
            }
        started = time.monotonic()
        staged = self.folder / "submissions" / uuid.uuid4().hex
        staged.mkdir(parents=True, mode=0o700)
        slot = self.free.get()
        replies: list[dict[str, Any]] = []
        try:
            write_files(staged, files)
            path = staged / files[0][0] if task["single_file"] else staged
            slot.thread.submit(
                slot.pool.run,
                [Task(task["submission_id"], str(path))],
                float(task["timeout"]),
                lambda _task, reply, _seconds: replies.append(reply),
            ).result()
        finally:
            if self.closed:  # torn down meanwhile: what the pool replaced must not linger
                slot.close()
            else:
                self.free.put(slot)
            shutil.rmtree(staged, ignore_errors=True)
        reply: dict[str, Any] = (
            replies[0] if replies else {"error": "internal_error", "detail": "no reply"}
        )
        reply["seconds"] = time.monotonic() - started
        return reply


def grade_on_worker(name: str, task_text: str, files: list[tuple[str, bytes]]) -> str:
    """The Dask task: grade one submission on this worker; the reply as JSON text, always (a
    failure is a reply, so nothing but plain data goes back)."""
    worker_name = ""
    try:
        worker = get_worker()
        worker_name = str(worker.name)
        plugin = worker.plugins.get(name)
        if not isinstance(plugin, GradingPlugin):
            reply = {"error": "internal_error", "detail": f"{worker_name} has no {name}"}
        else:
            reply = plugin.grade(json.loads(task_text), files)
    except Exception:
        reply = {"error": "internal_error", "detail": traceback.format_exc(limit=6)}
    reply["worker"] = worker_name
    return json.dumps(reply)


def plugin_state(name: str, dask_worker: Any = None) -> dict[str, Any]:
    """Run on each worker by the client: where its plugin stands."""
    plugin = dask_worker.plugins.get(name) if dask_worker is not None else None
    if not isinstance(plugin, GradingPlugin):
        return {"status": "absent", "worker": str(getattr(dask_worker, "name", ""))}
    return dict(plugin.state)


def diagnose_here(policy: str, dask_worker: Any = None) -> dict[str, Any]:
    """Run on each worker by `grader doctor --cluster`: the sandbox probe of its machine (its
    child as a uid of its own, as every grading's) and the worker's facts."""
    diagnosis = diagnose(policy)
    memory_limit = dask_worker.memory_manager.memory_limit if dask_worker is not None else None
    diagnosis.facts.update(
        {
            "dask worker": str(getattr(dask_worker, "name", "")),
            "threads": getattr(getattr(dask_worker, "state", None), "nthreads", "?"),
            "memory limit": f"{memory_limit // MIB} MiB" if memory_limit else "none",
            "grader": __version__,
        }
    )
    return asdict(diagnosis)


# --- the client side ------------------------------------------------------------------------


def connect(address: str) -> Client:
    """A client of the scheduler at `address` (tcp://HOST:8786, or tls:// with the
    certificates in Dask's configuration)."""
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, ValueError) as error:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {error}") from None


def cluster_diagnoses(address: str, policy: str) -> dict[str, Diagnosis]:
    """`grader doctor --cluster`: each worker's sandbox layers, probed on its own machine."""
    client = connect(address)
    try:
        results = client.run(diagnose_here, policy, on_error="return")
    finally:
        client.close()
    diagnoses = {}
    for address_, result in sorted(results.items()):
        if isinstance(result, dict):
            diagnoses[address_] = Diagnosis(**result)
        else:
            diagnoses[address_] = Diagnosis(policy, refused=f"the probe failed: {result!r}")
    return diagnoses


class DaskExecutor:
    """The client's side: the same calls as the local WorkerPool, over a Dask cluster."""

    def __init__(
        self, address: str, loaded: LoadedRubric, config: WorkerConfig, fingerprint: str
    ) -> None:
        self.address = address
        self.config = config
        self.bundle = course_bundle(loaded, fingerprint)
        self.name = plugin_name(fingerprint, config)
        self.client: Client | None = None
        self.count = 0
        self.launchers: list[str] = []
        self._registration: threading.Thread | None = None
        self._registration_error: BaseException | None = None

    def spawn(self) -> None:
        """Connect (failing at once if the scheduler cannot be reached), then install the
        plugin on every worker in the background while the caller reads the export."""
        self.client = connect(self.address)
        self.count = sum(self.client.nthreads().values())
        plugin = GradingPlugin(self.name, self.bundle, self.config)

        def register() -> None:
            assert self.client is not None
            try:
                self.client.register_plugin(plugin, name=self.name)
            except BaseException as error:
                self._registration_error = error

        self._registration = threading.Thread(target=register, daemon=True)
        self._registration.start()

    def _states(self) -> dict[str, dict[str, Any]]:
        assert self.client is not None
        states: dict[str, Any] = self.client.run(plugin_state, self.name, on_error="return")
        return {
            address: state
            if isinstance(state, dict)
            else {"status": "failed", "detail": str(state)}
            for address, state in states.items()
        }

    def wait_ready(self) -> list[str]:
        """Wait until every worker's plugin has started or said why it cannot; one line per
        worker. No worker able to grade is a broken setup: raise, with each worker's reason."""
        if self._registration is not None:
            self._registration.join()
        started = time.monotonic()
        while True:
            states = self._states()
            waiting = {"starting"} | (
                {"absent"} if time.monotonic() < started + ABSENT_GRACE else set()
            )
            if states and not any(s["status"] in waiting for s in states.values()):
                break
            if time.monotonic() > started + START_TIMEOUT:
                break
            time.sleep(0.2)
        # A worker that could not even load the plugin (no grader installed there, say) makes
        # the registration fail as a whole; the others grade, and the reason is listed.
        self.launchers = (
            [f"registration: {self._registration_error}"] if self._registration_error else []
        )
        for address, state in sorted(states.items(), key=lambda item: str(item[1].get("worker"))):
            label = state.get("worker") or address
            if state["status"] == "ready":
                self.launchers.append(f"{label}: {state['launcher']}; {state['layers']}")
            else:
                detail = state.get("detail", "").strip().splitlines()
                self.launchers.append(
                    f"{label}: {state['status']}: {detail[-1] if detail else 'no detail'}"
                )
        ready = [s for s in states.values() if s["status"] == "ready"]
        if not ready:
            raise ClusterError(
                f"no worker of the Dask cluster at {self.address} can grade:\n  "
                + "\n  ".join(self.launchers or ["it has no workers"])
            )
        self.count = sum(int(s["slots"]) for s in ready)
        return self.launchers

    def _slots(self) -> int:
        """Worker threads that can take this batch's tasks now."""
        assert self.client is not None
        workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
        return int(sum(w.get("resources", {}).get(self.name, 0) for w in workers))

    def run(
        self,
        tasks: Iterable[Task],
        timeout: float,
        on_result: Callable[[Task, dict[str, Any], float], None],
    ) -> None:
        """Grade every task on the cluster; `on_result` runs here, once per task, in
        completion order. A few tasks per thread are in flight at a time, so that the client
        holds only those submissions' bytes and a killed client leaves little to redo."""
        client = self.client
        assert client is not None
        pending = deque(tasks)
        running: dict[str, Task] = {}
        finished: queue.Queue[Future[str]] = queue.Queue()
        window = 4 * max(self.count, 1) + 4
        last_slot_seen = time.monotonic()

        def submit() -> None:
            while pending and len(running) < window:
                task = pending.popleft()
                path = Path(task.path)
                payload = json.dumps(
                    {
                        "submission_id": task.submission_id,
                        "timeout": timeout,
                        "single_file": path.is_file(),
                    }
                )
                key = f"grade-{hashlib.sha256(task.submission_id.encode()).hexdigest()[:12]}"
                future = client.submit(
                    grade_on_worker,
                    self.name,
                    payload,
                    submission_files(path),
                    key=f"{key}-{uuid.uuid4().hex[:8]}",
                    resources={self.name: 1},
                    pure=False,
                )
                running[str(future.key)] = task
                future.add_done_callback(finished.put)

        submit()
        while running:
            try:
                future = finished.get(timeout=WATCH_INTERVAL)
            except queue.Empty:
                slots = self._slots()
                if slots:
                    last_slot_seen = time.monotonic()
                    window = 4 * slots + 4
                    submit()
                elif time.monotonic() - last_slot_seen > NO_WORKER_TIMEOUT:
                    raise RuntimeError(
                        f"no Dask worker able to grade for {NO_WORKER_TIMEOUT:g} s; "
                        f"{len(running) + len(pending)} submissions left (rerun to continue)"
                    ) from None
                continue
            if future.status not in ("finished", "error", "cancelled"):
                # Its result was lost with the worker holding it (killed after the task ended):
                # Dask computes it again; wait for that.
                future.add_done_callback(finished.put)
                continue
            task = running.pop(str(future.key))
            reply, seconds = self._reply(future)
            future.release()
            submit()
            on_result(task, reply, seconds)

    @staticmethod
    def _reply(future: Future[str]) -> tuple[dict[str, Any], float]:
        if future.status == "finished":
            reply = json.loads(future.result())
            if not isinstance(reply, dict):
                raise TypeError("a Dask worker replied with something other than an object")
            return reply, float(reply.pop("seconds", 0.0))
        if future.status == "error":
            error = future.exception()
            if type(error).__name__ == "KilledWorker":
                detail = (
                    "the Dask workers grading it died each time (the scheduler's "
                    "allowed-failures was reached); rerun to retry"
                )
            else:
                detail = f"the Dask task failed: {error!r}"[:2000]
            return {"error": "internal_error", "detail": detail}, 0.0
        raise RuntimeError(f"lost the Dask scheduler ({future.status}); rerun to continue")

    def close(self) -> None:
        """Remove the plugin (the warm grading workers end) and disconnect."""
        if self.client is None:
            return
        if self._registration is not None:
            self._registration.join(timeout=START_TIMEOUT)
        with contextlib.suppress(Exception):
            self.client.unregister_worker_plugin(self.name)
        with contextlib.suppress(Exception):
            self.client.close()
        self.client = None
