"""BigOCheck: asymptotic answers written in any of the notations students use.

An answer is read into a sum of terms, each a product of symbols raised to powers and of their
logarithms: "O(d t log t)" is {d: (1, 0), t: (1, 1)}, "constant" is the empty term. Reading
goes in order: O(...) or Θ(...) anywhere in the text (plain, LaTeX such as \\mathcal{O}(t), or
Unicode such as t²); else words ("constant", "linear in t", "grows quadratically"); else the
whole answer as a bare expression ("t log t"). The answer is then reduced to the check's
variable: listed constants are dropped (full credit with a note), any other symbol makes the
answer wrong, and of a sum only the fastest-growing term counts.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from pydantic import Field

from grader.checks.kind import CheckKind, CheckSpec, Form
from grader.checks.values import clip, describe, fmt_value
from grader.checks.verdict import Verdict

Term = dict[str, tuple[Fraction, Fraction]]
"""symbol -> (power, power of its logarithm); t^2 log t is {"t": (2, 1)}."""

Expr = list[Term]
"""A sum of terms."""

MAX_TERMS = 64
"""Expanding (a + b)^k is capped: no real answer needs more terms than this."""

MAX_UNKNOWN_LETTERS = 3
"""Inside O(...), a run of more unknown letters is a word, not a product of symbols ("nm" is
n*m). A bare answer without O(...) allows only single unknown letters, so that "yes" is
unreadable rather than read as y*e*s."""

MAX_NUMBER_CHARS = 30
"""Longer digit strings are nonsense in a complexity and would be slow to turn into fractions."""

MAX_ANSWER_CHARS = 2000
"""Longer answers are not read at all: a complexity is a short phrase."""

_LOG_WORDS = ("log", "ln", "lg")


class BigOCheck(CheckSpec):
    """An asymptotic answer in `variable`: O(t), O(T), \\mathcal{O}(t), "linear in t", O(1),
    "constant", O(t^2), O(t log t)...

    Symbols listed in `constants` are treated as constants (O(dt) reads as O(t)) and earn full
    credit with a note saying so.
    """

    kind: Literal["big_o"]
    variable: str = Field("n", min_length=1)
    constants: list[str] = Field(default_factory=list)


class ParseError(ValueError):
    """The text is not an expression this module understands."""


@dataclass(frozen=True)
class Growth:
    """An answer reduced to the check's variable v: v^power * log(v)^log_power."""

    power: Fraction
    log_power: Fraction


# --- reading text --------------------------------------------------------------------------

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_LATEX = [
    (
        r"\\(?:mathcal|mathrm|mathbf|mathit|mathscr|mathsf|operatorname|textrm|textit|textbf|text"
        r"|mbox)\s*\{([^{}]*)\}",
        r"\1",
    ),
    (r"\\(?:mathcal|cal)\s*O", "O"),
    (r"\\(?:left|right|bigg|Bigg|big|Big)(?![A-Za-z])", ""),
    (r"\\[,;:! ]", " "),
    (r"\\(?:cdot|times|ast)(?![A-Za-z])", "*"),
    (r"\\Theta(?![A-Za-z])", "Θ"),
    (r"\\Omega(?![A-Za-z])", "Ω"),
    (r"\\(log|ln|lg|sqrt)(?![A-Za-z])", r" \1 "),
]
_SYMBOL_CHARS = str.maketrans(
    {
        "·": "*",
        "⋅": "*",
        "×": "*",
        "∗": "*",
        "−": "-",
        "√": " sqrt ",
        "{": "(",
        "}": ")",
        "[": "(",
        "]": ")",
        "$": " ",
        "𝒪": "O",
        "Ο": "O",
    }
)


def _prepare(text: str) -> str:
    """Unify notations: LaTeX commands, Unicode superscripts and operators, brackets."""
    text = re.sub(
        r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+", lambda m: "^(" + m.group().translate(_SUPERSCRIPTS) + ")", text
    )
    text = unicodedata.normalize("NFKC", text)
    for pattern, replacement in _LATEX:
        text = re.sub(pattern, replacement, text)
    return text.translate(_SYMBOL_CHARS).replace("**", "^")


def _o_bodies(text: str) -> list[str]:
    """The insides of every O(...) / Θ(...) in the text, with balanced parentheses."""
    bodies = []
    for match in re.finditer(r"(?<![^\W\d_])[OΘ]\s*\(", text):
        depth, start = 1, match.end()
        for position in range(start, len(text)):
            depth += {"(": 1, ")": -1}.get(text[position], 0)
            if depth == 0:
                bodies.append(text[start:position])
                break
    return bodies


_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([^\W\d_]+)|(\^|\*|/|\+|-|\(|\)|_))")


def _tokens(text: str, names: list[str], max_unknown: int) -> list[tuple[str, object]]:
    """Numbers, symbols and operators; letter runs are split into known names and letters.

    "dt" becomes d, t and "tlogt" becomes t, log, t; known names (the variable and constants,
    matched exactly first, then ignoring case) may be longer than one letter.
    """
    tokens: list[tuple[str, object]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise ParseError(f"unexpected {text[position:].strip()[:1]!r}")
        number, run, operator = match.groups()
        if number is not None:
            if len(number) > MAX_NUMBER_CHARS:
                raise ParseError("number too long")
            tokens.append(("num", Fraction(number)))
        elif run is not None:
            tokens.extend(_split_run(run, names, max_unknown))
        else:
            tokens.append(("op", operator))
        position = match.end()
    return tokens


def _split_run(run: str, names: list[str], max_unknown: int) -> list[tuple[str, object]]:
    keywords = [*names, *_LOG_WORDS, "sqrt"]
    keywords.sort(key=len, reverse=True)
    pieces: list[tuple[str, object]] = []
    unknown = 0
    i = 0
    while i < len(run):
        piece = next((k for k in keywords if run.startswith(k, i)), None) or next(
            (k for k in keywords if run[i : i + len(k)].casefold() == k.casefold()), None
        )
        if piece is None:
            unknown += 1
            if unknown > max_unknown:
                raise ParseError(f"{run!r} is a word, not a product of symbols")
            pieces.append(("sym", run[i]))
            i += 1
        elif piece in _LOG_WORDS or piece == "sqrt":
            pieces.append((piece if piece == "sqrt" else "log", piece))
            i += len(piece)
        else:
            pieces.append(("sym", piece))
            i += len(piece)
    return pieces


class _Parser:
    """Recursive descent over: sum := product (('+'|'-') product)*;
    product := power (('*'|'/')? power)*; power := atom ('^' exponent)*;
    atom := number | symbol | '(' sum ')' | log[_base][^k] atom | sqrt atom."""

    def __init__(self, tokens: list[tuple[str, object]]) -> None:
        self.tokens = tokens
        self.at = 0

    def parse(self) -> Expr:
        if not self.tokens:
            raise ParseError("empty expression")
        try:
            expr = self._sum()
        except RecursionError:
            raise ParseError("nested too deeply") from None
        if self.at != len(self.tokens):
            raise ParseError(f"unexpected {self.tokens[self.at][1]!r}")
        return expr

    def _peek(self) -> tuple[str, object] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _take_op(self, *ops: str) -> str | None:
        token = self._peek()
        if token and token[0] == "op" and token[1] in ops:
            self.at += 1
            return str(token[1])
        return None

    def _sum(self) -> Expr:
        expr = self._product()
        while self._take_op("+", "-"):  # t - 1 grows like t + 1
            expr = _limit([*expr, *self._product()])
        return expr

    def _product(self) -> Expr:
        expr = self._power()
        while True:
            operator = self._take_op("*", "/")
            token = self._peek()
            starts_atom = token is not None and (
                token[0] in ("num", "sym", "log", "sqrt") or token == ("op", "(")
            )
            if operator is None and not starts_atom:
                return expr
            factor = self._power()
            expr = _multiply(expr, _power(factor, Fraction(-1)) if operator == "/" else factor)

    def _power(self) -> Expr:
        expr = self._atom()
        while self._take_op("^"):
            expr = _power(expr, self._exponent())
        return expr

    def _exponent(self) -> Fraction:
        """A constant exponent: 2, -1, 0.5, (1/2); a symbol here would mean exponential growth."""
        bracketed = self._take_op("(") is not None
        sign = -1 if self._take_op("-") else 1
        value = self._number() * sign
        if bracketed and self._take_op("/"):
            denominator = self._number()
            if denominator == 0:
                raise ParseError("division by zero in exponent")
            value /= denominator
        if bracketed and not self._take_op(")"):
            raise ParseError("exponent must be a number")
        return value

    def _number(self) -> Fraction:
        token = self._peek()
        if token is None or token[0] != "num":
            raise ParseError("exponent must be a number (exponential growth is not supported)")
        self.at += 1
        value = token[1]
        assert isinstance(value, Fraction)
        return value

    def _atom(self) -> Expr:
        token = self._peek()
        if token is None:
            raise ParseError("expression ends too early")
        self.at += 1
        kind, value = token
        if kind == "num":
            return [{}]
        if kind == "sym":
            return [{str(value): (Fraction(1), Fraction(0))}]
        if kind == "sqrt":
            return _power(self._power(), Fraction(1, 2))
        if kind == "log":
            return self._log()
        if token == ("op", "("):
            expr = self._sum()
            if not self._take_op(")"):
                raise ParseError("unbalanced parentheses")
            return expr
        raise ParseError(f"unexpected {value!r}")

    def _log(self) -> Expr:
        """log t, log(t), log_2 t, log2(t), log^2 t: bases do not matter asymptotically."""
        following = self.tokens[self.at : self.at + 2]
        if self._take_op("_"):
            self._atom()
        elif len(following) == 2 and following[0][0] == "num" and following[1] == ("op", "("):
            self.at += 1  # the base in log2(t)
        exponent = self._exponent() if self._take_op("^") else Fraction(1)
        return _power(_log(self._power()), exponent)


def _limit(expr: Expr) -> Expr:
    if len(expr) > MAX_TERMS:
        raise ParseError("expression too large")
    return expr


def _multiply(left: Expr, right: Expr) -> Expr:
    product = []
    for a in left:
        for b in right:
            term = dict(a)
            for symbol, (power, log_power) in b.items():
                old_power, old_log = term.get(symbol, (Fraction(0), Fraction(0)))
                term[symbol] = (old_power + power, old_log + log_power)
            product.append({s: pl for s, pl in term.items() if any(pl)})
    return _limit(product)


def _power(expr: Expr, exponent: Fraction) -> Expr:
    if len(expr) == 1:
        return [{s: (p * exponent, lp * exponent) for s, (p, lp) in expr[0].items()}]
    if exponent.denominator == 1 and 1 <= exponent <= 8:
        result: Expr = [{}]
        for _ in range(int(exponent)):
            result = _multiply(result, expr)
        return result
    raise ParseError("only whole powers of a sum are supported")


def _log(expr: Expr) -> Expr:
    """log of a product is the sum of logs of its symbols; log of a constant is a constant."""
    if len(expr) != 1:
        raise ParseError("log of a sum is not supported")
    terms: Expr = [
        {symbol: (Fraction(0), Fraction(1))} for symbol, (power, _) in expr[0].items() if power
    ]
    return terms or [{}]


_WORD_FORMS = [
    (r"\b(?:linearithmic|log-?linear|quasi-?linear)\b", (1, 1)),
    (r"\b(?:constant(?:ly)?|independent of)\b", (0, 0)),
    (r"\blinear(?:ly)?\b", (1, 0)),
    (r"\bquadratic(?:ally)?\b", (2, 0)),
    (r"\bcubic(?:ally)?\b", (3, 0)),
    (r"\blogarithmic(?:ally)?\b", (0, 1)),
]
_IN_SYMBOL = re.compile(
    r"\b(?:with respect to|in terms of|w\.?r\.?t\.?|in|with|of|on)\s+(?:the\s+)?([^\W\d_]\w*)",
    flags=re.IGNORECASE,
)


def _read_words(text: str, names: list[str], variable: str) -> list[Expr]:
    """Word answers: "constant", "linear in t", "grows quadratically with n"...

    The symbol is the word after in/with/of when it is a known name or a single letter;
    otherwise ("linear in the number of steps") the question's variable is meant.
    """
    found: list[Expr] = []
    for pattern, (power, log_power) in _WORD_FORMS:
        match = re.search(pattern, text, flags=re.IGNORECASE)
        if not match:
            continue
        text = text[: match.start()] + " " + text[match.end() :]
        if (power, log_power) == (0, 0):
            found.append([{}])
            continue
        symbol = variable
        after = _IN_SYMBOL.search(text, match.start())
        if after:
            word = after.group(1)
            known = next((n for n in names if n.casefold() == word.casefold()), None)
            symbol = known or (word if len(word) == 1 else variable)
        found.append([{symbol: (Fraction(power), Fraction(log_power))}])
    return found


def parse_complexity(text: str, check: BigOCheck) -> list[Expr]:
    """Every complexity the text states (usually one); ParseError when it states none."""
    if len(text) > MAX_ANSWER_CHARS:
        raise ParseError("answer too long")
    names = [check.variable, *check.constants]
    prepared = _prepare(text)
    bodies = _o_bodies(prepared)
    if bodies:
        parsed = []
        for body in bodies:
            try:
                parsed.append(_Parser(_tokens(body, names, MAX_UNKNOWN_LETTERS)).parse())
            except ParseError:
                continue
        if parsed:
            return parsed
        raise ParseError("could not read the expression inside O(...)")
    if re.search(r"(?<![^\W\d_])[Ωω]\s*\(", prepared):
        raise ParseError("a lower bound is not a growth rate")
    words = _read_words(prepared, names, check.variable)
    if words:
        return words
    return [_Parser(_tokens(prepared.strip().rstrip("."), names, 1)).parse()]


# --- judging -------------------------------------------------------------------------------


def _reduce(expr: Expr, check: BigOCheck) -> tuple[Growth, list[str], list[str]]:
    """The fastest-growing term in the variable, the constants dropped and the foreign symbols."""
    dropped: list[str] = []
    foreign: list[str] = []
    growths = []
    for term in expr:
        for symbol in term:
            if symbol in check.constants:
                dropped.append(symbol)
            elif symbol != check.variable:
                foreign.append(symbol)
        power, log_power = term.get(check.variable, (Fraction(0), Fraction(0)))
        growths.append((power, log_power))
    power, log_power = max(growths)
    return Growth(power, log_power), sorted(set(dropped)), sorted(set(foreign))


def _format_term(term: Term) -> str:
    """t^2 log t, dt (single letters run together, as students write them), or 1."""
    powers = []
    logs = []
    for symbol in sorted(term):
        power, log_power = term[symbol]
        if power:
            powers.append(symbol + _exponent_text(power))
        if log_power:
            logs.append(f"log{_exponent_text(log_power)} {symbol}")
    joiner = "" if all(len(power) == 1 for power in powers) else " "
    return " ".join([joiner.join(powers), *logs] if powers else logs) or "1"


def _exponent_text(value: Fraction) -> str:
    if value == 1:
        return ""
    return f"^{value}" if value.denominator == 1 else f"^({value})"


def _format_expr(expr: Expr) -> str:
    return "O(" + clip(" + ".join(_format_term(term) for term in expr), 80) + ")"


def _show(growth: Growth, variable: str) -> str:
    return _format_expr([{variable: (growth.power, growth.log_power)}])


def compare_big_o(check: BigOCheck, student: object, expected: object, *, reveal: bool) -> Verdict:
    """Judge an asymptotic answer in `check.variable`; a hidden mismatch names only the
    student's own complexity."""
    if not isinstance(expected, str):
        raise TypeError(f"a big-O check needs an expected string, not {describe(expected)}")
    variable = check.variable
    want, _, _ = _reduce(_single(parse_complexity(expected, check)), check)
    if not isinstance(student, str):
        return Verdict.wrong(
            f'Expected a complexity written as text such as "O({variable})", '
            f"got {describe(student)}."
        )
    try:
        stated = parse_complexity(student, check)
    except ParseError:
        return Verdict.wrong(
            f"Could not read {fmt_value(student, 60)} as a complexity. Write it like O(1), "
            f"O({variable}), O({variable}^2) or O({variable} log {variable}) (LaTeX such as "
            f"\\mathcal{{O}}({variable}) is fine), or in words: 'constant', 'linear in {variable}'."
        )
    readings = [_reduce(expr, check) for expr in stated]
    foreign = sorted({symbol for _, _, symbols in readings for symbol in symbols})
    if foreign:
        return Verdict.wrong(
            f"Your answer is in terms of {', '.join(foreign)}; the question asks about {variable}."
        )
    if len({growth for growth, _, _ in readings}) > 1:
        shown = ", ".join(_format_expr(expr) for expr in stated)
        return Verdict.wrong(f"Your answer names more than one complexity ({shown}); give one.")
    got, dropped, _ = readings[0]
    if got == want:
        if not dropped:
            return Verdict.right()
        names = ", ".join(dropped)
        plural = "constants" if len(dropped) > 1 else "a constant"
        return Verdict.right(
            f"Full credit: treating {names} as {plural}, {_format_expr(stated[0])} is "
            f"{_show(got, variable)}."
        )
    if reveal:
        return Verdict.wrong(f"Expected {_show(want, variable)}, got {_show(got, variable)}.")
    return Verdict.wrong(f"{_show(got, variable)} is not the right complexity in {variable}.")


def _single(stated: list[Expr]) -> Expr:
    if len(stated) != 1:
        raise ParseError("the expected value names more than one complexity")
    return stated[0]


def validate_big_o_expected(check: BigOCheck, expected: object) -> str | None:
    """The reference answer must be one readable complexity in the variable and constants."""
    if not isinstance(expected, str):
        return f"a big-O check needs a string such as 'O(n)', not {describe(expected)}"
    try:
        _, _, foreign = _reduce(_single(parse_complexity(expected, check)), check)
    except ParseError as exc:
        return f"cannot read the expected complexity {expected!r}: {exc}"
    if foreign:
        return (
            f"the expected complexity {expected!r} uses {', '.join(foreign)}, which is neither "
            f"the variable {check.variable!r} nor a listed constant"
        )
    return None


def big_o_form(check: BigOCheck, expected: object) -> Form:
    return {"kind": "big_o", "variable": check.variable, "constants": list(check.constants)}


def big_o_form_problem(form: Form, value: object) -> str | None:
    """Whether the grader will be able to read the student's notation at all."""
    check = BigOCheck(kind="big_o", variable=form["variable"], constants=form.get("constants", []))
    if not isinstance(value, str):
        return f"should be text such as 'O({form['variable']})', but it is {describe(value)}"
    try:
        parse_complexity(value, check)
    except ParseError as error:
        return f"the grader cannot read {value!r} as a complexity ({error})"
    return None


KIND = CheckKind(
    spec=BigOCheck,
    compare=compare_big_o,
    validate_expected=validate_big_o_expected,
    public_form=big_o_form,
    form_problem=big_o_form_problem,
)
