"""Find the formula a written answer gives for a target, and say how surely it was read.

The trusted side of formula answers: the sheet's converter calls `find_formula` on the section
of a sheet that answers a part, and stages `program` (data) for the sandboxed child, where
`grader.written.evaluate.formula_function(program)` turns it into the part's function.

    found = find_formula(section_text, names=["eta^*"],
                         symbols={"X": "X", "t": "t", "w_0": "w0", "a": "X w_0 - t",
                                  "n": "\\\\operatorname{rows}(X)"},
                         args=["X", "t", "w0"], sample={"X": ..., "t": ..., "w0": ...})

`names` are the left sides the answer may have, in the normalised notation of latex_math
(`eta^*`, `L_1`, `w_1`, `L_1(eta)`). `symbols` say what each sheet symbol means, written in
the same LaTeX-ish notation, where a word equal to one of `args` is that argument (separate
adjacent names by spaces: `X w_0`, not `Xw_0`), other names refer to other symbols, and
`\\operatorname{rows}(X)` / `\\operatorname{cols}(X)` are X's number of rows / columns. `I` is the
identity unless a symbol says otherwise, `pi` is pi; nothing else is known.

The rules, which decide `sure`:
- The math of the section is read block by block (`$..$`, `$$..$$`, `\\[..\\]`, equation/align
  environments); a block starting with `=` continues the previous statement (chains split over
  display blocks) unless a block without `=` came between; `\\implies`, `\\Rightarrow`,
  commas and inequalities start a new statement, and so does a line or align row `name = ...`
  after a complete line (`_pieces`).
- A candidate is a statement whose left side is one of `names`. In its chain the answer is the
  LAST side that can be read, uses only known symbols and (given `sample`) evaluates; an
  earlier or later side that is undefined on `sample` is a note for the student ("the product
  X^T X a^T is undefined: shapes 5x5 and 1x3"), never a deduction.
- Not sure: a side after the chosen one that cannot be read or uses an unknown symbol (the
  final step was not understood); an unknown Greek letter read as the declared symbol OCR
  mistakes it for (`\\chi` as X, `\\omega_0` as w_0); no side usable (then `program` is
  None); two candidates that differ (on `sample` when given, else in their reading); a
  candidate that cannot be read next to one that can. The same formula repeated, or written
  two equivalent ways, is fine. Two things are not candidates that compete: a candidate
  BEFORE the chosen one whose sides all read but use letters the part does not define (a
  derivation step in the student's own variables, `\\hat w = X^T a` for some a, before
  `\\hat w = X^T (X X^T)^{-1} t`), and a side that is itself one of the part's names
  (`... = w^*` closing a chain). An earlier candidate that cannot be parsed, or that reads with
  the part's letters and differs, still sends the part to a TA.
- No candidate at all: None (the caller decides between "not answered" and review).

Bounds: a section longer than MAX_SECTION_CHARS, or a rubric symbol that cannot be read, is a
FormulaError; everything from the sheet is bounded by latex_math and evaluate.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.written.evaluate import EvaluationError, Value, as_result, as_value, evaluate_value
from grader.written.latex_math import (
    MAX_CHARS,
    Equation,
    FormulaError,
    Side,
    Tree,
    parse_definition,
    read_statement,
    shown,
    split_statements,
    statement_name,
)

MAX_SECTION_CHARS = 500_000
"""Longest section searched (a whole typed sheet is about 30,000 characters)."""
MAX_EQUATIONS = 1_000
"""Most math blocks holding '=', and lines in them that may start a statement, in a section (a
whole typed sheet has under 100): each costs a parse."""
MAX_NAME_CHARS = 200
"""Longest left side looked at: a name such as `\\mathcal{L}_1(\\eta)` is under 30."""
MAX_CANDIDATES = 12
"""Most statements for one part read in full (the last ones): a sheet repeats a result 2-3 times."""
MAX_CANDIDATE_CHARS = 40_000
"""Most text of candidate statements read in full, about a second of parsing."""
MAX_EXCERPT_CHARS = 600
"""Longest excerpt of the sheet kept with a reading."""
_AGREE = {"rtol": 1e-9, "atol": 1e-12}
"""Two candidates agree when their values on the sample are this close."""

_MATH = re.compile(
    r"\$\$(?P<display>.+?)\$\$"
    r"|\\\[(?P<bracket>.+?)\\\]"
    r"|\\begin\{(?P<env>equation|align|alignat|gather|multline|eqnarray|displaymath)(?P<star>\*?)\}"
    r"(?P<body>.+?)\\end\{(?P=env)(?P=star)\}"
    r"|(?<![\\$])\$(?P<inline>[^$\n]+?)\$",
    re.S,
)
_CONSTANTS: dict[str, Tree] = {"I": ("eye",), "pi": ("num", math.pi)}
_LOOK_ALIKES = {"chi": "X", "omega": "w", "varpi": "w"}
"""Greek letters math OCR reads for handwritten Latin ones (sheet 003 has `\\chi` for X)."""


@dataclass(frozen=True)
class FormulaFound:
    """How a part's formula was read. `shown` is `name = formula` in plain notation (what the
    student sees and a TA groups by), `line` the 0-based line in the section where its
    statement starts, `excerpt` the sheet's text (bounded), `program` what
    `evaluate.formula_function` takes (None when no side could be used), `notes` remarks for
    the student, `sure` whether it may be graded without a human, `reason` why not."""

    shown: str
    line: int
    excerpt: str
    program: Mapping[str, Any] | None
    notes: tuple[str, ...] = ()
    sure: bool = True
    reason: str = ""


@dataclass
class _Statement:
    line: int
    start: int
    end: int
    sides: list[str]
    error: str = ""
    """Why the block could not be split at all (its left side was still read, so a student who
    left a brace open hears about it)."""


@dataclass
class _Choice:
    """One candidate statement, read: the side chosen, its value, and what to tell."""

    statement: _Statement
    equation: Equation
    program: Mapping[str, Any] | None = None
    value: Any = None
    notes: list[str] = field(default_factory=list)
    problem: str = ""
    step: bool = False
    """Every side read, but each uses a letter the part does not define: a step of the
    derivation in the student's own variables (`w = X^T a` for some a), not an answer."""


def _math_blocks(text: str) -> Iterator[tuple[int, str]]:
    """(where the math starts in `text`, the math) for each math block, in order."""
    for match in _MATH.finditer(text):
        group = next(g for g in ("display", "bracket", "body", "inline") if match[g] is not None)
        yield match.start(group), match[group]


class _Budget:
    """Counts the equations a section makes the reader look at, each costing a parse."""

    def __init__(self) -> None:
        self.spent = 0

    def spend(self) -> None:
        self.spent += 1
        if self.spent > MAX_EQUATIONS:
            raise FormulaError(f"the section has more than {MAX_EQUATIONS} equations")


_BREAK = re.compile(r"\n|\\\\")
_MATRIX_SPAN = re.compile(r"\\begin\{([bpBv]?|small)matrix\}.*?\\end\{\1matrix\}", re.S)
_OPEN_ENDED = re.compile(r"(?:[-+=*/,(\[{]|\\cdot|\\times|\\left\S?)\s*$")
_BRACKET = re.compile(r"(?<!\\)[{}]|[()\[\]]|\\begin\b|\\end\b")
_DEPTH = {"{": 1, "(": 1, "[": 1, "\\begin": 1, "}": -1, ")": -1, "]": -1, "\\end": -1}


def _pieces(body: str, budget: _Budget) -> Iterator[tuple[int, str]]:
    """The block cut where a new statement starts on a new line or align row: (offset, text).

    TeX reads a line break as a space, but sheets put one equation per line (`\\frac{d}{d\\eta}
    L_1 = ...` then `\\frac{d^2}{d\\eta^2} L_1 = ...`, or `a &= ... \\\\ \\eta^* &= ...`). A
    line starts a new statement when the text before it is complete (brackets balanced, not
    ending in an operator) and the line is `name = ...` for a name `statement_name` knows.
    Linear in the block: each line is looked at once.
    """
    if len(body) > MAX_CHARS:  # split_statements refuses it with the reason
        yield 0, body
        return
    matrices = [m.span() for m in _MATRIX_SPAN.finditer(body)]
    cuts = [
        m.end() for m in _BREAK.finditer(body) if not any(a <= m.start() < b for a, b in matrices)
    ]
    brackets = [(m.start(), _DEPTH[m.group()]) for m in _BRACKET.finditer(body)]
    start = depth = seen = 0
    for cut, following in zip(cuts, [*cuts[1:], len(body)], strict=False):
        while seen < len(brackets) and brackets[seen][0] < cut:
            depth += brackets[seen][1]
            seen += 1
        line = body[cut:following].lstrip(" \t&")
        left = line.split("=", 1)[0]
        tail = body[max(start, cut - 64) : cut].rstrip().removesuffix("\\\\")
        if (
            "=" in line
            and not line.startswith("=")
            and len(left) <= MAX_NAME_CHARS
            and depth == 0
            and not _OPEN_ENDED.search(tail)
        ):
            budget.spend()
            if _name_of(left):
                yield start, body[start:cut]
                start = cut
    yield start, body[start:]


def _statements(text: str) -> Iterator[_Statement]:
    previous: _Statement | None = None
    budget = _Budget()
    counted, line = 0, 0  # lines are counted as the blocks go, once over the text
    for block_start, body in _math_blocks(text):
        if "=" not in body:  # neither a candidate nor a continuation, but it ends a chain
            if previous is not None:
                yield previous
            previous = None
            continue
        budget.spend()
        for offset, piece in _pieces(body, budget):
            start, end = block_start + offset, block_start + offset + len(piece)
            line += text.count("\n", counted, start)
            counted = start
            try:
                statements = split_statements(piece)
            except FormulaError as error:
                if previous is not None:
                    yield previous
                left, _, right = piece.partition("=")
                previous = _Statement(line, start, end, [left, right], str(error))
                continue
            for sides in statements:
                if not sides[0] and previous is not None:
                    previous.sides.extend(sides[1:])
                    previous.end = end
                    continue
                if previous is not None:
                    yield previous
                previous = _Statement(line, start, end, sides)
    if previous is not None:
        yield previous


def _name_of(text: str) -> str:
    """The normalised name of LaTeX written as is ('' when it is not one name)."""
    try:
        statements = split_statements(text)
    except FormulaError:
        return ""
    if len(statements) != 1 or len(statements[0]) != 1:
        return ""
    return statement_name(statements[0][0])


def _normal_name(name: str) -> str:
    return _name_of(name) or name


def read_symbols(symbols: Mapping[str, str], args: Sequence[str]) -> dict[str, Tree]:
    """Each sheet symbol's meaning as a tree over the arguments (other symbols resolved).

    Raises FormulaError naming the symbol when its meaning cannot be read or refers to itself,
    so a rubric can be checked when it is loaded.
    """
    raw: dict[str, Tree] = {}
    for name, meaning in symbols.items():
        try:
            raw[_normal_name(name)] = parse_definition(meaning, tuple(args))
        except FormulaError as error:
            raise FormulaError(f"symbol {name}: {error}") from None
    resolved: dict[str, Tree] = {}

    def resolve(name: str, seen: tuple[str, ...]) -> Tree:
        if name in seen:
            raise FormulaError(f"symbol {seen[0]}: its meaning refers back to itself")
        if name not in resolved:
            resolved[name] = _substitute(
                raw[name], lambda n: resolve(n, (*seen, name)) if n in raw else None
            )
        return resolved[name]

    for name in raw:
        left = _symbols_of(resolve(name, ()))
        if left:
            raise FormulaError(
                f"symbol {name}: {', '.join(sorted(left))} is neither an argument nor a symbol"
            )
    return resolved


def _substitute(tree: Tree, lookup: Any) -> Tree:
    """The tree with every `sym` replaced by `lookup(name)` (None: a constant or left as is)."""
    if tree[0] == "sym":
        found = lookup(tree[1])
        if found is not None:
            return found  # type: ignore[no-any-return]
        return _CONSTANTS.get(tree[1], tree)
    if tree[0] == "matrix":
        return ("matrix", tuple(tuple(_substitute(e, lookup) for e in row) for row in tree[1]))
    return (tree[0], *(_substitute(c, lookup) if isinstance(c, tuple) else c for c in tree[1:]))


def _symbols_of(tree: Tree) -> set[str]:
    if tree[0] == "sym":
        return {str(tree[1])}
    if tree[0] == "matrix":
        return set().union(*(_symbols_of(e) for row in tree[1] for e in row))
    return set().union(*(_symbols_of(c) for c in tree[1:] if isinstance(c, tuple)))


def _sample_values(
    definitions: Mapping[str, Tree], sample: Mapping[str, Any]
) -> tuple[dict[str, Value], dict[str, Value]]:
    try:
        arguments = {name: as_value(value, name) for name, value in sample.items()}
    except ValueError as error:
        raise FormulaError(f"the sample case cannot be used: {error}") from None
    symbols: dict[str, Value] = {}
    for name, tree in definitions.items():
        try:
            symbols[name] = evaluate_value(tree, arguments, {})
        except ValueError as error:
            raise FormulaError(f"symbol {name} is undefined on the sample: {error}") from None
    return arguments, symbols


class _Reader:
    def __init__(
        self,
        definitions: Mapping[str, Tree],
        args: Sequence[str],
        sample: Mapping[str, Any] | None,
    ) -> None:
        self.definitions = definitions
        self.args = list(args)
        self.values = _sample_values(definitions, sample) if sample is not None else None

    def unknown(self, tree: Tree) -> set[str]:
        return _symbols_of(tree) - set(self.definitions) - set(_CONSTANTS)

    def repaired(self, tree: Tree) -> tuple[Tree, list[str]]:
        """The tree with unknown OCR look-alikes (`chi` for X) read as the known symbol they
        resemble, and the repairs made ('chi as X'), which make the reading unsure."""
        repairs: dict[str, str] = {}
        for name in self.unknown(tree):
            base = re.match(r"[A-Za-z]+", name)
            if base and base.group() in _LOOK_ALIKES:
                meant = _LOOK_ALIKES[base.group()] + name[base.end() :]
                if meant in self.definitions:
                    repairs[name] = meant
        if not repairs:
            return tree, []
        fixed = _substitute(tree, lambda n: ("sym", repairs[n]) if n in repairs else None)
        return fixed, [f"{name} as {meant}" for name, meant in sorted(repairs.items())]

    def evaluate(self, tree: Tree) -> tuple[Any, str]:
        """(value, '') on the sample, or (None, why it is undefined)."""
        if self.values is None:
            return None, ""
        arguments, symbols = self.values
        own = self.definitions  # sheet symbols stay symbols, so a failure is named as written
        try:
            value = evaluate_value(
                _substitute(tree, lambda n: ("sym", n) if n in own else None), arguments, symbols
            )
            return as_result(value), ""
        except EvaluationError as error:
            return None, _undefined(error)
        except ValueError as error:
            return None, str(error)

    def choose(self, statement: _Statement, equation: Equation, names: set[str]) -> _Choice:
        choice = _Choice(statement, equation)
        later_problem = ""
        own_letters = True
        for position in range(len(equation.sides) - 1, -1, -1):
            side = equation.sides[position]
            if statement_name(side.source) in names:
                continue  # `w = X^T (X X^T)^{-1} t = w^*`: the chain names what it defined
            if side.tree is None:
                own_letters = False
                later_problem = (
                    later_problem or f"'{_as_written(side)}' could not be read: {side.error}"
                )
                continue
            reading, repairs = self.repaired(side.tree)
            unknown = self.unknown(reading)
            if unknown:
                later_problem = later_problem or (
                    f"'{shown(side.tree)}' uses {', '.join(sorted(unknown))}, which this part "
                    "does not define"
                )
                continue
            value, undefined = self.evaluate(reading)
            if undefined:
                own_letters = False
                choice.notes.append(undefined)
                continue
            choice.value = value
            choice.program = {
                "args": self.args,
                "tree": _substitute(reading, self.definitions.get),
                "shown": f"{equation.name} = {shown(reading)}",
            }
            for earlier in equation.sides[:position]:
                if earlier.tree is not None and not self.unknown(earlier.tree):
                    problem = self.evaluate(earlier.tree)[1]
                    if problem:
                        choice.notes.append(problem)
            problems = [f"the last step {later_problem}"] if later_problem else []
            if repairs:
                problems.append(f"read {', '.join(repairs)}, letters handwriting OCR confuses")
            choice.problem = "; ".join(problems)
            return choice
        choice.problem = later_problem or "no side of it is defined on the sample"
        choice.step = own_letters and bool(later_problem)
        return choice


def _undefined(error: EvaluationError) -> str:
    try:
        where = shown(tuple(error.node))  # the operation as the student wrote it
    except FormulaError:
        return str(error)
    kind = error.node[0] if error.node else ""
    what = {"mul": "the product", "add": "the sum", "sub": "the difference"}.get(kind)
    message = str(error)
    if what and "undefined" in message:
        return f"{what} {where} is undefined: {message.split(': ', 1)[-1]}"
    return f"{where}: {message}"


_BARS = {"\\lnorm": "\\|", "\\rnorm": "\\|", "\\labs": "|", "\\rabs": "|"}


def _as_written(side: Side) -> str:
    """A side that was not used, for the student: its reading, or its text when unreadable."""
    if side.tree is not None:
        return shown(side.tree)
    text = side.source
    for command, bar in _BARS.items():
        text = text.replace(command, bar)
    return _brief(text)


def _brief(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _agree(first: Any, second: Any) -> bool:
    if first is None or second is None:
        return first is second
    a, b = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, **_AGREE, equal_nan=True))


def _excerpt(text: str, statement: _Statement) -> str:
    start = text.rfind("\n", 0, statement.start) + 1
    end = text.find("\n", statement.end)
    excerpt = text[start : end if end >= 0 else len(text)].strip()
    return (
        excerpt if len(excerpt) <= MAX_EXCERPT_CHARS else excerpt[: MAX_EXCERPT_CHARS - 3] + "..."
    )


def _equation(statement: _Statement) -> Equation:
    """The statement read; a block that could not be split keeps its error on its first
    right-hand side (as written), and the sides that continue it are read as usual."""
    if not statement.error:
        return read_statement(statement.sides)
    left, broken, *rest = statement.sides
    continued = read_statement(["", *rest]).sides
    return Equation(
        _name_of(left),
        Side(left, None, statement.error),
        (Side(broken, None, statement.error), *continued),
    )


def _within_budget(candidates: list[_Statement]) -> list[_Statement]:
    """The last candidates, as many as MAX_CANDIDATES and MAX_CANDIDATE_CHARS allow (one at
    least: a single statement is bounded by latex_math's own bounds)."""
    kept: list[_Statement] = []
    chars = 0
    for statement in reversed(candidates):
        chars += sum(len(side) for side in statement.sides)
        if kept and (len(kept) == MAX_CANDIDATES or chars > MAX_CANDIDATE_CHARS):
            break
        kept.append(statement)
    return kept[::-1]


def find_formula(
    text: str,
    names: Sequence[str],
    symbols: Mapping[str, str],
    args: Sequence[str],
    sample: Mapping[str, Any] | None,
) -> FormulaFound | None:
    """The formula `text` gives for one of `names`, read by the rules of the module docstring;
    None when no statement has such a left side. FormulaError for a section over the bounds, a
    symbol the rubric declares but that cannot be read or is undefined on `sample`, or a
    `sample` that is not numbers and arrays of at most 2 dimensions."""
    if len(text) > MAX_SECTION_CHARS:
        raise FormulaError(
            f"the section is {len(text)} characters long; at most {MAX_SECTION_CHARS}"
        )
    accepted = {_normal_name(name) for name in names}
    reader = _Reader(read_symbols(symbols, args), args, sample)
    candidates = [
        statement
        for statement in _statements(text)
        if len(statement.sides) > 1
        and len(statement.sides[0]) <= MAX_NAME_CHARS
        and (_name_of if statement.error else statement_name)(statement.sides[0]) in accepted
    ]
    if not candidates:
        return None
    kept = _within_budget(candidates)
    choices = [reader.choose(s, _equation(s), accepted) for s in kept]
    read = [c for c in choices if c.program is not None]
    final = read[-1] if read else choices[-1]
    before = next(index for index, choice in enumerate(choices) if choice is final)
    choices = [c for index, c in enumerate(choices) if not (c.step and index < before)]
    reasons = [final.problem] if final.problem else []
    if len(kept) < len(candidates):
        reasons.append(
            f"{len(candidates)} statements define {final.equation.name}; only the last "
            f"{len(kept)} were read"
        )
    readings = {str(c.program["shown"]) for c in read if c.program is not None}
    if len(read) < len(choices) and read:
        failed = next(c for c in choices if c.program is None)
        reasons.append(
            f"another formula for {failed.equation.name} at line "
            f"{failed.statement.line + 1} could not be used: {failed.problem}"
        )
    if len(readings) > 1:
        differ = any(not _agree(c.value, final.value) for c in read) if sample is not None else True
        if differ:
            lines = ", ".join(str(c.statement.line + 1) for c in read)
            reasons.append(
                f"{len(readings)} different formulas for {final.equation.name} (lines {lines})"
            )
    notes = tuple(dict.fromkeys(note for c in read for note in c.notes))
    program = final.program
    shown_text = (
        str(program["shown"])
        if program is not None
        else f"{final.equation.name} = {_as_written(final.equation.sides[-1])}"
    )
    return FormulaFound(
        shown=shown_text,
        line=final.statement.line,
        excerpt=_excerpt(text, final.statement),
        program=program,
        notes=notes,
        sure=not reasons,
        reason="; ".join(reasons),
    )
