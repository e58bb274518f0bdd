"""The sheet's text made comparable, its numbers, and the lines a part's cues choose.

Typed sheets hide numbers behind LaTeX spacing (`73,\\!856`), thousands separators
(`52,444,644`) and Unicode look-alikes (a minus sign U+2212, full-width digits); these are
undone once here, so that every reader sees plain text. A section often answers several parts
(2.1.2: forward and backward memory); cue words choose the sentences of each.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction

LOOK_ALIKES = {
    "\u2212": "-",  # minus sign
    "\u2013": "-",  # en dash
    "\u2014": "-",
    "\u2010": "-",
    "\u2011": "-",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\u00b7": "*",  # middle dot
    "\u22c5": "*",
    "\u2217": "*",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u0398": "Θ",
}


_TRANSLATION = str.maketrans(LOOK_ALIKES)


def _scripts() -> dict[str, tuple[str, str]]:
    """Each Unicode superscript or subscript character (ᵀ, ⁻, ¹, ₀) with its mark (^ or _) and
    the character it raises or lowers, from the Unicode data itself."""
    found = {}
    for code in (0xB2, 0xB3, 0xB9, *range(0x1D2C, 0x1D6B), *range(0x2070, 0x209D), 0x2C7C):
        char = chr(code)
        kind, _, base = unicodedata.decomposition(char).partition(" ")
        if kind in ("<super>", "<sub>") and base:
            found[char] = ("^" if kind == "<super>" else "_", chr(int(base.split()[0], 16)))
    return found


_SCRIPTS = _scripts()
_SCRIPT_RUN = re.compile(f"[{''.join(_SCRIPTS)}]+")


def _script(match: re.Match[str]) -> str:
    """A run of super- or subscript characters as LaTeX: `Xᵀ` is `X^{T}`, `A⁻¹` is `A^{-1}`,
    `w₀` is `w_{0}` (a run that mixes both keeps each character's own mark)."""
    run = match.group()
    marks = {_SCRIPTS[char][0] for char in run}
    if len(marks) == 1:
        return f"{marks.pop()}{{{''.join(_SCRIPTS[char][1] for char in run)}}}"
    return "".join(f"{_SCRIPTS[char][0]}{{{_SCRIPTS[char][1]}}}" for char in run)


def normalise(text: str) -> str:
    """NFKC (full-width digits, ligatures) and the look-alikes above, keeping every line where
    it was, so line numbers still point into the handed-in file. Super- and subscript
    characters become `^{...}` and `_{...}` first: NFKC alone would make `Xᵀ` the product `XT`
    and `‖a‖²` the product `‖a‖ 2`."""
    text = _SCRIPT_RUN.sub(_script, text)
    return unicodedata.normalize("NFKC", text).translate(_TRANSLATION)


_SPACING = re.compile(r"\\[!,;: ]|\{,\}|\\thinspace|\\quad")
_NUMBER = re.compile(
    r"(?<![\w.^_])(?P<sign>-\s?)?"
    r"(?:\\frac\{(?P<fn>\d+)\}\{(?P<fd>\d+)\}"
    r"|(?P<grouped>\d{1,3}(?:,\d{3})+(?:\.\d+)?)(?![\d])"
    r"|(?P<spaced>\d{1,3}(?: \d{3}){2,})(?![\d,.])"
    r"|(?P<plain>\d+(?:\.\d+)?|\.\d+)(?:[eE](?P<exp>[-+]?\d+))?"
    r"(?:\s*(?:\\times|x|\*)\s*10\^\{?(?P<pow>-?\d+)\}?)?"
    r"(?:\s*/\s*(?P<den>\d+)(?![\d.]))?)"
)
MAX_NUMBER_CHARACTERS = 40


@dataclass(frozen=True)
class Number:
    """A number found in text: its value, as written, and where."""

    value: int | float
    written: str
    start: int


def numbers(text: str, spaced: bool = False) -> list[Number]:
    """Every number in `text`: 52,444,644 and 73,\\!856; 1.2e-3 and 1.2 \\times 10^{-3};
    3/4 and \\frac{3}{4}. Integers stay integers. Over-long digit runs are skipped.

    With `spaced`, digits grouped by single spaces in at least three groups (52 444 644; a thin
    space is a space once normalised) are one number: only where the answer is one number (a
    total, a table cell), since `[100 200 300]` is a vector of three."""
    text = _SPACING.sub("", text)
    found = []
    for match in _NUMBER.finditer(text):
        if match.group("spaced") is not None and not spaced:
            sign = -1 if match.group("sign") else 1
            for index, digits in enumerate(re.finditer(r"\d+", match.group(0))):
                part = (sign if index == 0 else 1) * int(digits.group())
                found.append(Number(part, digits.group(), match.start() + digits.start()))
            continue
        written = match.group(0)
        if len(written) > MAX_NUMBER_CHARACTERS:
            continue
        value = _value(match)
        if value is not None:
            found.append(Number(value, written.strip(), match.start()))
    return found


def _value(match: re.Match[str]) -> int | float | None:
    sign = -1 if match.group("sign") else 1
    if match.group("fn") is not None:
        denominator = int(match.group("fd"))
        return (
            None
            if denominator == 0
            else sign * float(Fraction(int(match.group("fn")), denominator))
        )
    if match.group("spaced") is not None:
        return sign * int(match.group("spaced").replace(" ", ""))
    if match.group("grouped") is not None:
        digits = match.group("grouped").replace(",", "")
        return sign * (float(digits) if "." in digits else int(digits))
    plain = match.group("plain")
    exponent, power, den = match.group("exp"), match.group("pow"), match.group("den")
    value: int | float = float(plain) if "." in plain else int(plain)
    if exponent is not None:
        value = float(f"{plain}e{exponent}")
    if power is not None:
        value = float(value) * 10.0 ** int(power)
    if den is not None:
        value = None if int(den) == 0 else float(value) / int(den)  # type: ignore[assignment]
    return None if value is None else sign * value


def result_numbers(text: str, spaced: bool = False) -> list[Number]:
    """The numbers an equation ends on: the one after the last `=` of each `$$...$$` or line
    (`((9 x 3) + 1) x 64 = 1792` gives 1792), or else every number of the prose."""
    ends = []
    for piece in re.split(r"\$\$|\n", text):
        if "=" in piece:
            tail = piece.rsplit("=", 1)[1]
            found = numbers(tail, spaced)
            if len(found) == 1 and not re.search(r"[A-Za-z]{2,}", _strip_latex(tail)):
                ends.append(found[0])
    return ends


def _strip_latex(text: str) -> str:
    return re.sub(r"\\[A-Za-z]+|[${}]", " ", text)


_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=\S)")


@dataclass(frozen=True)
class Region:
    """The text a part's answer is read from, its first line in the file, and the lines."""

    text: str
    line: int


def paragraphs(lines: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Runs of non-blank lines."""
    groups: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for number, text in lines:
        if text.strip():
            current.append((number, text))
        elif current:
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def _mentions(text: str, cues: list[str]) -> bool:
    folded = text.casefold()
    return any(cue.casefold() in folded for cue in cues)


def cued_regions(lines: list[tuple[int, str]], cues: list[str], others: list[str]) -> list[Region]:
    """The passages a part's cues choose, the latest first: each runs from a sentence
    mentioning a cue to the end of the section, stopping before the next sentence that
    mentions another part's cue, or before another part's cue later in the same sentence
    ("forward: O(1), backward: O(t)"), outside math (blank lines kept, so paragraphs stay
    apart)."""
    sentences: list[tuple[int, str]] = []
    for number, text in lines:
        parts = _SENTENCE_END.split(text) if text.strip() else [""]
        sentences += [(number, part) for part in parts]
    regions = []
    for index, (number, sentence) in enumerate(sentences):
        if not _mentions(sentence, cues):
            continue
        clause = _up_to_other_cue(sentence, cues, others)
        if clause != sentence:
            regions.append(Region(clause, number))
            continue
        taken = [(number, sentence)]
        for after in sentences[index + 1 :]:
            if others and _mentions(after[1], others) and not _mentions(after[1], cues):
                break
            taken.append(after)
        text = ""
        for position, (line, part) in enumerate(taken):
            joined = position and line == taken[position - 1][0]
            text += (" " if joined else "\n" if position else "") + part
        regions.append(Region(text, number))
    return regions[::-1]


def _up_to_other_cue(sentence: str, cues: list[str], others: list[str]) -> str:
    """This part's clause of a sentence that also names other parts' cues, cut outside math:
    from its cue when another part's comes first, up to another part's cue that follows."""
    folded = sentence.casefold()
    start = min(found for cue in cues if (found := folded.find(cue.casefold())) >= 0)
    outside = sentence.count("$", 0, start) % 2 == 0
    begin = start if outside and others and _mentions(sentence[:start], others) else 0
    cuts = [
        found
        for other in others
        if (found := folded.find(other.casefold(), start + 1)) > start
        and sentence.count("$", 0, found) % 2 == 0
        and not _mentions(sentence[start:found], [other])
    ]
    return sentence[begin : min(cuts)] if cuts else sentence[begin:]


def whole(lines: list[tuple[int, str]]) -> Region | None:
    """The lines from the first non-blank one (blank lines kept: they end paragraphs), or
    None when every line is blank."""
    kept = [(number, text) for number, text in lines if text.strip()]
    if not kept:
        return None
    first = kept[0][0]
    return Region("\n".join(text for number, text in lines if number >= first), first)
