"""Which sandbox layers work on this machine, found by starting a real child (`grader doctor`,
and each Dask worker of `grader batch --cluster`, which probes its own machine).

Probing by doing is the only reliable way: containers forbid namespaces, kernels lack Landlock,
and a Python installed under /root cannot be run by an unprivileged user. The report says what
took effect and, for everything else, why not.
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.sandbox import landlock
from grader.sandbox.plan import LAYER_NAMES
from grader.sandbox.runner import SandboxPolicyError, SandboxSession

PROBE = "import numpy\n"


@dataclass
class Diagnosis:
    """The layers a child applied, those it could not, and what starting it cost."""

    policy: str
    applied: list[str] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    isolating: list[str] = field(default_factory=list)
    confines: dict[str, list[str]] = field(default_factory=dict)
    exposed: list[str] = field(default_factory=list)
    refused: str | None = None
    start_seconds: float = 0.0
    facts: dict[str, Any] = field(default_factory=dict)


def diagnose(policy: str) -> Diagnosis:
    """Start a probe child under `policy` (as root, as a uid the session claims, as every
    grading's child does) and report what it applied."""
    diagnosis = Diagnosis(policy)
    diagnosis.facts = {
        "platform": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "python": f"{platform.python_version()} at {sys.executable}",
        "landlock ABI": landlock.abi_version() or "unavailable",
    }
    with tempfile.TemporaryDirectory(prefix="grader-doctor-") as folder:
        (Path(folder) / "probe.py").write_text(PROBE)
        session = SandboxSession(Path(folder), "probe.py", policy=policy)
        started = time.perf_counter()
        try:
            reply = session.start()
            diagnosis.start_seconds = time.perf_counter() - started
            if not reply.ok:
                diagnosis.refused = f"the probe child failed: {reply.message}"
        except SandboxPolicyError as error:
            diagnosis.refused = str(error)
        finally:
            session.end()
        report = session.layers
    diagnosis.applied = list(report.get("applied", []))
    diagnosis.unavailable = dict(report.get("unavailable", {}))
    diagnosis.isolating = list(report.get("isolating", []))
    diagnosis.confines = dict(report.get("confines", {}))
    diagnosis.exposed = list(report.get("exposed", []))
    return diagnosis


def layer_rows(diagnosis: Diagnosis) -> list[tuple[str, str, str]]:
    """(layer, status, detail) for each optional layer, then the always-on ones."""
    rows = []
    for name in LAYER_NAMES:
        applied = [line for line in diagnosis.applied if _is_layer(line, name)]
        if applied:
            rows.append((name, "active", "; ".join(applied)))
        else:
            rows.append((name, "unavailable", diagnosis.unavailable.get(name, "not attempted")))
    others = [
        line for line in diagnosis.applied if not any(_is_layer(line, name) for name in LAYER_NAMES)
    ]
    rows.append(("always", "active", "; ".join(others)))
    return rows


def _is_layer(line: str, name: str) -> bool:
    keys = {"namespaces": "namespaces", "uid": "uid", "landlock": "landlock", "seccomp": "seccomp"}
    return keys[name] in line and not line.startswith("rlimits")
