"""Deciding the layers: per platform, per user, per policy, and `grader doctor` reporting them."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from grader.sandbox import plan as sandbox_plan
from grader.sandbox.plan import SandboxLimits, build_plan, unreachable_by_others

GRADER = str(Path(sys.executable).parent / "grader")


def test_off_linux_only_portable_layers_are_planned(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    plan = build_plan(tmp_path, SandboxLimits(), "lenient")
    assert not plan["namespaces"] and not plan["seccomp"] and plan["landlock"] is None
    assert plan["rlimits"]["RLIMIT_DATA"] == 2048 << 20


def test_landlock_may_write_only_the_work_directory_and_dev_null(tmp_path):
    plan = build_plan(tmp_path, SandboxLimits(), "lenient")
    assert plan["landlock"]["write"] == [str(tmp_path), "/dev/null"]


def test_landlock_reads_never_include_the_repository(tmp_path):
    repository = Path(__file__).parents[1]
    reads = build_plan(tmp_path, SandboxLimits(), "lenient")["landlock"]["read"]
    assert all(
        not str(repository).startswith(path + os.sep) and str(repository) != path for path in reads
    )


def test_disabled_layers_are_not_planned(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SANDBOX_DISABLE", "namespaces,seccomp")
    plan = build_plan(tmp_path, SandboxLimits(), "lenient")
    assert not plan["namespaces"] and not plan["seccomp"] and plan["landlock"] is not None


def test_an_unknown_policy_is_refused(tmp_path):
    with pytest.raises(ValueError, match="sandbox policy"):
        build_plan(tmp_path, SandboxLimits(), "paranoid")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root user")
def test_without_root_no_uid_switch_is_planned(tmp_path):
    plan = build_plan(tmp_path, SandboxLimits(), "lenient")
    assert plan["uid"] is None and "not running as root" in plan["uid_reason"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="needs root")
def test_as_root_the_child_switches_to_the_sandbox_uid(interpreter_reachable):
    with tempfile.TemporaryDirectory() as folder:  # in /tmp, which everyone may enter
        plan = build_plan(Path(folder), SandboxLimits(), "lenient")
    assert plan["uid"] == sandbox_plan.sandbox_identity()[0]
    assert plan["rlimits"]["RLIMIT_NPROC"] == 64


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="needs root")
def test_no_uid_switch_into_a_work_folder_the_sandbox_user_cannot_reach(interpreter_reachable):
    with tempfile.TemporaryDirectory() as folder:  # created 0700 by root
        plan = build_plan(Path(folder) / "work", SandboxLimits(), "lenient")
    assert plan["uid"] is None and "could not reach its work folder" in plan["uid_reason"]


def test_a_folder_others_cannot_enter_is_found():
    with tempfile.TemporaryDirectory() as folder:  # in /tmp, which everyone may enter
        base = Path(folder)
        base.chmod(0o755)
        locked = base / "locked"
        (locked / "inner").mkdir(parents=True)
        assert unreachable_by_others([locked / "inner"]) is None
        locked.chmod(0o700)
        assert unreachable_by_others([locked / "inner"]) == locked


@pytest.mark.sandbox
def test_doctor_lists_every_layer_and_exits_zero():
    done = subprocess.run(
        [GRADER, "doctor"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0
    for layer in ("namespaces", "uid", "landlock", "seccomp", "always"):
        assert layer in done.stdout
    assert "child start with all layers" in done.stdout


@pytest.mark.sandbox
def test_doctor_under_strict_policy_exits_4_when_nothing_isolates():
    env = {**os.environ, "COLUMNS": "200", "GRADER_SANDBOX_DISABLE": "namespaces,uid,landlock"}
    done = subprocess.run(
        [GRADER, "doctor", "--policy", "strict"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 4 and "strict sandbox policy" in done.stdout
    assert "disabled by GRADER_SANDBOX_DISABLE" in done.stdout
