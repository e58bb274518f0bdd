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
from typing import Any

from grader.errors import SandboxSettingError
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


MAX_CHECKED_ENTRIES = 20_000
"""Files and folders looked at per protected tree; a larger tree counts as exposed."""


@dataclass(frozen=True)
class Protected:
    """What no child may reach, as paths: `secret` trees it must not read (the course, the TA's
    input with every student's files, a batch's outputs), `outputs` trees it must not write
    (results, gradebook, CSV, report)."""

    secret: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()

    def __add__(self, other: Protected) -> Protected:
        return Protected(self.secret + other.secret, self.outputs + other.outputs)


NOTHING_PROTECTED = Protected()


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
    workdir_files: int = 10_000
    workdir_mb: int = 256


def sandbox_identity() -> tuple[int, int]:
    """The uid and gid the child becomes when the grader runs as root: the `grader-sandbox`
    user if it exists, else GRADER_SANDBOX_UID (default 64213), a uid no account uses."""
    override = os.environ.get("GRADER_SANDBOX_UID")
    if override:
        gid = os.environ.get("GRADER_SANDBOX_GID", override)
        return _unprivileged("GRADER_SANDBOX_UID", override), _unprivileged(
            "GRADER_SANDBOX_GID", gid
        )
    try:
        import pwd

        entry = pwd.getpwnam(SANDBOX_USER)
    except (ImportError, KeyError):
        return DEFAULT_SANDBOX_UID, DEFAULT_SANDBOX_UID
    where = f"the {SANDBOX_USER} account's"
    return _unprivileged(f"{where} uid", str(entry.pw_uid)), _unprivileged(
        f"{where} gid", str(entry.pw_gid)
    )


def _unprivileged(name: str, text: str) -> int:
    """`text` as a uid or gid that is not root's: with uid 0 "every process of the child's uid"
    would be every process of root's, the grader's among them (and with kill(-1), nearly every
    process of the machine); with gid 0 the child could read what root's group may."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 0 < value < 2**32 - 1:
        raise SandboxSettingError(
            f"{name} must be a whole number from 1 to {2**32 - 2}, got {text!r}"
        )
    return value


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


def _permits(info: os.stat_result, uid: int, gid: int, bits: int) -> bool:
    """Whether a user with only (uid, gid) has every permission in `bits` (an rwx triple as
    0o7 bits) on a file: the owner's, else the group's, else everybody's bits decide."""
    mode = info.st_mode
    if info.st_uid == uid:
        return (mode >> 6) & bits == bits
    if info.st_gid == gid:
        return (mode >> 3) & bits == bits
    return mode & bits == bits


def _writable(info: os.stat_result, uid: int, gid: int) -> bool:
    """Whether the user can create, rename or delete entries of a folder it does not own: a
    sticky folder (/tmp) lets it touch only its own."""
    return _permits(info, uid, gid, 0o3) and not (
        info.st_mode & stat.S_ISVTX and info.st_uid != uid
    )


def reachable_by(tree: Path, identity: tuple[int, int], access: str) -> str | None:
    """How the user `identity` (with no supplementary groups) can read (access="read") or
    change (access="write") something in `tree`, or None if it cannot. Every folder on the way
    must let it search; below that, a folder it can only search still lets it open names it
    guesses, so its contents count as reachable too. Changing includes replacing the tree
    itself from its parent folder."""
    uid, gid = identity
    search, wanted = 0o1, 0o4 if access == "read" else 0o2
    try:
        for folder in reversed(tree.parents):
            if not _permits(folder.stat(), uid, gid, search):
                return None
        if access == "write" and _writable(tree.parent.stat(), uid, gid):
            return f"the sandbox user (uid {uid}) can replace {tree} from {tree.parent}"
    except OSError:
        return None
    pending, checked = [tree], 0
    while pending:
        path = pending.pop()
        checked += 1
        if checked > MAX_CHECKED_ENTRIES:
            return f"holds more than {MAX_CHECKED_ENTRIES} entries, too many to check"
        try:
            info = path.lstat()
        except OSError:
            continue
        if stat.S_ISLNK(info.st_mode):
            continue
        if stat.S_ISDIR(info.st_mode):
            if not _permits(info, uid, gid, search):
                continue
            if access == "write" and _writable(info, uid, gid):
                return f"the sandbox user (uid {uid}) can create files in {path}"
            try:
                pending += list(path.iterdir())
            except OSError:
                continue
        elif _permits(info, uid, gid, wanted):
            verb = "read" if access == "read" else "change"
            return f"the sandbox user (uid {uid}) can {verb} {path}"
    return None


def _inside(path: Path, folders: list[str]) -> str | None:
    for folder in folders:
        if path == Path(folder) or Path(folder) in path.parents:
            return folder
    return None


@functools.cache
def confinement(
    protected: Protected, identity: tuple[int, int] | None, landlock_reads: tuple[str, ...]
) -> list[dict[str, Any]]:
    """For each protected tree, why each file-confining layer would not keep the child out of
    it (None: that layer does): Landlock, unless the tree lies in what it lets the child read;
    the uid switch, unless the file permissions keep the sandbox user out. Cached: a batch
    worker asks once per submission about the same trees."""
    entries = []
    wanted = [(path, "read") for path in protected.secret]
    wanted += [(path, "write") for path in protected.outputs]
    for name, access in wanted:
        path = Path(os.path.abspath(name))
        allowed = _inside(path, list(landlock_reads))
        entries.append(
            {
                "path": str(path),
                "access": access,
                "landlock": f"Landlock lets the child read {allowed}"
                if allowed and access == "read"
                else None,
                "uid": reachable_by(path, identity, access)
                if identity is not None
                else "no uid switch",
            }
        )
    return entries


def landlock_read_paths() -> list[str]:
    return sorted({str(p) for p in interpreter_paths()} | set(SYSTEM_READ_PATHS))


def disabled_layers() -> set[str]:
    """Layers switched off with GRADER_SANDBOX_DISABLE (comma-separated: namespaces, uid,
    landlock, seccomp), to reproduce a container that forbids them or to find which layer a
    submission trips over."""
    names = {n.strip() for n in os.environ.get("GRADER_SANDBOX_DISABLE", "").split(",")}
    unknown = names - set(LAYER_NAMES) - {""}
    if unknown:
        raise SandboxSettingError(
            f"GRADER_SANDBOX_DISABLE names unknown layers {sorted(unknown)}; "
            f"known: {', '.join(LAYER_NAMES)}"
        )
    return names - {""}


@functools.cache
def seccomp_libraries() -> dict[str, str | None]:
    return library_names()


def build_plan(
    workdir: Path,
    limits: SandboxLimits,
    policy: str,
    identity: tuple[int, int] | None = None,
    protected: Protected = NOTHING_PROTECTED,
) -> dict[str, Any]:
    """The layers for one child working in `workdir`, as plain data for the child; as root it
    becomes `identity` (uid, gid), by default `sandbox_identity()`. `protected` names what the
    child must not reach: the plan says which layer would keep it out of each (see
    `confinement`), and the child reports, and strict policy requires, that some layer it
    really applied does."""
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
    uid_reason = _uid_unavailable(workdir, off)
    if uid_reason is not None:
        plan["uid_reason"] = uid_reason
    else:
        plan["uid"], plan["gid"] = identity or sandbox_identity()
        rlimits["RLIMIT_NPROC"] = limits.processes  # counts this uid's threads: meaningful now
    identity_used = (plan["uid"], plan["gid"]) if plan["uid"] is not None else None
    plan["confinement"] = confinement(protected, identity_used, tuple(landlock_read_paths()))
    return plan


def _uid_unavailable(workdir: Path, off: set[str]) -> str | None:
    """Why the child cannot switch to the sandbox user, or None if it can."""
    if "uid" in off:
        return "disabled by GRADER_SANDBOX_DISABLE"
    if os.name != "posix" or os.geteuid() != 0:
        return "the grader is not running as root, so there is no uid to drop"
    blocked = unreachable_by_others(interpreter_paths())
    if blocked is not None:
        return (
            f"the sandbox user could not start Python: {blocked} is not "
            "searchable by other users (chmod o+x it, or install Python "
            "outside it)"
        )
    blocked = unreachable_by_others([workdir.parent])
    if blocked is not None:
        return (
            f"the sandbox user could not reach its work folder: {blocked} "
            "is not searchable by other users"
        )
    return None


def hand_over(workdir: Path, plan: dict[str, Any]) -> None:
    """Give the work directory to the sandbox user, and to nobody else."""
    if plan.get("uid") is None:
        return
    os.chown(workdir, plan["uid"], plan["gid"])
    os.chmod(workdir, 0o700)
    for child in workdir.iterdir():
        os.chown(child, plan["uid"], plan["gid"], follow_symlinks=False)
