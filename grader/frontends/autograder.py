"""Building what Gradescope's upload page takes: a zip with setup.sh and run_autograder at its
root, the grader's source, and the course's rubric with the files it names.

Gradescope unpacks the zip into /autograder/source and runs setup.sh once, as root, to build
the image; run_autograder then runs once per submission. The same tree, unpacked, is what the
Dockerfile installs, so both ways of deploying are built by one function.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path

import grader
from grader.errors import GraderInputError
from grader.rubric.model import LoadedRubric

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (cwd: the unpacked zip).
set -euo pipefail
SOURCE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
VENV="${{GRADER_VENV:-/opt/grader-venv}}"
PYTHON="${{GRADER_PYTHON:-python3}}"
if ! "$PYTHON" -c "import ensurepip" 2>/dev/null; then
    apt-get update && apt-get install -y --no-install-recommends python3-venv
fi
# The grader gets its own virtual environment; the image's system python3 stays untouched.
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --no-cache-dir {index} "$SOURCE/grader-src{extras}"
if [ "$(id -u)" = 0 ]; then
    # The unprivileged user student code runs as.
    id -u grader-sandbox >/dev/null 2>&1 \\
        || useradd --system --no-create-home --shell /usr/sbin/nologin grader-sandbox
    chown -R root:root "$SOURCE"
fi
# The rubric and the reference: readable by their owner (root on Gradescope) only.
chmod -R go-rwx "$SOURCE"
# The environment: usable by the sandbox user.
chmod -R go+rX "$VENV"
"$VENV/bin/grader" validate "$SOURCE/{rubric}"
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this once per submission, as root, from /autograder.
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
VENV="${{GRADER_VENV:-/opt/grader-venv}}"
exec "$VENV/bin/grader" gradescope "$ROOT/source/{rubric}" --root "$ROOT"
"""

EXECUTABLE = 0o755


def grader_source() -> Path:
    """The checkout the running grader comes from (its pyproject.toml beside the package)."""
    checkout = Path(grader.__file__).resolve().parent.parent
    if not (checkout / "pyproject.toml").is_file():
        raise GraderInputError(
            f"{checkout}: the grader is not running from a source checkout "
            "(no pyproject.toml); build the autograder from one"
        )
    return checkout


def course_files(loaded: LoadedRubric) -> dict[str, Path]:
    """The rubric, every file it names, and the Python files beside its reference module (which
    the reference may import), under paths that keep their relative layout."""
    named = [loaded.path, loaded.reference_path]
    if loaded.harness_path is not None:
        named.append(loaded.harness_path)
    named += [loaded.custom_test_path(tests) for tests in loaded.rubric.custom_tests]
    named += sorted(loaded.reference_path.parent.glob("*.py"))
    for path in named:
        if not path.is_file():
            raise GraderInputError(f"{loaded.path}: names {path}, which does not exist")
    base = Path(os.path.commonpath([p.parent for p in named]))
    return {f"course/{p.relative_to(base)}": p for p in dict.fromkeys(named)}


def needs_torch(loaded: LoadedRubric) -> bool:
    """Whether the course uses torch: the rubric preloads it for the students' code, or passes
    tensors. Then the grader is installed with its `torch` extra (torch==2.13.0)."""
    return "torch" in loaded.rubric.submission.preload or any(
        part.function is not None and bool(part.function.tensor_args)
        for _, part in loaded.rubric.auto_parts()
    )


def bundle(loaded: LoadedRubric, torch_index: str | None) -> dict[str, Path | str]:
    """Every file of the autograder: arcname -> source file, or -> text for generated ones."""
    files: dict[str, Path | str] = {}
    checkout = grader_source()
    files["grader-src/pyproject.toml"] = checkout / "pyproject.toml"
    files["grader-src/README.md"] = checkout / "README.md"
    package = checkout / "grader"
    for path in sorted(package.rglob("*.py")):
        files[f"grader-src/grader/{path.relative_to(package)}"] = path
    course = course_files(loaded)
    files.update(course)
    rubric = next(name for name, path in course.items() if path == loaded.path)
    index = f'--extra-index-url "{torch_index}"' if torch_index else ""
    extras = "[torch]" if needs_torch(loaded) else ""
    files["setup.sh"] = SETUP.format(index=index, rubric=rubric, extras=extras)
    files["run_autograder"] = RUN.format(rubric=rubric)
    return files


def write_zip(files: dict[str, Path | str], output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=output.parent, suffix=".zip", delete=False) as handle:
        temporary = Path(handle.name)
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in files.items():
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                mode = EXECUTABLE if name in ("setup.sh", "run_autograder") else 0o644
                info.external_attr = (stat.S_IFREG | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                data = content.read_bytes() if isinstance(content, Path) else content.encode()
                archive.writestr(info, data)
        temporary.replace(output)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_tree(files: dict[str, Path | str], folder: Path) -> None:
    for name, content in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        else:
            target.write_text(content)
        target.chmod(EXECUTABLE if name in ("setup.sh", "run_autograder") else 0o644)
