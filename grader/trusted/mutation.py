"""Automatic mutants of reference functions, and the ones a random case may fail to reveal.

A mutant is a reference function with one small change to its body (factors 2 and 1/2, +-1 on
integers (n <-> d indices, off-by-one loop counts), + <-> -, * <-> /, true -> integer division,
dropped terms, dropped signs, dropped transposes and flips, swapped arguments, < <-> <=, a
negated result): the generic wrong answers a student may hand in. `grader mutants` grades them
as submissions (grading.mutants); the engine draws random cases that tell the truth from the
`lurking` ones (those that agree with it on some cases and not on others), so such an answer
cannot earn credit on a case where it happens to be right. Mutants are trusted code: the
reference's own source, changed here, never anything a student sent.
"""

from __future__ import annotations

import ast
import copy
import inspect
import textwrap
import warnings
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checks import compare
from grader.checks.property import PropertyCheck
from grader.errors import ReferenceModuleError
from grader.rubric.model import AutoPart
from grader.trusted import mutant_cache
from grader.trusted.arguments import fresh
from grader.trusted.cases import typed_arguments
from grader.trusted.line_budget import OverBudget, budget_for, counted_call
from grader.trusted.reference import ReferenceModule

# --- making mutants --------------------------------------------------------------------------


def _replacements(node: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """Each mutation of one node: (what changed, the node that replaces it)."""
    value = node.value if isinstance(node, ast.Constant) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value != 0:
        yield f"{value!r} -> {value * 2!r}", ast.Constant(value * 2)
        yield f"{value!r} -> {value / 2!r}", ast.Constant(value / 2)
    if isinstance(value, int) and not isinstance(value, bool):
        yield f"{value} -> {value + 1}", ast.Constant(value + 1)
        if value > 0:
            yield f"{value} -> {value - 1}", ast.Constant(value - 1)
    if isinstance(node, ast.BinOp):
        swaps: dict[type[ast.operator], tuple[type[ast.operator], ...]] = {
            ast.Add: (ast.Sub,),
            ast.Sub: (ast.Add,),
            ast.Mult: (ast.Div,),
            ast.Div: (ast.Mult, ast.FloorDiv),
            ast.FloorDiv: (ast.Div,),
            ast.Pow: (ast.Mult,),
        }
        for other in swaps.get(type(node.op), ()):
            yield (
                f"{type(node.op).__name__} -> {other.__name__}",
                ast.BinOp(node.left, other(), node.right),
            )
        if isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            yield f"dropped the right operand of {type(node.op).__name__}", node.left
            yield f"dropped the left operand of {type(node.op).__name__}", node.right
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield "dropped a minus sign", node.operand
    if isinstance(node, ast.Attribute) and node.attr == "T":
        yield "dropped a transpose", node.value
    if isinstance(node, ast.Subscript) and "::-1" in ast.unparse(node.slice):
        yield "dropped a flip", node.value
    if isinstance(node, ast.Call) and len(node.args) >= 2 and not node.keywords:
        args = [node.args[1], node.args[0], *node.args[2:]]
        yield "swapped two arguments", ast.Call(node.func, args, [])
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        flips = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}
        other_op = flips.get(type(node.ops[0]))
        if other_op is not None:
            yield "< <-> <=", ast.Compare(node.left, [other_op()], node.comparators)
    if isinstance(node, ast.Return) and node.value is not None:
        yield "negated the result", ast.Return(ast.UnaryOp(ast.USub(), node.value))


class _Replace(ast.NodeTransformer):
    def __init__(self, index: int, replacement: ast.AST) -> None:
        self.index, self.replacement, self.seen = index, replacement, -1

    def generic_visit(self, node: ast.AST) -> ast.AST:
        self.seen += 1
        if self.seen == self.index:
            return self.replacement
        return super().generic_visit(node)


def _nodes(tree: ast.AST) -> list[ast.AST]:
    """Nodes in the order _Replace visits them (pre-order), the docstring left out."""
    order: list[ast.AST] = []

    class Walk(ast.NodeVisitor):
        def generic_visit(self, node: ast.AST) -> None:
            order.append(node)
            super().generic_visit(node)

    Walk().visit(tree)
    return order


MutantNumber = tuple[int, int]
"""(node, replacement): which node of a function's tree is replaced (in _nodes' order) by which
of its _replacements. Stable for a given source, so a mutant is named and rebuilt by it."""


def _body_nodes(original: str) -> tuple[list[ast.AST], set[int]]:
    """The nodes of a function's source in _Replace's order, and the indexes of those outside
    its body (the definition itself, its arguments, its docstring), which are never mutated."""
    tree = ast.parse(original)
    definition = tree.body[0]
    assert isinstance(definition, ast.FunctionDef)
    body = definition.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    inside = {id(n) for s in body for n in _nodes(s)}
    order = _nodes(tree)
    return order, {index for index, node in enumerate(order) if id(node) not in inside}


def _mutated(original: str, index: int, replacement: ast.AST) -> str | None:
    """The source with node `index` replaced; None for an impossible tree (a dropped operand
    under a keyword)."""
    # A fresh parse is a fresh tree, in a tenth of the time a deep copy takes.
    mutated = _Replace(index, copy.deepcopy(replacement)).visit(ast.parse(original))
    try:
        return ast.unparse(ast.fix_missing_locations(mutated))
    except Exception:
        return None


def numbered_mutants(function: Callable[..., Any]) -> Iterator[tuple[MutantNumber, str, str]]:
    """(its number, what changed, the mutated source) for each mutant of one function's body."""
    original = textwrap.dedent(inspect.getsource(function))
    order, outside = _body_nodes(original)
    for index, node in enumerate(order):
        if index in outside:
            continue
        for choice, (change, replacement) in enumerate(_replacements(node)):
            source = _mutated(original, index, replacement)
            if source is not None:
                yield (index, choice), f"line {getattr(node, 'lineno', 0)}: {change}", source


def function_mutants(function: Callable[..., Any]) -> Iterator[tuple[str, str]]:
    """(what changed, the mutated source) for each mutant of one function's body."""
    for _, change, source in numbered_mutants(function):
        yield change, source


def numbered_mutant(function: Callable[..., Any], number: MutantNumber) -> tuple[str, str] | None:
    """(what changed, the mutated source) of one mutant, rebuilt from its number alone (what
    numbered_mutants gave it), without making the others; None if the number names none."""
    original = textwrap.dedent(inspect.getsource(function))
    order, outside = _body_nodes(original)
    index, choice = number
    if not 0 <= index < len(order) or index in outside or choice < 0:
        return None
    node = order[index]
    for candidate, (change, replacement) in enumerate(_replacements(node)):
        if candidate == choice:
            source = _mutated(original, index, replacement)
            return (
                None if source is None else (f"line {getattr(node, 'lineno', 0)}: {change}", source)
            )
    return None


def _helpers(function: Callable[..., Any], module: Any) -> list[Callable[..., Any]]:
    """The function and the module functions it calls by name, one level deep."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    found = [function]
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id != function.__name__:
            helper = getattr(module, node.id, None)
            if (
                inspect.isfunction(helper)
                and helper.__module__ == function.__module__
                and helper not in found
            ):
                found.append(helper)
    return found


def _compiled(
    name: str, reference: ReferenceModule, mutated: Callable[..., Any], source: str
) -> Callable[..., Any] | None:
    """`name` as it is when `mutated` (itself or a helper it calls) has the mutant's source;
    None if the mutant does not compile."""
    module = reference.module
    target = reference.function(name, field="mutants")
    namespace = dict(vars(module))
    try:
        exec(compile(source, _mutant_file(mutated.__name__), "exec"), namespace)
        if mutated is not target:
            own = textwrap.dedent(inspect.getsource(target))
            exec(compile(own, _recompiled_file(name), "exec"), namespace)
    except Exception:  # a mutant that does not compile is no mutant
        return None
    function: Callable[..., Any] = namespace[name]
    return function


def _mutant_file(where: str) -> str:
    """The file name a mutant of `where` is compiled under (its code objects carry it)."""
    return f"<mutant of {where}>"


def _recompiled_file(name: str) -> str:
    """The file name `name` is compiled under again when a helper it calls is mutated."""
    return f"<{name}>"


def course_files(name: str, reference: ReferenceModule) -> frozenset[str]:
    """The file names of the code a mutant of `name` (or of a helper) runs that is the course's
    own, whose lines line_budget counts: the reference module and the mutants' sources."""
    target = reference.function(name, field="mutants")
    helpers = _helpers(target, reference.module)
    return frozenset(
        {
            target.__code__.co_filename,
            _recompiled_file(name),
            *(_mutant_file(helper.__name__) for helper in helpers),
        }
    )


def mutants_of(
    name: str, reference: ReferenceModule
) -> Iterator[tuple[str, str, Callable[..., Any]]]:
    """(where, what changed, the mutant of `name`) for mutants of it and of its helpers."""
    for where, _, change, mutant in numbered_mutants_of(name, reference):
        yield where, change, mutant


def numbered_mutants_of(
    name: str, reference: ReferenceModule
) -> Iterator[tuple[str, MutantNumber, str, Callable[..., Any]]]:
    """(where, its number there, what changed, the mutant of `name`), as mutants_of."""
    target = reference.function(name, field="mutants")
    for mutated in _helpers(target, reference.module):
        for number, change, source in numbered_mutants(mutated):
            mutant = _compiled(name, reference, mutated, source)
            if mutant is not None:
                yield mutated.__name__, number, change, mutant


def rebuilt_mutant(
    name: str, reference: ReferenceModule, where: str, number: MutantNumber
) -> tuple[str, Callable[..., Any]] | None:
    """(what changed, the mutant of `name`) numbered `number` in `where` (`name` or one of its
    helpers), made alone; None if there is no such mutant."""
    target = reference.function(name, field="mutants")
    for mutated in _helpers(target, reference.module):
        if mutated.__name__ == where:
            made = numbered_mutant(mutated, number)
            if made is None:
                return None
            mutant = _compiled(name, reference, mutated, made[1])
            return None if mutant is None else (made[0], mutant)
    return None


# --- lurking mutants ---------------------------------------------------------------------------

PROBES = 12
"""Random cases, drawn with a fixed seed, that sort each mutant at rubric load."""
PROBE_SEED = 2516
SCREEN = 4
"""A mutant wrong on each of the first SCREEN probes is not looked at further: it is wrong on
nearly every case (so any random case tells it apart), and most mutants are."""
MAX_LURKING = 12
"""Lurking mutants kept per part (distinct answers first come, first kept): what a case is
checked against, so a redraw costs at most this many calls of reference-sized functions."""


@dataclass(frozen=True)
class Lurking:
    """A mutant that gives the right answer on some probe cases and a wrong one on others."""

    where: str
    change: str
    function: Callable[..., Any]
    number: MutantNumber
    """Its number in `where` (numbered_mutants), which names it in the cross-process cache."""

    @property
    def label(self) -> str:
        return f"{self.where}: {self.change}"

    def agrees(self, part: AutoPart, kwargs: dict[str, Any], expected: Any) -> bool:
        """Whether the mutant gives the canonical answer on this case (a crash does not)."""
        return _agrees(part, self.function, kwargs, expected)


def _agrees(
    part: AutoPart, function: Callable[..., Any], kwargs: dict[str, Any], expected: Any
) -> bool:
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = function(**fresh(kwargs))
            return bool(compare(part.check, value, expected, reveal=False).passed)
    except Exception:  # a mutant that fails on a case is told apart by it
        return False


_CACHE: weakref.WeakKeyDictionary[ReferenceModule, dict[str, list[Lurking]]] = (
    weakref.WeakKeyDictionary()
)


def lurking_mutants(part: AutoPart, reference: ReferenceModule) -> list[Lurking]:
    """The part's lurking mutants, found once per process and reference module (at rubric load
    in the engine): none for a constant, a predicate, a harness or a part without random
    cases, which have nothing to redraw."""
    spec = part.function
    if (
        spec is None
        or spec.reference is None
        or spec.random is None
        or spec.harness is not None
        or isinstance(part.check, PropertyCheck)
    ):
        return []
    key = part.model_dump_json(include={"check", "function"})
    known = _CACHE.setdefault(reference, {})
    if key not in known:
        known[key] = _remembered(part, reference, key)
    return known[key]


def _remembered(part: AutoPart, reference: ReferenceModule, spec_json: str) -> list[Lurking]:
    """The part's lurking mutants from the cross-process cache (mutant_cache), rebuilt by
    number, or found and stored there when the entry is missing or does not rebuild."""
    assert part.function is not None and part.function.reference is not None
    name = part.function.reference
    try:
        key = mutant_cache.entry_key(reference.path, spec_json)
    except OSError:  # the course files are gone since they were loaded: nothing to key it by
        key = None
    if key is None:
        return _find_lurking(part, reference)
    stored = mutant_cache.read_entry(key)
    if stored is not None:
        rebuilt = _rebuilt(name, reference, stored)
        if rebuilt is not None:
            return rebuilt
    found = _find_lurking(part, reference)
    mutant_cache.write_entry(
        key, [mutant_cache.StoredMutant(m.where, *m.number, m.change) for m in found]
    )
    return found


def _rebuilt(
    name: str, reference: ReferenceModule, stored: list[mutant_cache.StoredMutant]
) -> list[Lurking] | None:
    """The stored mutants made again, or None if any of them does not rebuild to the change
    it was stored with (an entry from other code, or not this cache's)."""
    rebuilt = []
    for mutant in stored:
        number = (mutant.node, mutant.choice)
        made = rebuilt_mutant(name, reference, mutant.where, number)
        if made is None or made[0] != mutant.change:
            return None
        rebuilt.append(Lurking(mutant.where, mutant.change, made[1], number))
    return rebuilt


@dataclass(frozen=True)
class _Probe:
    kwargs: dict[str, Any]
    expected: Any
    budget: int
    """The lines a mutant may run on it (line_budget.budget_for the reference's count)."""


def _find_lurking(part: AutoPart, reference: ReferenceModule) -> list[Lurking]:
    """The part's lurking mutants. A mutant that runs past its line budget on a probe is too
    slow, and left out: a count, the same on any machine (line_budget)."""
    spec = part.function
    assert spec is not None and spec.reference is not None and spec.random is not None
    truth = reference.function(spec.reference, field="function.reference")
    generator = reference.function(spec.random.generator, field="function.random.generator")
    files = course_files(spec.reference, reference)
    what = f"{reference.path}: {spec.reference}"
    rng = np.random.default_rng(PROBE_SEED)
    probes = []
    for _ in range(PROBES):
        drawn = generator(rng)
        kwargs = typed_arguments(
            {name: drawn[name] for name in spec.args}, spec.array_args, spec.tensor_args
        )
        expected, lines = counted_call(truth, fresh(kwargs), files, what=what)
        probes.append(_Probe(kwargs, expected, budget_for(lines)))
    found: list[Lurking] = []
    seen: set[tuple[Any, ...]] = set()
    for where, number, change, mutant in numbered_mutants_of(spec.reference, reference):
        label = f"{what} (its mutant {where}: {change})"
        agreeing: list[bool] = []
        for probe in probes:
            agrees = _screened(part, mutant, probe, files, label)
            if agrees is None:
                break  # too slow: left out
            agreeing.append(agrees)
            if len(agreeing) == SCREEN and not any(agreeing):
                break  # wrong on every screening case: most mutants are, and random cases show it
        if len(agreeing) < PROBES or all(agreeing):
            continue
        outputs = tuple(_answer_key(mutant, probe, files, label) for probe in probes)
        if (*agreeing, *outputs) in seen:
            continue
        seen.add((*agreeing, *outputs))
        found.append(Lurking(where, change, mutant, number))
        if len(found) == MAX_LURKING:
            break
    return found


def _screened(
    part: AutoPart, mutant: Callable[..., Any], probe: _Probe, files: frozenset[str], what: str
) -> bool | None:
    """Whether the mutant gives the canonical answer on a probe (a crash does not); None when
    it ran past the probe's line budget."""
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value, _ = counted_call(mutant, fresh(probe.kwargs), files, probe.budget, what)
            return bool(compare(part.check, value, probe.expected, reveal=False).passed)
    except OverBudget:
        return None
    except ReferenceModuleError:
        raise  # the safety cap: the rubric's author must hear of it
    except Exception:  # a mutant that fails on a case is told apart by it
        return False


def _answer_key(
    function: Callable[..., Any], probe: _Probe, files: frozenset[str], what: str
) -> Any:
    """A hashable summary of a mutant's answer on a probe, to keep one mutant per behaviour."""
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            answer, _ = counted_call(function, fresh(probe.kwargs), files, probe.budget, what)
            value = np.asarray(answer, dtype=np.float64)
        return (value.shape, np.round(value, 9).tobytes())
    except ReferenceModuleError:
        raise
    except Exception:
        return None
