"""Loading an assignment's reference module: trusted code that computes every expected answer.

The module is imported in the grader process only; nothing from it is ever sent to the
sandboxed child except the inputs of the cases being graded.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from grader.errors import ReferenceModuleError


class ReferenceModule:
    """An imported reference module whose functions are looked up by the rubric's names."""

    def __init__(self, module: ModuleType, path: Path) -> None:
        self.module = module
        self.path = path
        self._constants: dict[str, Any] = {}

    def constant(self, name: str, *, field: str) -> Any:
        """The value of the zero-argument function `name`, computed once per process: a
        canonical answer is the same for every submission, and some (an optimiser run for
        thousands of steps) take tens of milliseconds, which a batch would pay per student.
        Each caller gets its own copy, so no check can alter what the next one sees."""
        if name not in self._constants:
            self._constants[name] = self.function(name, field=field)()
        return copy.deepcopy(self._constants[name])

    def computed_constants(self) -> dict[str, Any]:
        """The constants computed so far, by name (the module's own values: not to be
        changed)."""
        return dict(self._constants)

    def adopt_constant(self, name: str, value: Any) -> None:
        """Take a constant computed by another process with the same reference module (a
        batch's workers receive what the batch process computed: trusted.shared_answers)."""
        self._constants[name] = value

    def function(self, name: str, *, field: str) -> Callable[..., Any]:
        """The callable `name`; `field` says which rubric field named it, for the error."""
        found: object = getattr(self.module, name, None)
        if found is None:
            raise ReferenceModuleError(
                f"{self.path}: has no function {name!r} (named by the rubric's {field})"
            )
        if not callable(found):
            raise ReferenceModuleError(
                f"{self.path}: {name!r} (named by the rubric's {field}) is a "
                f"{type(found).__name__}, not a function"
            )
        return found


def load_reference(path: Path) -> ReferenceModule:
    """Import a reference module from its file, reporting import failures with the file name."""
    if not path.is_file():
        raise ReferenceModuleError(f"{path}: reference module not found")
    module_name = f"grader_reference_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ReferenceModuleError(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        sys.modules.pop(module_name, None)
        raise ReferenceModuleError(
            f"{path}: importing the reference module failed: {type(error).__name__}: {error}"
        ) from None
    return ReferenceModule(module, path)
