"""LaTeX math as students write it, read into a plain expression tree that keeps products in order.

Why our own grammar: the libraries tried on real sheets (SymPy's parse_latex with either
backend, latex2sympy2, math-verify) either drop valid input silently or treat matrix products
as commutative, so X^T X and X X^T read the same. Here a product is always `("mul", left,
right)` in the order written, and the evaluator (`evaluate.py`) multiplies matrices in that
order.

The tree is plain data (tuples of str/int/float), so it can be written into a staged module as
a literal and evaluated in the sandboxed child without anything of the student's being run:

    ("num", 2) ("num", 0.5)     numbers as written (no sign: minus is ("neg", x))
    ("sym", "eta^*")            a name from the sheet, normalised (see `name rules` below)
    ("arg", "X")                an argument of the part's function (only in definitions)
    ("eye",)                    the identity, sized by the operand it meets
    ("neg", x) ("add", a, b) ("sub", a, b) ("mul", a, b) ("div", a, b)
    ("pow", x, e) ("T", x) ("inv", x) ("sqrt", x) ("abs", x)
    ("norm", x, p)              p is "2" (also no subscript), "1", "inf" or "F"
    ("fn", f, x)                f in FUNCTIONS: tr det exp log rows cols diag
    ("matrix", ((a, b), (c, d)))

Name rules: wrappers are dropped (`\\mathbf{w}_0`, `\\boldsymbol{w}_{0}`, `\\hat{w}_0` are all
`w_0`), Greek letters lose their backslash (`\\eta` is `eta`), a subscript joins the name
(`L_1`, `w_10`, `x_i`), a star joins it too (`\\eta^*`, `\\eta^{*}`, `\\eta^\\ast` are `eta^*`).
A left side may also be a call (`L_1(\\eta)` is `L_1(eta)`) or a derivative however written
(`\\frac{d^2}{d\\eta^2} L_1`, `\\frac{d^2 L_1}{d\\eta^2}`, `L_1''(\\eta)` are all `L_1''`).
Single letters side by side are a product (`XX^T` is X X^T), as in TeX.

Reading an equation: `split_statements` cuts a math block into statements at `\\implies`,
`\\Rightarrow`, `\\iff`, inequalities, top-level commas and `\\text{..}`, and each statement
into its sides at top-level `=`; `parse_equation` reads one statement. Every failure is a
`FormulaError` whose message says what to fix; nothing here raises anything else, whatever the
input (lengths, nesting, exponents, matrix sizes and number lengths are bounded first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

Tree = tuple[Any, ...]
"""A node: its kind first, then its operands (see the module docstring)."""

MAX_CHARS = 10_000
"""Longest math block read: a page of derivation is about 3,000 characters, and the parser
reads about 50,000 characters a second."""
MAX_NESTING = 40
"""Deepest bracket nesting: real formulas stay under 10."""
MAX_TREE_DEPTH = 150
"""Deepest expression tree (a sum of 150 terms is that deep): bounds every recursive walk."""
MAX_POWER = 64
"""Largest integer exponent written in a formula (X^{1000000} is refused)."""
MAX_MATRIX_ENTRIES = 2_500
"""Largest matrix literal (50 x 50)."""
MAX_NUMBER_CHARS = 30
"""Longest number literal."""

FUNCTIONS = ("tr", "det", "exp", "log", "rows", "cols", "diag")
"""Functions a formula may apply: `\\operatorname{tr}(A)`, `\\mathrm{tr}(A)`, `\\det A`, `\\log`
and `\\ln`, `\\exp`, `\\operatorname{diag}(v)`, and `\\operatorname{rows}(X)` /
`\\operatorname{cols}(X)`, the number of rows / columns (how a rubric says n = rows of X)."""

_FUNCTION_WORDS = {"tr": "tr", "trace": "tr", "Tr": "tr", "det": "det", "exp": "exp"}
_FUNCTION_WORDS |= {"log": "log", "ln": "log", "rows": "rows", "cols": "cols", "diag": "diag"}

GREEK = tuple(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu "  # noqa: SIM905
    "xi pi rho varrho sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi "
    "Sigma Upsilon Phi Psi Omega ell".split()
)

_UNICODE = {
    "−": "-", "–": "-", "×": r"\times ", "·": r"\cdot ", "⋅": r"\cdot ", "∗": "*",
    "ᵀ": "^T", "⊤": r"\top ", "‖": r"\| ", "∥": r"\| ", "²": "^2", "³": "^3", "⁻¹": "^{-1}",
    "√": r"\sqrt ", "∞": r"\infty ", "⇒": r"\implies ", "⟹": r"\implies ", "≤": r"\le ",
    "≥": r"\ge ", "≈": r"\approx ", "≠": r"\ne ", "\u00a0": " ", "＝": "=",
    "α": r"\alpha ", "β": r"\beta ", "γ": r"\gamma ", "δ": r"\delta ", "ε": r"\epsilon ",
    "η": r"\eta ", "θ": r"\theta ", "λ": r"\lambda ", "μ": r"\mu ", "σ": r"\sigma ",
    "τ": r"\tau ", "φ": r"\phi ", "ω": r"\omega ", "Σ": r"\Sigma ", "π": r"\pi ",
}  # fmt: skip
"""Look-alikes that math OCR and word processors produce, mapped to the LaTeX they stand for."""

_SEPARATOR = (
    r"\\(?:implies|Longrightarrow|Rightarrow|rightarrow|iff|Leftrightarrow|therefore|leq?|geq?"
    r"|neq?|approx|propto|in|to)(?![A-Za-z])|[<>,;]|\\(?:text|mbox|textrm|textit)\s*\{[^{}]*\}"
)
"""What ends a statement: implications, inequalities, commas, and words in between."""
_MATRIX_ENVS = ("matrix", "bmatrix", "pmatrix", "Bmatrix", "smallmatrix")


class FormulaError(ValueError):
    """A formula that cannot be read, with a message the student can act on."""


@dataclass(frozen=True)
class Side:
    """One side of an equation as written (`source`), and its tree or why it is unreadable."""

    source: str
    tree: Tree | None
    error: str = ""


@dataclass(frozen=True)
class Equation:
    """`name = side = side ...`: the left side's normalised name ('' when the left side is not
    a name, as in `\\|X^T a\\|^2 = ...`) and the right-hand sides in order."""

    name: str
    lhs: Side
    sides: tuple[Side, ...]


# ---------------------------------------------------------------------------------------------
# The grammar. Letters are one symbol each (TeX's reading of `XX^T`); `&` and `\\` outside a
# matrix and every `\left`/`\right`/size command were removed before parsing (`normalise`,
# `split_statements`).

_GRAMMAR = r"""
?start: expr

?expr: expr "+" term -> add
     | expr "-" term -> sub
     | term

?term: "-" term -> neg
     | "+" term
     | product

?product: product MULOP factor -> mul
        | product "/" factor -> div
        | product postfix -> mul
        | postfix

?factor: "-" factor -> neg
       | "+" factor
       | postfix

?postfix: atom
        | postfix "^" sup -> power
        | postfix "_" arg -> subscript

?sup: arg
    | STAR -> star
    | "{" STAR "}" -> star
    | TOP -> top
    | "{" TOP "}" -> top

?arg: "{" expr "}"
    | single

?single: LETTER -> letter
       | NUMBER -> number
       | GREEK -> greek
       | INFTY -> infty
       | ARGREF -> argref

?atom: single
     | WORD -> word
     | "{" expr "}"
     | "(" expr ")"
     | "[" expr "]"
     | "\\{" expr "\\}"
     | FRAC arg arg -> frac
     | SQRT arg -> sqrt
     | SQRT "[" expr "]" arg -> root
     | "\\lnorm" expr "\\rnorm" -> norm
     | "\\labs" expr "\\rabs" -> abs
     | FUNC "(" expr ")" -> fn
     | FUNC arg -> fn
     | BEGINM rows ENDM -> matrix

rows: row ("\\\\" row)* "\\\\"?
row: expr ("&" expr)*

MULOP: "\\cdot" | "\\times" | "*" | "\\ast"
STAR: "*" | "\\ast" | "\\star"
TOP: "\\top" | "\\intercal" | "\\mathsf{T}"
LETTER: /[A-Za-z]/
NUMBER: /\d+(\.\d+)?|\.\d+/
GREEK: /\\(GREEKS)(?![A-Za-z])/
INFTY: "\\infty"
WORD: /\\word\{[A-Za-z]+\}/
ARGREF: /\\argref\{[A-Za-z_][A-Za-z0-9_]*\}/
FRAC: /\\[dtc]?frac(?![A-Za-z])/
SQRT: /\\sqrt(?![A-Za-z])/
FUNC: /\\(FUNCS)(?![A-Za-z])/
BEGINM: /\\begin\{(MATRICES)\}/
ENDM: /\\end\{(MATRICES)\}/

%ignore /\s+/
"""


@cache
def _parser() -> Lark:
    grammar = (
        _GRAMMAR.replace("GREEKS", "|".join(sorted(GREEK, key=len, reverse=True)))
        .replace("FUNCS", "|".join(FUNCTIONS))
        .replace("MATRICES", "|".join(_MATRIX_ENVS))
    )
    return Lark(grammar, parser="lalr", transformer=_Build())


def _number(text: str) -> Tree:
    if len(text) > MAX_NUMBER_CHARS:
        raise FormulaError(f"the number {text[:12]}... is longer than {MAX_NUMBER_CHARS} digits")
    return ("num", int(text)) if text.isdigit() else ("num", float(text))


def _literal_power(tree: Tree) -> float | None:
    if tree[0] == "num":
        return float(tree[1])
    if tree[0] == "neg" and tree[1][0] == "num":
        return -float(tree[1][1])
    return None


def _name_part(tree: Tree) -> str:
    """A subscript's text inside a name: `w_{t-1}` is `w_t-1`."""
    return shown(tree).replace(" ", "")


class _Build(Transformer[Token, Tree]):
    """Builds the tree while the LALR parser reduces (no recursion, whatever the input)."""

    def letter(self, c: list[Token]) -> Tree:
        return ("sym", str(c[0]))

    def greek(self, c: list[Token]) -> Tree:
        return ("sym", str(c[0])[1:])

    def infty(self, c: list[Token]) -> Tree:
        return ("sym", "infty")

    def number(self, c: list[Token]) -> Tree:
        return _number(str(c[0]))

    def word(self, c: list[Token]) -> Tree:
        return ("sym", str(c[0])[len("\\word{") : -1])

    def argref(self, c: list[Token]) -> Tree:
        return ("arg", str(c[0])[len("\\argref{") : -1])

    def add(self, c: list[Tree]) -> Tree:
        return ("add", c[0], c[1])

    def sub(self, c: list[Tree]) -> Tree:
        return ("sub", c[0], c[1])

    def neg(self, c: list[Tree]) -> Tree:
        return ("neg", c[0])

    def mul(self, c: list[Any]) -> Tree:
        return ("mul", c[0], c[-1])  # c[1] is the operator token when one was written

    def div(self, c: list[Tree]) -> Tree:
        return ("div", c[0], c[1])

    def frac(self, c: list[Any]) -> Tree:
        return ("div", c[1], c[2])

    def sqrt(self, c: list[Any]) -> Tree:
        return ("sqrt", c[1])

    def root(self, c: list[Any]) -> Tree:
        return ("pow", c[2], ("div", ("num", 1), c[1]))

    def norm(self, c: list[Tree]) -> Tree:
        return ("norm", c[0], "2")

    def abs(self, c: list[Tree]) -> Tree:
        return ("abs", c[0])

    def fn(self, c: list[Any]) -> Tree:
        return ("fn", _FUNCTION_WORDS[str(c[0])[1:]], c[1])

    def matrix(self, c: list[Any]) -> Tree:
        rows: list[list[Tree]] = c[1]
        if sum(len(row) for row in rows) > MAX_MATRIX_ENTRIES:
            raise FormulaError(f"a matrix has more than {MAX_MATRIX_ENTRIES} entries")
        if len({len(row) for row in rows}) != 1:
            raise FormulaError("the rows of a matrix have different lengths")
        return ("matrix", tuple(tuple(row) for row in rows))

    def rows(self, c: list[list[Tree]]) -> list[list[Tree]]:
        return c

    def row(self, c: list[Tree]) -> list[Tree]:
        return c

    def star(self, c: list[Token]) -> Tree:
        return ("star",)

    def top(self, c: list[Token]) -> Tree:
        return ("top",)

    def power(self, c: list[Tree]) -> Tree:
        base, sup = c
        if sup == ("star",):
            if base[0] != "sym":
                raise FormulaError("a star (^*) can only follow a name, as in \\eta^*")
            return ("sym", base[1] + "^*")
        if sup in (("top",), ("sym", "T")):
            return ("T", base)
        if sup == ("neg", ("num", 1)):
            return ("inv", base)
        if sup == ("neg", ("sym", "T")):
            return ("inv", ("T", base))
        power = _literal_power(sup)
        if power is not None and abs(power) > MAX_POWER:
            raise FormulaError(f"the exponent {power:g} is larger than {MAX_POWER}")
        return ("pow", base, sup)

    def subscript(self, c: list[Tree]) -> Tree:
        base, sub = c
        if base[0] == "sym":
            return ("sym", f"{base[1]}_{_name_part(sub)}")
        if base[0] == "norm" and base[2] == "2":
            order = {"2": "2", "1": "1", "infty": "inf", "F": "F"}.get(_name_part(sub))
            if order is None:
                raise FormulaError(f"cannot read the norm's subscript {_name_part(sub)}")
            return ("norm", base[1], order)
        raise FormulaError(f"a subscript (_{_name_part(sub)}) can only follow a name or a norm")


# ---------------------------------------------------------------------------------------------
# Before the grammar: bounds, look-alikes, decoration, and which `|` opens and which closes.

_DROP = re.compile(
    r"\\(?:begin|end)\{(?:aligned|alignedat|split|gathered)\}(?:\{\d+\})?"
    r"|\\(?:tag|label)\*?\s*\{[^{}]*\}|\\(?:nonumber|notag|displaystyle|textstyle|limits)\b"
    r"|\\(?:left|right|middle)\s*\.|\\(?:left|right|middle|[bB]igg?[lrm]?)(?![A-Za-z])"
    r"|\\(?:mathbf|boldsymbol|bm|mathbfit|hat|widehat|bar|overline|tilde|widetilde|vec"
    r"|mathcal|mathit|mathsf|mathrm|mathbb|mathnormal|operatorname\*?)(?![A-Za-z])"
    r"|\\(?:quad|qquad)(?![A-Za-z])|(?<!\\)\\[,!;: ]|~"
)
_WORD = re.compile(
    r"\\(?:mathrm|operatorname\*?|mathsf|mathit|textrm)\s*\{\s*([A-Za-z]{2,})\s*\}"
    r"|\\(tr|det|exp|log|ln|Tr|trace|rows|cols|diag)(?![A-Za-z])"
)
_SHORT_FRAC = re.compile(r"(\\[dtc]?frac)\s*(\d)\s*(\d)")
_ENV_RENAME = re.compile(r"\\(begin|end)\{array\}(\{[^{}]*\})?|\\(begin|end)\{[vV]matrix\}")
_DELIMITER = re.compile(r"\\\||\\[lr]?Vert(?![A-Za-z])|\|\||\\[lr]vert(?![A-Za-z])|\\vert\b|\|")


def _word(match: re.Match[str]) -> str:
    word = match.group(1) or match.group(2)
    if word in _FUNCTION_WORDS:
        return f"\\{_FUNCTION_WORDS[word]} "
    return f"\\word{{{word}}}"


def _environment(match: re.Match[str]) -> str:
    if match.group(3):  # vmatrix is a determinant, which the grammar does not read
        return "\\unsupported{determinant bars}"
    return f"\\{match.group(1)}{{matrix}}"


def _pair_bars(text: str) -> str:
    """Turn `|x|`, `\\|x\\|`, `\\lVert x\\rVert` into distinct open/close commands for the grammar.

    A bar opens unless an open bar of the same kind is pending and an operand just ended, the
    rule a reader applies to `|a| |b|` and `\\| a - |b| \\|`.
    """
    out: list[str] = []
    pending: list[str] = []
    last = 0
    ended = False  # whether the text so far ends an operand (then a bar may close a pair)
    for match in _DELIMITER.finditer(text):
        between = text[last : match.start()].rstrip()
        if between:
            ended = between[-1].isalnum() or between[-1] in ")]}*'"
        out.append(text[last : match.start()])
        last = match.end()
        token = match.group()
        kind = "abs" if token in ("|", "\\vert", "\\lvert", "\\rvert") else "norm"
        if token in ("\\lVert", "\\lvert"):
            closes = False
        elif token in ("\\rVert", "\\rvert"):
            closes = True
        else:
            closes = bool(pending) and pending[-1] == kind and ended
        if closes:
            if not pending or pending[-1] != kind:
                raise FormulaError(f"a closing {token} has no opening one")
            pending.pop()
            out.append(f" \\r{kind} ")
        else:
            pending.append(kind)
            out.append(f" \\l{kind} ")
        ended = closes
    out.append(text[last:])
    return "".join(out)


def _check_braces(text: str) -> None:
    """Unbalanced braces and runaway nesting, named by column in the text as written."""
    opened: list[int] = []
    depth = 0
    escaped = False
    for column, char in enumerate(text, start=1):
        if escaped:
            escaped = False
            continue
        if char == "\\":
            escaped = True
        elif char in "{([":
            depth += 1
            if char == "{":
                opened.append(column)
            if depth > MAX_NESTING:
                raise FormulaError(f"brackets are nested more than {MAX_NESTING} deep")
        elif char in "})]":
            depth = max(depth - 1, 0)
            if char == "}":
                if not opened:
                    raise FormulaError(f"unbalanced braces: '}}' at column {column} closes nothing")
                opened.pop()
    if opened:
        raise FormulaError(f"unbalanced braces: '{{' at column {opened[-1]} is never closed")


def normalise(text: str) -> str:
    """The text as the grammar reads it: look-alikes replaced, decoration dropped, bars paired.

    Raises FormulaError for input over the bounds and for unbalanced braces.
    """
    if len(text) > MAX_CHARS:
        raise FormulaError(f"the formula is {len(text)} characters long; at most {MAX_CHARS}")
    _check_braces(text)  # before look-alikes are replaced, so columns are as written
    for char, latex in _UNICODE.items():
        text = text.replace(char, latex)
    text = _ENV_RENAME.sub(_environment, text)
    text = _WORD.sub(_word, text)
    text = _DROP.sub(" ", text)
    text = _SHORT_FRAC.sub(r"\1{\2}{\3}", text)
    return _pair_bars(text)


# ---------------------------------------------------------------------------------------------
# Statements and sides.


_STRUCTURE = re.compile(
    r"\\(?P<env>begin|end)\{(?P<name>[^{}]*)\}|\\\\|\\[{}&]|(?P<sep>"
    + _SEPARATOR
    + r")|[{}()\[\]=&]"
)


def split_statements(text: str) -> list[list[str]]:
    """A math block's statements, each a list of sides in order (normalised text).

    Sides are cut at `=` and statements at `_SEPARATOR`, outside any brace, bracket or
    environment; alignment `&` and line breaks `\\\\` outside a matrix are layout, so an
    align environment's lines make one chain. A statement whose first side is empty (`= ...` at
    the start of a block) continues an earlier one; the caller decides which. Raises
    FormulaError for input over the bounds and unbalanced braces.
    """
    text = normalise(text)
    chars = list(text)
    depth = matrices = 0
    statements: list[list[str]] = []
    cuts: list[tuple[int, int, bool]] = []  # (start, end, ends a statement)
    for match in _STRUCTURE.finditer(text):
        token = match.group()
        if match["env"]:
            step = 1 if match["env"] == "begin" else -1
            depth += step
            matrices += step if match["name"] in _MATRIX_ENVS else 0
        elif token in ("\\\\", "&"):
            if matrices <= 0:
                chars[match.start() : match.end()] = " " * len(token)
        elif token in "{([" and len(token) == 1:
            depth += 1
        elif token in "})]" and len(token) == 1:
            depth -= 1
        elif depth == 0 and (token == "=" or match["sep"]):
            cuts.append((match.start(), match.end(), token != "="))
    laid_out = "".join(chars)
    sides: list[str] = []
    start = 0
    for begin, end, ends_statement in cuts:
        sides.append(laid_out[start:begin].strip())
        if ends_statement:
            statements.append(sides)
            sides = []
        start = end
    sides.append(laid_out[start:].strip())
    statements.append(sides)
    return [sides for sides in statements if any(sides)]


def _tree_depth(tree: Tree) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, tuple):
            stack.extend((child, depth + 1) for child in node[1:] if isinstance(child, tuple))
    return deepest


def _parse_error(error: LarkError, text: str) -> FormulaError:
    if isinstance(error, UnexpectedCharacters):
        near = text[error.pos_in_stream or 0 :][:12].strip()
        command = re.match(r"\\[A-Za-z]+", near)
        if command:
            return FormulaError(f"cannot read {command.group()} (not part of a formula here)")
        return FormulaError(f"cannot read '{near[:1]}' before '{near[1:]}'")
    if isinstance(error, UnexpectedEOF):
        return FormulaError(f"the formula '{text.strip()[:40]}' ends too early")
    if isinstance(error, UnexpectedToken):
        if error.token.type == "$END":
            return FormulaError(f"the formula '{text.strip()[:40]}' ends too early")
        return FormulaError(f"unexpected '{error.token}' in '{text.strip()[:40]}'")
    return FormulaError(f"cannot read '{text.strip()[:40]}'")


def _parse_normalised(text: str) -> Tree:
    if not text.strip():
        raise FormulaError("empty formula")
    # Every parse passes here, also a side cut from a statement whose whole text already broke
    # a bound in `normalise`: the parser's time grows with the length.
    if len(text) > MAX_CHARS:
        raise FormulaError(f"the formula is {len(text)} characters long; at most {MAX_CHARS}")
    unsupported = re.search(r"\\unsupported\{([^{}]*)\}", text)
    if unsupported:
        raise FormulaError(f"cannot read {unsupported.group(1)}: write \\det(A) instead")
    try:
        tree: Tree = _parser().parse(text)  # type: ignore[assignment]
    except FormulaError:
        raise
    except LarkError as error:
        raise _parse_error(error, text) from None
    except RecursionError:
        raise FormulaError("the formula is nested too deeply") from None
    if _tree_depth(tree) > MAX_TREE_DEPTH:
        raise FormulaError(f"the formula is nested more than {MAX_TREE_DEPTH} deep")
    return tree


def parse_expression(text: str) -> Tree:
    """One expression (no `=`) as a tree; FormulaError with a reason if it cannot be read."""
    statements = split_statements(text)
    if not statements:
        raise FormulaError("empty formula")
    if len(statements) != 1 or len(statements[0]) != 1:
        raise FormulaError(f"'{text.strip()[:40]}' is not a single expression")
    return _parse_normalised(statements[0][0])


def parse_definition(text: str, args: tuple[str, ...]) -> Tree:
    """A rubric's meaning of a sheet symbol, in which the function's argument names stand for
    the arguments (`X w_0 - t` with args X, t, w0; separate adjacent names by spaces)."""
    for arg in sorted(args, key=len, reverse=True):
        text = re.sub(
            rf"(?<![\\A-Za-z0-9_{{]){re.escape(arg)}(?![A-Za-z0-9_])", f"\\\\argref{{{arg}}}", text
        )
    return parse_expression(text)


def _read_side(text: str) -> Side:
    if "\\argref" in text:  # the definitions' marker is not the student's to write
        return Side(text, None, "cannot read \\argref")
    try:
        return Side(text, _parse_normalised(text))
    except FormulaError as error:
        return Side(text, None, str(error))


_CALL = re.compile(r"^(.*?)\s*\(\s*([^()]*)\s*\)$", re.S)


_BRACED = r"[^{}]*(?:\{[^{}]*\}[^{}]*)*"  # text with braces one level deep
_D = r"(?:d|\{d\}|\\partial)"  # `\mathrm{d}` arrives as `{d}`
_ORDER = r"(?:\^\{?(?P<order>[1-3])\}?)?"
_DERIVATIVE_OF = re.compile(
    rf"^\\[dtc]?frac\s*\{{\s*{_D}\s*{_ORDER}\s*\}}\s*\{{\s*{_D}{_BRACED}\}}\s*(?P<f>.+)$", re.S
)
_DERIVATIVE_FRACTION = re.compile(
    rf"^\\[dtc]?frac\s*\{{\s*{_D}\s*{_ORDER}\s*(?P<f>{_BRACED})\}}\s*\{{\s*{_D}{_BRACED}\}}$", re.S
)
_PRIMED = re.compile(
    r"^(?P<f>.+?)\s*(?P<primes>'{1,3}|\^\s*\{?\s*(?:\\prime\s*){1,3}\}?|\^\s*\{'{1,3}\})"
    r"\s*(?:\([^()]*\))?$",
    re.S,
)


def _derivative_name(text: str) -> str:
    """`L_1''` for the second derivative of L_1 written any usual way: `\\frac{d^2}{d\\eta^2}
    L_1`, `\\frac{d^2 L_1}{d\\eta^2}`, `\\frac{\\partial^2 L_1(\\eta)}{\\partial \\eta^2}`,
    `L_1''(\\eta)`, `L_1^{\\prime\\prime}`; `L_1'` for the first. '' when it is none of these."""
    text = text.strip()
    for pattern in (_DERIVATIVE_OF, _DERIVATIVE_FRACTION):
        match = pattern.match(text)
        if match:
            order = int(match["order"] or 1)
            break
    else:
        match = _PRIMED.match(text)
        if match is None:
            return ""
        order = max(match["primes"].count("'"), match["primes"].count("\\prime"))
    function = side_name(_read_side(match["f"]))
    if not function or "'" in function:
        return ""
    return function.split("(", 1)[0] + "'" * order


def side_name(side: Side) -> str:
    """The normalised name a left-hand side gives: `eta^*`, `L_1`, `L_1(eta)`, and `L_1''` for
    a second derivative however written (see `_derivative_name`); '' otherwise."""
    if side.tree is not None and side.tree[0] == "sym":
        return str(side.tree[1])
    call = _CALL.match(side.source)
    if call:
        head, inner = _read_side(call.group(1)), _read_side(call.group(2))
        if head.tree is not None and head.tree[0] == "sym" and inner.tree is not None:
            return f"{head.tree[1]}({shown(inner.tree).replace(' ', '')})"
    return _derivative_name(side.source)


def statement_name(lhs: str) -> str:
    """The normalised name a statement's left side (as `split_statements` gives it) defines."""
    return side_name(_read_side(lhs))


def read_statement(sides: list[str]) -> Equation:
    """A statement already split into sides (`split_statements`) as an Equation."""
    lhs = _read_side(sides[0])
    return Equation(side_name(lhs), lhs, tuple(_read_side(side) for side in sides[1:]))


def parse_equation(text: str) -> Equation:
    """`name = side = side ...` (one statement) as an Equation; FormulaError when it is not an
    equation with a left side, or is unreadable as a whole (braces, bounds)."""
    statements = split_statements(text)
    if len(statements) != 1 or len(statements[0]) < 2 or not statements[0][0]:
        raise FormulaError(f"'{text.strip()[:40]}' is not one equation 'name = formula'")
    return read_statement(statements[0])


# ---------------------------------------------------------------------------------------------
# One plain notation, for students to see how they were read and TAs to group readings.

_PRECEDENCE = {"add": 1, "sub": 1, "neg": 2, "mul": 3, "div": 3, "pow": 4, "T": 4, "inv": 4}


def _wrap(tree: Tree, at_least: int) -> str:
    text = shown(tree)
    return f"({text})" if _PRECEDENCE.get(tree[0], 5) < at_least else text


def _power_text(tree: Tree) -> str:
    return shown(tree) if tree[0] in ("num", "sym", "arg") else f"({shown(tree)})"


def shown(tree: Tree) -> str:
    """The tree in plain notation, e.g. `n ||X^T a||^2 / (2 ||X X^T a||^2)`: equal trees give
    equal strings, and products are shown in their order."""
    kind = tree[0]
    if kind == "num":
        return str(tree[1])
    if kind in ("sym", "arg"):
        return str(tree[1])
    if kind == "eye":
        return "I"
    if kind == "add":
        return f"{_wrap(tree[1], 1)} + {_wrap(tree[2], 1)}"
    if kind == "sub":
        return f"{_wrap(tree[1], 1)} - {_wrap(tree[2], 2)}"
    if kind == "neg":
        return f"-{_wrap(tree[1], 3)}"
    if kind == "mul":
        left, right = (
            f"({shown(t)})" if t[0] == "div" else _wrap(t, 3) for t in (tree[1], tree[2])
        )
        return f"{left} * {right}" if right[0].isdigit() or right[0] == "-" else f"{left} {right}"
    if kind == "div":
        return f"{_wrap(tree[1], 3)} / {_wrap(tree[2], 4)}"
    if kind == "pow":
        return f"{_wrap(tree[1], 5)}^{_power_text(tree[2])}"
    if kind == "T":
        return f"{_wrap(tree[1], 5)}^T"
    if kind == "inv":
        return f"{_wrap(tree[1], 5)}^-1"
    if kind == "norm":
        order = "" if tree[2] == "2" else f"_{tree[2]}"
        return f"||{shown(tree[1])}||{order}"
    if kind == "abs":
        return f"|{shown(tree[1])}|"
    if kind == "sqrt":
        return f"sqrt({shown(tree[1])})"
    if kind == "fn":
        return f"{tree[1]}({shown(tree[2])})"
    if kind == "matrix":
        return "[" + ", ".join("[" + ", ".join(map(shown, row)) + "]" for row in tree[1]) + "]"
    raise FormulaError(f"unknown node {kind!r}")


__all__ = [
    "FUNCTIONS",
    "Equation",
    "FormulaError",
    "Side",
    "Tree",
    "normalise",
    "parse_definition",
    "parse_equation",
    "parse_expression",
    "read_statement",
    "shown",
    "side_name",
    "split_statements",
    "statement_name",
]
