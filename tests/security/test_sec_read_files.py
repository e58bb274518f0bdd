"""Guarantee 2: a submission cannot read the reference, the rubric, the grader's files, other
students' submissions, or the grader's environment and process.

Every file here is world-readable (mode 644) and the attack knows its exact path: only the
sandbox stands between the submission and the canary. Each attack must be *denied*
(PermissionError), not merely miss, so that a wrong path cannot make a test pass.
"""

from __future__ import annotations

import pytest
from sectest_support import CANARY_ENV, Run

pytestmark = pytest.mark.sandbox

READ_FILE = """
def attack(x):
    return {"read": _attempt(lambda: open($path, encoding="utf-8", errors="replace").read())}
"""


def assert_denied(outcome: str, run: Run) -> None:
    assert outcome.startswith("denied: PermissionError"), (
        f"expected the sandbox to deny this, the attack saw: {outcome!r}\n{run.describe()}"
    )


def read(attack, path) -> Run:
    """Attempt to read `path` from inside the sandbox; the test asserts what the child saw."""
    return attack(READ_FILE, values={"path": path})


def test_reading_the_reference_module_is_denied(attack, course):
    run = read(attack, course.reference)
    assert_denied(run.observation["read"], run)


def test_reading_the_rubric_is_denied(attack, course):
    run = read(attack, course.rubric)
    assert_denied(run.observation["read"], run)


def test_reading_the_custom_tests_module_is_denied(attack, course):
    run = read(attack, course.custom_tests)
    assert_denied(run.observation["read"], run)


def test_reading_the_grader_source_is_denied(attack, course):
    run = read(attack, course.grader_source)
    assert_denied(run.observation["read"], run)
    assert "class Engine" not in run.observation["read"]


def test_reading_the_autograder_source_folder_is_denied(attack, course):
    run = read(attack, course.solution)
    assert_denied(run.observation["read"], run)


def test_listing_the_autograder_source_folder_is_denied(attack, course):
    run = attack(
        """
        def attack(x):
            return {"list": _attempt(lambda: sorted(os.listdir($folder)))}
    """,
        values={"folder": course.autograder_source},
    )
    assert_denied(run.observation["list"], run)


def test_reading_another_students_submission_is_denied(attack, course):
    run = read(attack, course.other_submission)
    assert_denied(run.observation["read"], run)


def test_listing_the_folder_above_the_submission_is_denied(attack):
    run = attack("""
        def attack(x):
            return {"list": _attempt(lambda: sorted(os.listdir(os.path.join($submission_dir,
                                                                             ".."))))}
    """)
    assert_denied(run.observation["list"], run)


def test_listing_the_parent_of_the_working_folder_is_denied(attack):
    """Other submissions are staged in sibling work folders: `..` must stay closed."""
    run = attack("""
        def attack(x):
            return {"cwd": os.getcwd(), "list": _attempt(lambda: os.listdir(".."))}
    """)
    assert_denied(run.observation["list"], run)


def test_the_grader_environment_variables_are_not_inherited(attack):
    run = attack("""
        def attack(x):
            return {"names": sorted(os.environ), "values": "\\n".join(os.environ.values())}
    """)
    names = run.observation["names"]
    assert CANARY_ENV not in names
    assert "GRADER_SECURITY_LOG" not in names
    assert "OMP_NUM_THREADS" in names  # the channel works: this is the child's environment


PROC = """
def attack(x):
    return {"read": _attempt(lambda: open(f"/proc/{os.getppid()}/" + $entry, "rb").read()[:4000])}
"""


@pytest.mark.parametrize("entry", ["environ", "cmdline", "maps", "status"])
def test_reading_the_grader_process_files_in_proc_is_denied(attack, entry):
    """environ holds the canary variable, cmdline the canary submission id."""
    run = attack(PROC, values={"entry": entry})
    assert_denied(run.observation["read"], run)


def test_reading_the_grader_memory_is_denied(attack, canary):
    run = attack("""
        def attack(x):
            pid = os.getppid()

            def scan():
                found, budget = [], 512 << 20
                with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
                    with open(f"/proc/{pid}/maps") as maps:
                        regions = [line.split()[0].split("-") for line in maps
                                   if line.split()[1].startswith("r")]
                    for low, high in regions:
                        start, end = int(low, 16), int(high, 16)
                        size = min(end - start, budget)
                        budget -= size
                        try:
                            mem.seek(start)
                            chunk = mem.read(size)
                        except OSError:
                            continue
                        at = chunk.find(b"CANARY-")
                        if at >= 0:
                            found.append(chunk[at:at + 60].decode("ascii", "replace"))
                        if budget <= 0:
                            break
                return found

            return {"mem": _attempt(scan)}
    """)
    assert_denied(run.observation["mem"], run)


def test_reading_the_grader_open_files_through_proc_fd_is_denied(attack):
    run = attack("""
        def attack(x):
            pid = os.getppid()

            def steal():
                texts = []
                for fd in range(64):
                    try:
                        with open(f"/proc/{pid}/fd/{fd}", "rb") as handle:
                            texts.append(handle.read(2000).decode("utf-8", "replace"))
                    except FileNotFoundError:
                        continue
                return texts

            return {"list": _attempt(lambda: os.listdir(f"/proc/{pid}/fd")),
                    "open": _attempt(lambda: open(f"/proc/{pid}/fd/0", "rb").read(100)),
                    "steal": _attempt(steal)}
    """)
    assert_denied(run.observation["list"], run)
    assert_denied(run.observation["open"], run)


def test_the_sandbox_process_itself_holds_no_secret(attack):
    """Nothing secret is handed to the child: not in its memory, arguments or environment
    (a fork server whose zygote loaded the reference would fail here)."""
    run = attack("""
        import gc

        def attack(x):
            needle = "".join(["CAN", "ARY-"])  # not a literal: the source must not match itself

            def strings():
                seen, todo = set(), list(gc.get_objects()) + [sys.modules]
                while todo and len(seen) < 2_000_000:  # every container reachable from them
                    item = todo.pop()
                    if id(item) in seen:
                        continue
                    seen.add(id(item))
                    if isinstance(item, bytes):
                        yield item.decode("latin-1")
                    elif isinstance(item, str):
                        yield item
                    elif isinstance(item, dict):
                        todo += [*item.keys(), *item.values()]
                    elif isinstance(item, (list, tuple, set, frozenset)):
                        todo += list(item)
                    elif hasattr(item, "__dict__") and isinstance(vars(item), dict):
                        todo.append(vars(item))

            found = [text[:80] for text in strings() if needle in text]
            found += [arg[:80] for arg in sys.argv if needle in arg]
            found += [value[:80] for value in os.environ.values() if needle in value]
            return {"objects": len(gc.get_objects()), "found": found}
    """)
    assert run.observation["objects"] > 1000
    assert run.observation["found"] == []
