"""The zygote: sandboxed children forked from one warm interpreter, real processes throughout.

One zygote (numpy and torch preloaded) is shared by the module; each test grades a tiny student
module through SandboxSession(launcher=zygote). Work folders are made directly in the system
temporary folder, not in pytest's tmp_path: that lies under a 0700 folder the sandbox user cannot
enter, so as root the plan would drop the uid switch (see plan.build_plan), and the children
here must get every layer a real grading gets.
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from machine import alive, wait_until

from grader.sandbox.plan import SandboxLimits
from grader.sandbox.runner import SandboxSession, child_environment
from grader.sandbox.zygote import Zygote

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(
        sys.platform != "linux" or not hasattr(os, "pidfd_open"),
        reason="the zygote needs Linux pidfds",
    ),
]

PRELOAD = ("numpy", "torch")
TIMEOUT = 10.0
SANDBOX_LAYERS = ("namespaces", "uid", "landlock", "seccomp")
SIGNAL_SYSCALLS = {
    "x86_64": {"rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297},
    "aarch64": {"rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240},
}


def make_workdir() -> Path:
    """A fresh work folder whose parent every user may enter (mkdtemp makes it 0700)."""
    return Path(tempfile.mkdtemp(prefix="grader-zygote-test-"))


@pytest.fixture(scope="module")
def zygote(interpreter_reachable: dict[str, int]) -> Iterator[Zygote]:
    """The module's zygote, started once; tests that kill it leave it to restart itself."""
    with Zygote(PRELOAD) as warm:
        warm.start()
        yield warm


@pytest.fixture
def workdir() -> Iterator[Callable[[], Path]]:
    """workdir() makes one more work folder for this test; all are removed after it."""
    made: list[Path] = []

    def make() -> Path:
        made.append(make_workdir())
        return made[-1]

    yield make
    for folder in made:
        shutil.rmtree(folder, ignore_errors=True)


def session_for(folder: Path, source: str, launcher: Any, **limits: Any) -> SandboxSession:
    (folder / "sub.py").write_text(textwrap.dedent(source))
    return SandboxSession(folder, "sub.py", SandboxLimits(**limits), launcher=launcher)


def layer_report(launcher: Any) -> dict[str, Any]:
    folder = make_workdir()
    try:
        with session_for(folder, "VALUE = 1\n", launcher) as session:
            assert session.start().ok
            return session.layers
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def forked_layers(zygote: Zygote) -> dict[str, Any]:
    """The layer report of a child forked by the zygote."""
    return layer_report(zygote)


def skip_unless_applied(layers: dict[str, Any], layer: str) -> None:
    if layer in layers["unavailable"]:
        pytest.skip(f"{layer} is unavailable on this machine: {layers['unavailable'][layer]}")


def is_applied(layers: dict[str, Any], layer: str) -> bool:
    if layer == "seccomp":
        return any(entry.startswith("seccomp:") for entry in layers["applied"])
    return layer in layers["isolating"]


# --- the zygote itself -----------------------------------------------------------------------


def test_the_zygote_preloads_numpy_and_torch(zygote):
    assert zygote.status["loaded"] == ["numpy", "torch"]
    assert zygote.status["failed"] == {}


def test_the_zygote_warms_up_the_libraries_it_preloads(zygote):
    assert zygote.status["warmed"] == ["numpy", "torch"]
    assert zygote.status["warm_up_failed"] == {}


def test_the_zygote_is_single_threaded_after_its_imports_and_warm_ups(zygote):
    assert zygote.status["threads"] == 1


def test_a_child_inherits_the_modules_a_first_optimizer_step_imports(zygote, workdir):
    # torch imports its compiler stack (about a second) on the first optimizer created; the
    # zygote's warm-up has, so no child pays it.
    with session_for(
        workdir(),
        """
        import sys
        ALREADY = "torch._dynamo" in sys.modules
    """,
        zygote,
    ) as session:
        assert session.value("ALREADY", TIMEOUT).value is True


def test_a_forked_child_runs_torch_with_one_thread(zygote, workdir):
    with session_for(
        workdir(),
        """
        import torch
        THREADS = torch.get_num_threads()
    """,
        zygote,
    ) as session:
        assert session.value("THREADS", TIMEOUT).value == 1


def test_a_child_is_forked_by_the_zygote_in_a_session_of_its_own(zygote, workdir):
    with session_for(
        workdir(),
        """
        import os
        def ids():
            return [os.getppid(), os.getpid(), os.getsid(0)]
    """,
        zygote,
    ) as session:
        parent, pid, sid = session.call("ids", [], TIMEOUT).value
    assert parent == zygote.process.pid
    assert sid == pid


# --- every sandbox layer in every forked child -----------------------------------------------


def test_a_forked_child_applies_the_same_layers_as_a_fresh_interpreter(forked_layers):
    fresh = layer_report(None)
    assert forked_layers["applied"] == fresh["applied"]
    assert forked_layers["unavailable"].keys() == fresh["unavailable"].keys()
    assert forked_layers["isolating"] == fresh["isolating"]


@pytest.mark.parametrize("layer", SANDBOX_LAYERS)
def test_a_forked_child_applies_each_available_layer(forked_layers, layer):
    skip_unless_applied(forked_layers, layer)
    assert is_applied(forked_layers, layer)


def test_a_forked_child_sees_only_its_own_scrubbed_environment(zygote, workdir):
    folder = workdir()
    with session_for(
        folder,
        """
        import os
        ENV = dict(os.environ)
    """,
        zygote,
    ) as session:
        env = session.value("ENV", TIMEOUT).value
    assert env == child_environment(folder.resolve())


def test_a_forked_child_cannot_open_a_socket(zygote, workdir, forked_layers):
    skip_unless_applied(forked_layers, "seccomp")
    with session_for(
        workdir(),
        """
        import socket
        def connect():
            socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            return "opened"
    """,
        zygote,
    ) as session:
        reply = session.call("connect", [], TIMEOUT)
    assert reply.status == "exception" and reply.error_type == "PermissionError"


def test_a_forked_child_cannot_read_a_world_readable_file_outside_its_work_folder(
    zygote, workdir, forked_layers
):
    skip_unless_applied(forked_layers, "landlock")
    elsewhere = workdir()
    elsewhere.chmod(0o755)
    secret = elsewhere / "secret.txt"
    secret.write_text("not for students")
    secret.chmod(0o644)  # only Landlock stands between the sandbox user and this file
    with session_for(
        workdir(),
        """
        def read(path):
            with open(path) as file:
                return file.read()
    """,
        zygote,
    ) as session:
        reply = session.call("read", [str(secret)], TIMEOUT)
    assert reply.status == "exception" and reply.error_type == "PermissionError"


# --- nothing shared between children ---------------------------------------------------------


def test_the_submission_finds_the_preloaded_modules_already_imported(zygote, workdir):
    with session_for(
        workdir(),
        """
        import sys
        PRELOADED = [name for name in ("numpy", "torch") if name in sys.modules]
        import numpy, torch
    """,
        zygote,
    ) as session:
        assert session.start().ok
        assert session.value("PRELOADED", TIMEOUT).value == ["numpy", "torch"]


def test_a_global_left_in_a_preloaded_module_does_not_reach_the_next_child(zygote, workdir):
    source = """
        import numpy
        def leave():
            numpy._left_behind = "secret"
            return hasattr(numpy, "_left_behind")
        def found():
            return hasattr(numpy, "_left_behind")
    """
    with session_for(workdir(), source, zygote) as first:
        assert first.call("leave", [], TIMEOUT).value is True
        with session_for(workdir(), source, zygote) as second:
            assert second.call("found", [], TIMEOUT).value is False


@pytest.mark.parametrize("draw", ["numpy.random.rand()", "torch.rand(1).item()", "random.random()"])
def test_two_children_draw_different_random_numbers(zygote, workdir, draw):
    source = f"""
        import random, numpy, torch
        def draw():
            return float({draw})
    """
    draws = []
    for _ in range(2):
        with session_for(workdir(), source, zygote) as session:
            draws.append(session.call("draw", [], TIMEOUT).value)
    assert isinstance(draws[0], float) and draws[0] != draws[1]


# --- memory: the preloaded libraries are not the student's allocation ------------------------

ALLOCATE = """
    import numpy, torch
    def allocate(megabytes):
        return len(bytearray(megabytes << 20))
"""


def test_a_child_may_allocate_most_of_its_memory_limit_beside_the_preloaded_libraries(
    zygote, workdir
):
    with session_for(workdir(), ALLOCATE, zygote, memory_mb=256) as session:
        reply = session.call("allocate", [150], TIMEOUT)
    assert reply.status == "ok" and reply.value == 150 << 20


def test_a_child_cannot_allocate_far_beyond_its_memory_limit(zygote, workdir):
    with session_for(workdir(), ALLOCATE, zygote, memory_mb=256) as session:
        reply = session.call("allocate", [400], TIMEOUT)
    assert reply.status == "exception" and reply.error_type == "MemoryError"


# --- crashes, signals and a dying zygote -----------------------------------------------------

SELF_KILL = """
    import os, signal
    def die():
        os.kill(os.getpid(), signal.SIGKILL)
    def fine():
        return 42
"""


def test_a_child_killed_by_a_signal_is_reported_as_crashed_with_the_signal_name(zygote, workdir):
    with session_for(workdir(), SELF_KILL, zygote) as session:
        reply = session.call("die", [], TIMEOUT)
    assert reply.status == "crashed"
    assert "killed by signal SIGKILL" in reply.message


def test_after_a_crash_the_next_request_gets_a_newly_forked_child(zygote, workdir):
    with session_for(workdir(), SELF_KILL, zygote) as session:
        assert session.call("die", [], TIMEOUT).status == "crashed"
        assert session.call("fine", [], TIMEOUT).value == 42
        assert session.starts == 2


def test_a_child_cannot_signal_its_zygote(zygote, workdir):
    with session_for(
        workdir(),
        """
        import os, signal
        def kill_parent():
            os.kill(os.getppid(), signal.SIGKILL)
            return "sent"
    """,
        zygote,
    ) as session:
        assert session.start().ok
        pid = zygote.process.pid
        reply = session.call("kill_parent", [], TIMEOUT)
    assert reply.status == "exception" and reply.error_type == "PermissionError"
    assert zygote.alive and zygote.process.pid == pid


QUEUE_SIGNALS = """
    import ctypes, os, signal
    libc = ctypes.CDLL(None, use_errno=True)

    def outcome(result):
        return "delivered" if result == 0 else os.strerror(ctypes.get_errno())

    def probe(numbers):
        # Signal 0 only checks permission: "delivered" means any signal would have been.
        target, siginfo = os.getppid(), (ctypes.c_int * 32)(0, 0, -1)  # si_code SI_QUEUE
        found = {}
        try:
            os.kill(target, 0)
            found["kill"] = "delivered"
        except OSError as error:
            found["kill"] = os.strerror(error.errno)
        found["rt_sigqueueinfo"] = outcome(
            libc.syscall(numbers["rt_sigqueueinfo"], target, 0, siginfo))
        found["rt_tgsigqueueinfo"] = outcome(
            libc.syscall(numbers["rt_tgsigqueueinfo"], target, target, 0, siginfo))
        return found
"""


def test_seccomp_alone_keeps_a_child_from_signalling_its_zygote(
    zygote, workdir, forked_layers, monkeypatch
):
    skip_unless_applied(forked_layers, "seccomp")
    numbers = SIGNAL_SYSCALLS.get(platform.machine())
    if numbers is None:
        pytest.skip(f"no signal system call numbers for {platform.machine()}")
    monkeypatch.setenv("GRADER_SANDBOX_DISABLE", "uid,landlock")
    with session_for(workdir(), QUEUE_SIGNALS, zygote) as session:
        reply = session.call("probe", [numbers], TIMEOUT)
    assert reply.value == {
        name: os.strerror(1) for name in ("kill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")
    }


def test_a_child_dies_with_its_zygote(zygote, workdir):
    with session_for(workdir(), "VALUE = 1\n", zygote) as session:
        assert session.start().ok
        child = session.child.process.pid
        zygote.process.kill()
        zygote.process.wait()
        assert wait_until(lambda: not alive(child), 5)


def test_a_dead_zygote_is_restarted_by_the_next_launch(zygote, workdir):
    if zygote.alive:
        zygote.process.kill()
        zygote.process.wait()
    dead = zygote.process.pid
    with session_for(
        workdir(),
        """
        import os
        def parent():
            return os.getppid()
    """,
        zygote,
    ) as session:
        reply = session.call("parent", [], TIMEOUT)
    assert zygote.alive and reply.value == zygote.process.pid != dead


def test_a_zygote_spawned_before_its_preload_list_imports_the_list_sent_later(
    interpreter_reachable, workdir
):
    with Zygote(None) as early:
        early.spawn()
        early.load(("fractions",))  # a module nothing else the zygote runs imports
        assert early.wait_ready()["loaded"] == ["fractions"]
        source = "import sys\nPRELOADED = 'fractions' in sys.modules\n"
        with session_for(workdir(), source, early) as session:
            assert session.value("PRELOADED", TIMEOUT).value is True


def test_a_zygote_waiting_for_its_preload_list_ends_when_its_grader_closes(interpreter_reachable):
    early = Zygote(None)
    early.spawn()
    assert early.process is not None and early.control is not None
    early.control.shutdown(socket.SHUT_RDWR)
    assert early.process.wait(timeout=TIMEOUT) == 0
    early.close()
