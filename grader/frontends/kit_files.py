"""A student kit as read from its folder: kit.yaml and the public harness beside it.

Apart from the kit's builder (grader.frontends.kit) because `grader check` reads a kit before it
imports anything heavy: the kit's submission spec and harness say what its zygote preloads, and
the zygote starts on them while the checking stack is imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from grader.errors import GraderInputError
from grader.rubric.files import read_yaml

KIT_FILE = "kit.yaml"
HARNESS_FILE = "harness.py"
KIT_VERSION = 1


def is_kit(path: Path) -> bool:
    """A kit folder, or the kit.yaml inside one (both are accepted wherever a kit is)."""
    return (path.is_dir() and (path / KIT_FILE).is_file()) or (
        path.is_file() and path.name == KIT_FILE
    )


def load_kit(folder: Path) -> tuple[dict[str, Any], str | None]:
    """The kit in `folder` (or the folder of a kit.yaml given by name) and its harness."""
    if folder.is_file() and folder.name == KIT_FILE:
        folder = folder.parent
    path = folder / KIT_FILE
    try:
        kit = read_yaml(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise GraderInputError(f"{path}: not a readable kit ({error})") from None
    if not isinstance(kit, dict) or kit.get("kit") != KIT_VERSION:
        raise GraderInputError(f"{path}: not a grader kit (version {KIT_VERSION})")
    harness = folder / HARNESS_FILE
    return kit, harness.read_text() if harness.is_file() else None
