"""Guarantee 4 (and 6, 7): exhausting a resource costs only the attacking question, within its
limits, and grading finishes.

The rubric's limits: call_timeout 3 s (question 2), 20 s for question 3 ("long attack"),
memory_mb 1024; the sandbox's own: 64 MB per file, 256 open files, 64 processes (RLIMIT_NPROC,
set only with the uid switch). Every attack is bounded so that a failing sandbox cannot take the
machine down: at most 3000 forks or threads, 6 GB of memory, a few GB written.
`attack` checks that the other questions keep the grader's scores (the control question stays
right), i.e. the attack cost only its own question.
"""

from __future__ import annotations

import pytest
from sectest_support import ALL_MODES, EXPENSIVE_MODES, WITHOUT_LANDLOCK, modes, processes_with

pytestmark = pytest.mark.sandbox

CALL_TIMEOUT = 3
SLACK = 8
"""Seconds of grader start-up and child restarts allowed on top of a time limit."""


def no_uid_switch_means(request, mode, reason: str) -> None:
    """Mark the test as an expected failure where the grader cannot switch uid."""
    if not mode.expects_uid_switch:
        request.applymarker(pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason))


@modes(*EXPENSIVE_MODES)
@pytest.mark.parametrize("kind", ["busy loop", "sleep"])
def test_a_function_that_never_returns_loses_its_question_after_the_time_limit(attack, kind):
    body = (
        "while True:\n                pass"
        if kind == "busy loop"
        else "import time\n            time.sleep(10 ** 6)"
    )
    run = attack(f"""
        def attack(x):
            {body}
    """)
    assert "time limit" in run.test("2")["output"]
    assert run.part("2")["status"] == "error"
    assert run.seconds < CALL_TIMEOUT + SLACK, run.describe()


@modes(*ALL_MODES)
def test_a_fork_bomb_starts_no_process(attack, stray_token):
    run = attack(
        """
        import ctypes
        import time

        def attack(x):
            started, first_error = 0, ""
            for _ in range(3000):  # bounded: a few thousand attempts, children only sleep
                try:
                    pid = os.fork()
                except OSError as error:
                    first_error = first_error or f"{type(error).__name__}: {error}"
                    continue
                if pid == 0:
                    ctypes.CDLL(None).prctl(15, $token.encode(), 0, 0, 0)  # PR_SET_NAME
                    time.sleep(20)
                    os._exit(0)
                started += 1
            return {"started": started, "error": first_error}
    """,
        values={"token": stray_token},
    )
    assert run.observation["started"] == 0, run.observation
    assert run.observation["error"].startswith("PermissionError"), run.observation
    assert processes_with(stray_token) == []


@modes(*EXPENSIVE_MODES)
def test_allocating_memory_step_by_step_stops_at_the_memory_limit(attack):
    run = attack("""
        def long_attack(x):
            blocks, allocated = [], 0
            try:
                while allocated < 6 << 30:  # bounded: 6 GB at most
                    blocks.append(bytearray(64 << 20))  # zero-filled: really resident
                    allocated += 64 << 20
            except MemoryError as error:
                return {"allocated_mb": allocated >> 20, "stopped_by": type(error).__name__}
            return {"allocated_mb": allocated >> 20, "stopped_by": "nothing"}
    """)
    assert run.observation["stopped_by"] == "MemoryError", run.observation
    assert run.observation["allocated_mb"] <= 1024, run.observation


@modes(*EXPENSIVE_MODES)
def test_allocating_shared_memory_also_stops_at_the_memory_limit(attack):
    run = attack("""
        import mmap

        def long_attack(x):
            maps, allocated = [], 0
            try:
                while allocated < 1280 << 20:  # bounded: 1.25 times the limit
                    block = mmap.mmap(-1, 128 << 20, flags=mmap.MAP_SHARED | mmap.MAP_POPULATE)
                    maps.append(block)
                    allocated += 128 << 20
            except (MemoryError, OSError) as error:
                return {"allocated_mb": allocated >> 20, "stopped_by": type(error).__name__}
            return {"allocated_mb": allocated >> 20, "stopped_by": "nothing"}
    """)
    assert run.observation["allocated_mb"] <= 1024, run.observation


@modes(*ALL_MODES)
def test_writing_a_huge_file_stops_at_the_file_size_limit(attack):
    run = attack("""
        def attack(x):
            chunk, written = b"x" * (16 << 20), 0
            try:
                with open("huge.bin", "wb", buffering=0) as handle:
                    while written < 3 << 30:  # bounded: 3 GB at most
                        written += handle.write(chunk)
            except OSError as error:
                return {"written_mb": written >> 20, "error": f"{type(error).__name__}: {error}"}
            return {"written_mb": written >> 20, "error": ""}
    """)
    assert "File too large" in run.observation["error"], run.observation
    assert run.observation["written_mb"] <= 64, run.observation


@modes(*ALL_MODES, *WITHOUT_LANDLOCK)
def test_preallocating_many_files_is_denied(attack):
    """fallocate fills a disk in milliseconds, faster than the grader looks at the folder."""
    run = attack("""
        def attack(x):
            total = 0
            try:
                for index in range(32):  # bounded: 32 x 64 MB = 2 GB
                    fd = os.open(f"fill-{index}.bin", os.O_CREAT | os.O_WRONLY, 0o600)
                    try:
                        os.posix_fallocate(fd, 0, 64 << 20)
                    finally:
                        os.close(fd)
                    total += 64
            except OSError as error:
                return {"total_mb": total, "error": f"{type(error).__name__}: {error}"}
            return {"total_mb": total, "error": ""}
    """)
    assert run.observation["total_mb"] < 1024, run.observation


def assert_stopped_for_its_work_folder(run, what: str, question: str = "2") -> None:
    feedback = run.test(question)["output"]
    assert f"your code wrote more than {what} in its work folder" in feedback, feedback


@modes(*ALL_MODES, *WITHOUT_LANDLOCK)
def test_writing_many_large_files_is_stopped_at_the_work_folder_bound(attack):
    run = attack("""
        def attack(x):
            chunk = b"w" * (16 << 20)
            for index in range(48):  # bounded: 48 x 64 MB = 3 GB
                with open(f"fill-{index}.bin", "wb", buffering=0) as handle:
                    for _ in range(4):
                        handle.write(chunk)
            return "wrote 3 GB"
    """)
    assert_stopped_for_its_work_folder(run, "256 MB")
    assert run.observed == [], "the attack finished writing 3 GB"


@modes(*ALL_MODES, *WITHOUT_LANDLOCK)
def test_creating_many_files_is_stopped_at_the_work_folder_bound(attack):
    run = attack("""
        def long_attack(x):
            for folder in range(200):  # bounded: 200,000 empty files
                os.mkdir(f"d{folder}")
                for index in range(1000):
                    os.close(os.open(f"d{folder}/f{index}", os.O_CREAT | os.O_WRONLY, 0o600))
            return "made 200000 files"
    """)
    assert_stopped_for_its_work_folder(run, "10000 files", question="3")
    assert run.observed == [], "the attack finished making its files"


@modes(*ALL_MODES)
def test_opening_thousands_of_files_stops_at_the_open_file_limit(attack):
    run = attack("""
        def attack(x):
            handles = []
            try:
                for _ in range(5000):
                    handles.append(open(os.devnull, "rb"))
            except OSError as error:
                return {"opened": len(handles), "error": f"{type(error).__name__}: {error}"}
            return {"opened": len(handles), "error": ""}
    """)
    assert "Too many open files" in run.observation["error"], run.observation
    assert run.observation["opened"] <= 256, run.observation


@modes(*EXPENSIVE_MODES)
def test_printing_200_mb_is_capped(attack):
    run = attack("""
        def attack(x):
            chunk = b"y" * (1 << 20)
            for _ in range(100):  # 100 MB raw on the stdout and stderr descriptors
                os.write(1 + _ % 2, chunk)
            line = "z" * 999
            for _ in range(100_000):  # 100 MB through print()
                print(line)
            os._exit(1)  # a crash shows what was printed, so the cap is visible
    """)
    feedback = run.test("2")["output"]
    assert "exited with status 1" in feedback
    assert len(feedback) < 5000
    assert run.results_path.stat().st_size < 64_000
    assert len(run.stdout) + len(run.stderr) < 64_000
    assert run.seconds < 20, run.describe()


@modes(*EXPENSIVE_MODES)
def test_spawning_thousands_of_threads_stops_at_the_process_limit(attack, request, mode):
    no_uid_switch_means(
        request,
        mode,
        (
            "WEAKNESS: RLIMIT_NPROC (64) is set only when the grader runs as root and switches "
            "uid; a grader run by an ordinary user (or as root with the uid layer unavailable) "
            "puts no bound on threads, so with small stacks a submission starts thousands "
            "(bounded here to 3000) and could exhaust the machine's pids/threads-max within its "
            "time limit."
        ),
    )
    run = attack("""
        import threading
        import time

        def attack(x):
            threading.stack_size(64 << 10)
            started = 0
            try:
                for _ in range(3000):  # bounded
                    threading.Thread(target=time.sleep, args=(5,), daemon=True).start()
                    started += 1
            except (RuntimeError, MemoryError) as error:
                return {"started": started, "error": f"{type(error).__name__}: {error}"}
            return {"started": started, "error": ""}
    """)
    assert run.observation["started"] <= 64, run.observation


@modes(*EXPENSIVE_MODES)
def test_torch_on_every_core_costs_only_its_question(attack):
    run = attack("""
        import time

        import torch

        def attack(x):
            torch.set_num_threads(max(os.cpu_count() or 1, 8))
            a = torch.randn(512, 512)
            iterations, deadline = 0, time.monotonic() + 1.0
            while time.monotonic() < deadline:
                a = torch.tanh(a @ a)
                iterations += 1
            return {"threads": torch.get_num_threads(), "iterations": iterations}
    """)
    assert run.observation["iterations"] > 0
    assert run.seconds < 30, run.describe()


@modes(*EXPENSIVE_MODES)
def test_a_busy_child_does_not_outlive_a_grader_killed_from_outside(attack):
    run = attack(
        """
        def attack(x):
            while True:
                pass
    """,
        kill_after=1.0,
        expect_exit=-9,
        scores=None,
        check_layers=False,
    )
    assert run.children, "the grader had no child process when it was killed"
    assert "placeholder" in run.results["output"]  # guarantee 5: still a valid results.json
    assert run.orphans == [], f"sandbox processes {run.orphans} outlived the grader"
