"""Applying the sandbox's layers inside the child, in the only order that works.

Namespaces need root or a fresh user namespace, so they come first; then root gives up its uid;
then resource limits (RLIMIT_NPROC only means something once the uid is not 0); then Landlock;
seccomp last, since it forbids the unshare and mount calls the earlier layers use. Each layer is
tried, and either applied or reported unavailable with the reason: the parent decides, by policy,
whether what was applied is enough.

This module runs in the child (sent as source, like wire.py) before any student code, and uses
only the standard library and the two binding modules beside it.
"""

from __future__ import annotations

import ctypes
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from grader.sandbox import landlock, seccomp_filter

CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWNET = (
    0x04000000,
    0x08000000,
    0x10000000,
    0x40000000,
)
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, SIGKILL = 1, 24, 9
SYS_CAPSET = {"x86_64": 126, "aarch64": 91}
CAPABILITY_VERSION_3 = 0x20080522


@dataclass
class Report:
    """What was applied (human-readable) and what was not, with why; which applied layer
    confines what; and what the child can still reach that it must not."""

    applied: list[str] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    isolating: list[str] = field(default_factory=list)
    confines: dict[str, list[str]] = field(default_factory=dict)
    exposed: list[str] = field(default_factory=list)

    @property
    def files_confined(self) -> bool:
        """What strict policy requires: a layer that keeps the child out of the file system
        applied, and nothing the grader must protect left within its reach. Namespaces do not
        count: the network, IPC and UTS namespaces share the file system."""
        return bool(self.confines.get("files")) and not self.exposed

    def as_dict(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "unavailable": self.unavailable,
            "isolating": self.isolating,
            "confines": self.confines,
            "exposed": self.exposed,
        }


def assess(plan: dict[str, Any], report: Report) -> None:
    """Say which applied layer confines what, and which protected trees (see
    plan.confinement) no applied layer keeps the child out of."""
    applied = " | ".join(report.applied)
    landlock_on, uid_on = "landlock" in report.isolating, "uid" in report.isolating
    report.confines = {
        "files": [name for name, on in (("landlock", landlock_on), ("uid", uid_on)) if on],
        "network": [
            name
            for name, on in (
                ("namespaces", "namespaces" in report.isolating),
                ("seccomp", "seccomp:" in applied),
                ("landlock", "landlock: no TCP" in applied),
            )
            if on
        ],
        "other processes": [
            name for name, on in (("uid", uid_on), ("seccomp", "seccomp:" in applied)) if on
        ],
    }
    if not report.confines["files"]:
        report.exposed.append(
            "every file the grader's user can reach: the child runs as that user and Landlock "
            "is not active"
        )
        return
    for entry in plan.get("confinement", []):
        kept_out = (landlock_on and entry["landlock"] is None) or (uid_on and entry["uid"] is None)
        if not kept_out:
            why = [entry["uid"] if uid_on else "no uid switch"]
            why.append(entry["landlock"] if landlock_on else "Landlock is not active")
            report.exposed.append(f"{entry['path']} ({entry['access']}): {'; '.join(why)}")


def enter_namespaces(report: Report) -> None:
    """New network, IPC and UTS namespaces: no network at all, no shared memory with others."""
    if sys.platform != "linux":
        report.unavailable["namespaces"] = "Linux only"
        return
    flags = CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    if os.geteuid() != 0:
        flags |= CLONE_NEWUSER  # an unprivileged process may only unshare inside its own userns
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(ctypes.c_int(flags)) != 0:
        report.unavailable["namespaces"] = (
            f"unshare refused: {os.strerror(ctypes.get_errno())} (containers often forbid it)"
        )
        return
    report.applied.append("network, IPC and UTS namespaces")
    report.isolating.append("namespaces")


def drop_privileges(uid: int, gid: int, report: Report) -> None:
    """Become the dedicated sandbox user: root's files and other users' processes are out of
    reach, and RLIMIT_NPROC starts to count."""
    try:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    except OSError as error:
        report.unavailable["uid"] = f"could not switch to uid {uid}: {error.strerror}"
        return
    if os.getuid() != uid or os.geteuid() != uid:
        report.unavailable["uid"] = f"still running as uid {os.geteuid()}"
        return
    report.applied.append(f"unprivileged uid {uid}")
    report.isolating.append("uid")


def die_with_parent(parent: int, report: Report) -> None:
    """Be killed when the grader dies: a grader killed from outside must not leave a busy child
    behind. Set after the uid switch, which clears it."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the grader died before the signal was armed
        os._exit(1)
    report.applied.append("killed with the grader")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def drop_capabilities(report: Report) -> None:
    """Give up every capability (root's, or those of a fresh user namespace): without them uid
    0 cannot make device nodes, change owners, or reach around file permissions."""
    import platform

    number = SYS_CAPSET.get(platform.machine())
    if sys.platform != "linux" or number is None:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in range(64):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0 and ctypes.get_errno() == 22:
            break  # EINVAL: past the last capability this kernel knows
    header = _CapHeader(CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    if libc.syscall(number, ctypes.byref(header), data) != 0:
        report.unavailable["capabilities"] = f"capset: {os.strerror(ctypes.get_errno())}"
        return
    report.applied.append("no capabilities")


def apply_rlimits(limits: dict[str, int], report: Report) -> None:
    """Lower soft and hard limits together, so student code cannot raise them back."""
    try:
        import resource
    except ImportError:
        report.unavailable["rlimits"] = "no resource module on this platform"
        return
    applied = []
    for name, value in limits.items():
        which = getattr(resource, name, None)
        if which is None:
            continue
        soft, hard = value, value
        if name == "RLIMIT_CPU":
            hard = value + 1  # SIGXCPU at the soft limit, SIGKILL one second later
        _, current_hard = resource.getrlimit(which)
        if current_hard != resource.RLIM_INFINITY:
            soft, hard = min(soft, current_hard), min(hard, current_hard)
        try:
            resource.setrlimit(which, (soft, hard))
            applied.append(name.removeprefix("RLIMIT_").lower())
        except (ValueError, OSError):
            continue
    report.applied.append("rlimits: " + ", ".join(applied))


def apply_landlock(read: list[str], write: list[str], report: Report) -> None:
    try:
        report.applied += landlock.restrict(read, write)
    except landlock.LandlockError as error:
        report.unavailable["landlock"] = str(error)
        return
    report.isolating.append("landlock")


def apply_seccomp(libraries: dict[str, str | None], report: Report) -> None:
    try:
        report.applied += seccomp_filter.install(libraries)
    except seccomp_filter.SeccompUnavailable as error:
        report.unavailable["seccomp"] = str(error)


def apply_all(plan: dict[str, Any]) -> Report:
    """Apply the parent's plan (a plain dict, see sandbox.plan) and report what took effect."""
    report = Report(
        applied=[
            "separate process, own session",
            "scrubbed environment",
            "python -I",
            "bounded output",
            "per-request deadline",
        ]
    )
    for name in plan.get("disabled", []):
        report.unavailable[name] = "disabled by GRADER_SANDBOX_DISABLE"
    if plan.get("namespaces"):
        enter_namespaces(report)
    if plan.get("uid") is not None:
        drop_privileges(plan["uid"], plan["gid"], report)
    elif "uid" not in report.unavailable:
        report.unavailable["uid"] = plan.get("uid_reason", "not running as root")
    if plan.get("parent"):
        die_with_parent(plan["parent"], report)
    drop_capabilities(report)
    apply_rlimits(plan.get("rlimits", {}), report)
    if plan.get("landlock") is not None:
        apply_landlock(plan["landlock"]["read"], plan["landlock"]["write"], report)
    if plan.get("seccomp"):
        apply_seccomp(plan.get("libraries", {}), report)
    assess(plan, report)
    return report
