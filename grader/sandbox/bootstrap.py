"""The program text that starts a sandboxed interpreter: a child (`child_main`) or a zygote
(`zygote_main`) gets the grader's sandbox modules as source on its command line.

Apart from the runner so that a command can start its zygote before it imports the runner's
session machinery and, through `wire`, numpy: the zygote's imports then overlap with the
trusted process's own (see grader.sandbox.zygote).
"""

from __future__ import annotations

import functools
from pathlib import Path

SANDBOX_DIR = Path(__file__).parent
CHILD_MODULES = ("wire", "landlock", "seccomp_filter", "layers")
CHILD_LIBRARIES = {"grader.written.evaluate": SANDBOX_DIR.parent / "written" / "evaluate.py"}
"""Grader modules a staged submission may import in the child (a written sheet's module calls
the formula evaluator): each imports only numpy and the standard library, and is installed from
its source text like the sandbox's own modules, since no grader file is readable in there."""
MAIN_HELPERS = {"zygote_main": ("warmup",)}
"""Modules a main module needs beyond the child's: the zygote's warm-ups, which a child started
as a fresh interpreter never runs."""
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)


def _shown_path(path: Path) -> str:
    return f"grader/{path.relative_to(SANDBOX_DIR.parent).as_posix()}"


def _install_source(path: Path, module: str) -> list[str]:
    return [
        f"_m = types.ModuleType({module!r}); sys.modules[{module!r}] = _m",
        f"exec(compile({path.read_text()!r}, {_shown_path(path)!r}, 'exec'), _m.__dict__)",
    ]


def _bootstrap_source(main_module: str) -> str:
    """Python source that installs the child's modules under their grader names, then runs
    `main_module`'s main. The child gets the grader's code as text on its command line, so no
    file of the grader's has to be readable from inside the sandbox."""
    packages = {"grader.sandbox"} | {name.rpartition(".")[0] for name in CHILD_LIBRARIES}
    lines = [
        "import sys, types, json",
        f"for _n in {('grader', *sorted(packages))!r}:",
        "    _m = types.ModuleType(_n); _m.__path__ = []; sys.modules[_n] = _m",
        "    _p, _, _s = _n.rpartition('.')",
        "    if _p: setattr(sys.modules[_p], _s, _m)",
    ]
    for name in CHILD_MODULES + MAIN_HELPERS.get(main_module, ()):
        lines += _install_source(SANDBOX_DIR / f"{name}.py", f"grader.sandbox.{name}")
        lines.append(f"setattr(sys.modules['grader.sandbox'], {name!r}, _m)")
    for module, path in CHILD_LIBRARIES.items():
        package, _, attribute = module.rpartition(".")
        lines += _install_source(path, module)
        lines.append(f"setattr(sys.modules[{package!r}], {attribute!r}, _m)")
    lines += _install_source(SANDBOX_DIR / "child_main.py", "grader_child")
    if main_module != "child_main":
        lines += _install_source(SANDBOX_DIR / f"{main_module}.py", f"grader_{main_module}")
    lines.append("_m.main(json.loads(sys.argv[1]))")
    return "\n".join(lines) + "\n"


@functools.cache
def bootstrap_source(main_module: str = "child_main") -> str:
    """The bootstrap for a child (`child_main`) or a zygote (`zygote_main`)."""
    return _bootstrap_source(main_module)
