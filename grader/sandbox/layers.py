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
    0x04000000, 0x08000000, 0x10000000, 0x40000000)
ISOLATING = ("namespaces", "uid", "landlock")
"""Layers of which strict policy needs at least one: each keeps the child from the grader's files
or the network on its own."""


@dataclass
class Report:
    """What was applied (human-readable) and what was not, with why."""

    applied: list[str] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    isolating: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"applied": self.applied, "unavailable": self.unavailable,
                "isolating": self.isolating}


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
        report.unavailable["namespaces"] = (f"unshare refused: {os.strerror(ctypes.get_errno())}"
                                            " (containers often forbid it)")
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
    report = Report(applied=["separate process, own session", "scrubbed environment",
                             "python -I", "bounded output", "per-request deadline"])
    for name in plan.get("disabled", []):
        report.unavailable[name] = "disabled by GRADER_SANDBOX_DISABLE"
    if plan.get("namespaces"):
        enter_namespaces(report)
    if plan.get("uid") is not None:
        drop_privileges(plan["uid"], plan["gid"], report)
    elif "uid" not in report.unavailable:
        report.unavailable["uid"] = plan.get("uid_reason", "not running as root")
    apply_rlimits(plan.get("rlimits", {}), report)
    if plan.get("landlock") is not None:
        apply_landlock(plan["landlock"]["read"], plan["landlock"]["write"], report)
    if plan.get("seccomp"):
        apply_seccomp(plan.get("libraries", {}), report)
    return report
