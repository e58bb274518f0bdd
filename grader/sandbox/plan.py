"""Deciding, in the trusted process, which sandbox layers a child should apply.

The child applies its layers itself (see layers.py), but what it may read and write, which uid
it becomes and which limits it gets are decided here, from facts about this machine, and sent
to it as plain data. Nothing here imports Linux-only modules, so the grader runs on macOS and
Windows with the layers those systems lack reported as unavailable.
"""

from __future__ import annotations

import functools
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from grader.sandbox.seccomp_filter import library_names

SANDBOX_USER = "grader-sandbox"
DEFAULT_SANDBOX_UID = 64213
POLICIES = ("lenient", "strict")
LAYER_NAMES = ("namespaces", "uid", "landlock", "seccomp")
SYSTEM_READ_PATHS = (
    "/usr",
    "/lib",
    "/lib64",
    "/lib32",
    "/bin",
    "/etc/ld.so.cache",
    "/dev/urandom",
    "/proc/cpuinfo",
    "/sys/devices/system/cpu",
)
"""What an interpreter with numpy and torch reads besides its own prefix: shared libraries, the
loader cache, randomness (torch fails without it) and the CPU description."""


class SandboxIdentities(NamedTuple):
    """The (uid, gid) a grading's visible child and its hidden-cases child run as, when the
    grader is root: distinct, so that neither child's end-of-request sweep of its uid can hit
    the other, and neither can write into the other's work folder."""

    visible: tuple[int, int]
    hidden: tuple[int, int]


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits for one child; the rubric's `limits` block fills these in."""

    import_timeout: float = 60.0
    memory_mb: int = 2048
    cpu_seconds: int = 600
    file_mb: int = 64
    open_files: int = 256
    processes: int = 64
    max_response_bytes: int = 32 << 20
    output_tail_bytes: int = 8192


def sandbox_identity() -> tuple[int, int]:
    """The uid and gid the child becomes when the grader runs as root: the `grader-sandbox`
    user if it exists, else GRADER_SANDBOX_UID (default 64213), a uid no account uses."""
    override = os.environ.get("GRADER_SANDBOX_UID")
    if override:
        return int(override), int(os.environ.get("GRADER_SANDBOX_GID", override))
    try:
        import pwd

        entry = pwd.getpwnam(SANDBOX_USER)
        return entry.pw_uid, entry.pw_gid
    except (ImportError, KeyError):
        return DEFAULT_SANDBOX_UID, DEFAULT_SANDBOX_UID


def interpreter_paths() -> list[Path]:
    """Everything the child's interpreter must reach: its binary, its prefixes."""
    paths = {
        Path(os.path.realpath(sys.executable)),
        Path(sys.prefix),
        Path(sys.base_prefix),
        Path(sys.exec_prefix),
    }
    return sorted(paths)


def unreachable_by_others(paths: list[Path]) -> Path | None:
    """The first folder on the way to `paths` that a user other than root cannot enter."""
    for path in paths:
        for folder in [*reversed(path.parents), path]:
            try:
                mode = folder.stat().st_mode
            except OSError:
                return folder
            if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
                return folder
    return None


def landlock_read_paths() -> list[str]:
    return sorted({str(p) for p in interpreter_paths()} | set(SYSTEM_READ_PATHS))


def disabled_layers() -> set[str]:
    """Layers switched off with GRADER_SANDBOX_DISABLE (comma-separated: namespaces, uid,
    landlock, seccomp), to reproduce a container that forbids them or to find which layer a
    submission trips over."""
    names = {n.strip() for n in os.environ.get("GRADER_SANDBOX_DISABLE", "").split(",")}
    unknown = names - set(LAYER_NAMES) - {""}
    if unknown:
        raise ValueError(
            f"GRADER_SANDBOX_DISABLE names unknown layers {sorted(unknown)}; "
            f"known: {', '.join(LAYER_NAMES)}"
        )
    return names - {""}


@functools.cache
def seccomp_libraries() -> dict[str, str | None]:
    return library_names()


def build_plan(
    workdir: Path, limits: SandboxLimits, policy: str, identity: tuple[int, int] | None = None
) -> dict[str, Any]:
    """The layers for one child working in `workdir`, as plain data for the child; as root it
    becomes `identity` (uid, gid), by default `sandbox_identity()`."""
    if policy not in POLICIES:
        raise ValueError(f"sandbox policy must be one of {POLICIES}, got {policy!r}")
    off = disabled_layers()
    linux = sys.platform == "linux"
    rlimits = {
        "RLIMIT_DATA": limits.memory_mb << 20,
        "RLIMIT_FSIZE": limits.file_mb << 20,
        "RLIMIT_NOFILE": limits.open_files,
        "RLIMIT_CORE": 0,
        "RLIMIT_CPU": limits.cpu_seconds,
    }
    plan: dict[str, Any] = {
        "policy": policy,
        "namespaces": linux and "namespaces" not in off,
        "seccomp": linux and "seccomp" not in off,
        "landlock": {"read": landlock_read_paths(), "write": [str(workdir), "/dev/null"]}
        if linux and "landlock" not in off
        else None,
        "uid": None,
        "rlimits": rlimits,
        "disabled": sorted(off),
        "parent": os.getpid(),
        "libraries": seccomp_libraries() if linux and "seccomp" not in off else {},
    }
    if "uid" in off:
        plan["uid_reason"] = "disabled by GRADER_SANDBOX_DISABLE"
        return plan
    if os.name != "posix" or os.geteuid() != 0:
        plan["uid_reason"] = "the grader is not running as root, so there is no uid to drop"
        return plan
    blocked = unreachable_by_others(interpreter_paths())
    if blocked is not None:
        plan["uid_reason"] = (
            f"the sandbox user could not start Python: {blocked} is not "
            "searchable by other users (chmod o+x it, or install Python "
            "outside it)"
        )
        return plan
    blocked = unreachable_by_others([workdir.parent])
    if blocked is not None:
        plan["uid_reason"] = (
            f"the sandbox user could not reach its work folder: {blocked} "
            "is not searchable by other users"
        )
        return plan
    plan["uid"], plan["gid"] = identity or sandbox_identity()
    rlimits["RLIMIT_NPROC"] = limits.processes  # counts this uid's threads: meaningful now
    return plan


def hand_over(workdir: Path, plan: dict[str, Any]) -> None:
    """Give the work directory to the sandbox user, and to nobody else."""
    if plan.get("uid") is None:
        return
    os.chown(workdir, plan["uid"], plan["gid"])
    os.chmod(workdir, 0o700)
    for child in workdir.iterdir():
        os.chown(child, plan["uid"], plan["gid"], follow_symlinks=False)
