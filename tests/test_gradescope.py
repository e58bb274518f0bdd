"""Deploying to Gradescope: the upload zip, setup.sh, run_autograder in a folder laid out like
/autograder, and the Dockerfile."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
GRADER = str(BIN / "grader")
HW2 = REPO / "rubrics" / "hw2.yaml"
EXAMPLES = REPO / "submissions_example" / "hw2"
METADATA = {
    "id": 123456,
    "created_at": "2020-02-10T23:51:07Z",
    "assignment": {"title": "HW2", "total_points": 7},
    "users": [{"name": "Ada Lovelace", "email": "ada@example.edu", "id": 1}],
}


@pytest.fixture(scope="session")
def autograder_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("zip") / "autograder.zip"
    subprocess.run(
        [GRADER, "autograder", str(HW2), "-o", str(output)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return output


def open_folder() -> Path:
    """A folder directly in /tmp that every user may enter (pytest's own are 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="grader-test-"))
    folder.chmod(0o755)
    return folder


@pytest.fixture(scope="session")
def installed(autograder_zip: Path, interpreter_reachable: list) -> Iterator[Path]:
    """The zip unpacked as /autograder/source and set up by its own setup.sh, once per session,
    in a folder everyone may enter (the unprivileged test runs from it too)."""
    base = open_folder()
    try:
        yield from _install(autograder_zip, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _install(autograder_zip: Path, base: Path) -> Iterator[Path]:
    source = base / "source"
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(source)
    for script in ("setup.sh", "run_autograder"):
        mode = archive_mode(autograder_zip, script)
        (source / script).chmod(mode)
    done = subprocess.run(
        ["bash", str(source / "setup.sh")],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "GRADER_VENV": str(base / "venv")},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    yield base


def archive_mode(archive_path: Path, name: str) -> int:
    with zipfile.ZipFile(archive_path) as archive:
        return stat.S_IMODE(archive.getinfo(name).external_attr >> 16)


def autograder_root(base: Path, where: Path, submission: Path, metadata: dict | None) -> Path:
    """A folder laid out like /autograder for one submission, sharing the installed source."""
    root = where / "autograder"
    root.mkdir()
    (root / "source").symlink_to(base / "source")
    shutil.copytree(submission, root / "submission")
    if metadata is not None:
        (root / "submission_metadata.json").write_text(json.dumps(metadata))
    return root


def run_autograder(base: Path, root: Path, *prefix: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "GRADER_VENV": str(base / "venv")}
    return subprocess.run(
        [*prefix, str(base / "source" / "run_autograder")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def results_of(root: Path) -> dict:
    return json.loads((root / "results" / "results.json").read_text())


def test_the_zip_has_executable_setup_and_run_autograder_at_its_root(autograder_zip):
    assert archive_mode(autograder_zip, "setup.sh") == 0o755
    assert archive_mode(autograder_zip, "run_autograder") == 0o755


def test_the_zip_holds_the_grader_and_the_course_files_the_rubric_names(autograder_zip):
    names = set(zipfile.ZipFile(autograder_zip).namelist())
    assert {
        "grader-src/pyproject.toml",
        "grader-src/grader/cli.py",
        "course/rubrics/hw2.yaml",
        "course/reference/hw2.py",
        "course/reference/hw2_custom_tests.py",
    } <= names
    assert not any(name.startswith(("tests/", "submissions_example/")) for name in names)


@pytest.mark.venv
def test_setup_leaves_the_course_readable_by_its_owner_only(installed):
    for path in (installed / "source" / "course").rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


@pytest.mark.venv
@pytest.mark.skipif(os.geteuid() != 0, reason="run_autograder runs as root on Gradescope")
def test_run_autograder_as_root_gives_the_correct_example_full_marks(
    installed, tmp_path, schema_validator
):
    root = autograder_root(installed, tmp_path, EXAMPLES / "correct", METADATA)
    done = run_autograder(installed, root)
    assert done.returncode == 0, done.stderr
    results = results_of(root)
    schema_validator.validate(results)
    assert results["score"] == 7.0 and results["stdout_visibility"] == "hidden"
    assert "grading submission 123456 by Ada Lovelace" in done.stdout
    assert "total 7 / 7" in done.stdout


@pytest.mark.venv
def test_run_autograder_as_an_unprivileged_user_grades_the_same(
    installed, unprivileged_account, schema_validator
):
    account = unprivileged_account
    base = open_folder()
    try:
        shutil.copytree(installed / "source", base / "source", symlinks=True)
        (base / "venv").symlink_to(installed / "venv")
        root = autograder_root(base, base, EXAMPLES / "mistakes", METADATA)
        for path in [base, *base.rglob("*")]:
            os.chown(path, account.uid, account.gid, follow_symlinks=False)
        check_unprivileged_run(base, root, account, schema_validator)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def check_unprivileged_run(base: Path, root: Path, account, schema_validator) -> None:
    prefix = (
        []
        if os.geteuid() != 0
        else ["setpriv", f"--reuid={account.uid}", f"--regid={account.gid}", "--clear-groups", "--"]
    )
    done = run_autograder(base, root, *prefix)
    assert done.returncode == 0, done.stdout + done.stderr
    results = results_of(root)
    schema_validator.validate(results)
    graded = subprocess.run(
        [
            GRADER,
            "grade",
            str(HW2),
            str(EXAMPLES / "mistakes"),
            "--submission-id",
            "123456",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert f"{results['score']:.4g} / 7" == graded.stdout.strip()


def test_the_seed_comes_from_the_submission_id(tmp_path):
    first = gradescope(tmp_path / "a", EXAMPLES / "correct", METADATA)
    second = gradescope(tmp_path / "b", EXAMPLES / "correct", {**METADATA, "id": 99})
    assert results_of(first)["extra_data"]["seed"] != results_of(second)["extra_data"]["seed"]
    again = gradescope(tmp_path / "c", EXAMPLES / "correct", METADATA)
    assert results_of(again)["extra_data"]["seed"] == results_of(first)["extra_data"]["seed"]


def gradescope(where: Path, submission: Path, metadata: dict | None, rubric: Path = HW2) -> Path:
    where.mkdir()
    root = where / "autograder"
    root.mkdir()
    shutil.copytree(submission, root / "submission")
    if metadata is not None:
        (root / "submission_metadata.json").write_text(json.dumps(metadata))
    subprocess.run(
        [GRADER, "gradescope", str(rubric), "--root", str(root)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return root


def test_missing_metadata_still_grades_and_tells_instructors(tmp_path, schema_validator):
    root = gradescope(tmp_path / "a", EXAMPLES / "correct", None)
    schema_validator.validate(results_of(root))
    assert results_of(root)["score"] == 7.0


LOOPS_ON_RANDOM_CASES = """

def receptive_field(kernel_sizes, strides):  # right on the public case, loops on the others
    while list(kernel_sizes) != [3, 3, 3]:
        pass
    return [3, 7, 15]
"""


def test_a_killed_run_leaves_the_questions_graded_so_far(tmp_path, schema_validator):
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    correct = (EXAMPLES / "correct" / "hw2.py").read_text()
    (root / "submission" / "hw2.py").write_text(correct + LOOPS_ON_RANDOM_CASES)
    process = subprocess.Popen(
        [GRADER, "gradescope", str(HW2), "--root", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    results = root / "results" / "results.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until 3.2 (just before the looping 3.3) is in
        if results.exists() and any(
            t["number"] == "3.2" and "not graded yet" not in t.get("output", "")
            for t in json.loads(results.read_text())["tests"]
        ):
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    data = json.loads(results.read_text())
    schema_validator.validate(data)
    by_number = {t["number"]: t for t in data["tests"]}
    assert by_number["1.1.1"]["score"] == 1 and by_number["3.2"]["score"] == 1
    assert "not graded yet" in by_number["3.3"]["output"]


def test_a_broken_rubric_leaves_a_results_file_saying_the_autograder_is_misconfigured(
    tmp_path, schema_validator
):
    broken = tmp_path / "broken.yaml"
    broken.write_text("assignment: [\n")
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    done = subprocess.run(
        [GRADER, "gradescope", str(broken), "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "not valid YAML" in done.stdout
    data = results_of(root)
    schema_validator.validate(data)
    assert "configuration problem, not your submission" in data["output"]


def test_the_dockerfile_passes_hadolint():
    hadolint = BIN / "hadolint"
    done = subprocess.run(
        [str(hadolint), str(REPO / "Dockerfile")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_dockerfile_builds_the_same_tree_as_the_zip_and_runs_its_setup():
    text = (REPO / "Dockerfile").read_text()
    assert "FROM gradescope/autograder-base:ubuntu-22.04" in text
    assert "--unpacked /autograder/source" in text
    assert "/autograder/source/setup.sh" in text
    assert "ln -s /autograder/source/run_autograder /autograder/run_autograder" in text
    assert 'python3 -m venv "$GRADER_VENV"' in text and "ENTRYPOINT" not in text
    assert "CMD" not in text.replace("# ", "")
