"""What the sandbox's layers cost: child start and request time, with and without each layer,
for a child started as a fresh interpreter (`grader grade`) and one forked by a zygote that has
numpy loaded (`grader batch`).

Prints medians; asserts nothing. The target is under 15 ms added per child start compared with
an unsandboxed child (the same child with every optional layer disabled). Run with
    .venv/bin/python benchmarks/sandbox_cost.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from grader.sandbox.runner import Launcher, SandboxSession
from grader.sandbox.zygote import Zygote

CONFIGURATIONS = {
    "unsandboxed (all optional layers off)": "namespaces,uid,landlock,seccomp",
    "+ namespaces only": "uid,landlock,seccomp",
    "+ landlock only": "namespaces,uid,seccomp",
    "+ seccomp only": "namespaces,uid,landlock",
    "all layers available here": "",
}


def measure(disabled: str, repeat: int, launcher: Launcher | None = None) -> tuple[float, float]:
    os.environ["GRADER_SANDBOX_DISABLE"] = disabled
    starts, requests = [], []
    for _ in range(repeat):
        with (
            tempfile.TemporaryDirectory() as folder,
            SandboxSession(probe(Path(folder)), "probe.py", launcher=launcher) as session,
        ):
            began = time.perf_counter()
            assert session.start().ok
            starts.append(time.perf_counter() - began)
            for _ in range(20):
                began = time.perf_counter()
                session.value("VALUE", 5)
                requests.append(time.perf_counter() - began)
    return statistics.median(starts), statistics.median(requests)


def probe(work: Path) -> Path:
    """A work folder of its own for each child: as root, a session hands its folder to the
    sandbox user, which a child of the next configuration (without the uid switch) could not
    enter."""
    (work / "probe.py").write_text("import numpy as np\nVALUE = np.ones(3)\n")
    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    repeat = parser.parse_args().repeat
    with Zygote(("numpy",)) as zygote:
        zygote.start()
        for name, launcher in (("fresh interpreter", None), ("forked by a zygote", zygote)):
            print(f"children started as: {name}")
            baseline = None
            for label, disabled in CONFIGURATIONS.items():
                start, request = measure(disabled, repeat, launcher)
                baseline = start if baseline is None else baseline
                print(
                    f"  {label:40s} start {start * 1000:6.1f} ms "
                    f"(+{(start - baseline) * 1000:5.1f})   request {request * 1000:5.2f} ms"
                )


if __name__ == "__main__":
    main()
