"""`grader doctor`: which sandbox layers work on this machine, found by starting a real child.

The probe itself lives in grader.sandbox.probe, where the batch's cluster workers reach it too
(`grader doctor --cluster` asks each Dask worker to run it on its own machine).
"""

from __future__ import annotations

from grader.sandbox.probe import Diagnosis, diagnose, layer_rows

__all__ = ["Diagnosis", "diagnose", "layer_rows"]
