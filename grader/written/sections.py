"""Splitting a written sheet into numbered sections, in the forms real sheets use.

Students number their answers as the handout does, but write the numbers in many ways:
Markdown headings (`#### 2.2.3`, `### **Q1 Optimization**`), a number alone on a line
(`2.1.2`, `**2.1.2**`, `\\textbf{2.1.2}`), `Q7`, `Question 2`, `Question-1`, `Problem 3.2`,
LaTeX `\\section{2.1 ...}` and `\\paragraph{3.2}`, and sub-parts `(a)`,
`f)` or `(ii)` under a question. A sub-part takes its question's number (`1.e` under Question
1; a roman `(ii)` under `(a)` is `1.a.ii`). Each section's lines run to the next heading, so a
part's answer is looked up by its number; `find` also says when the answer can only be under
a parent heading, or when a number heads two sections, so that the caller can ask a human.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field
from functools import cached_property

NUMBER = r"[0-9]+(?:\.[0-9]+)*"
_MARKUP = re.compile(r"[*_`]+")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*(?P<title>.*)$")
_LATEX = re.compile(r"^\s*\\(?:(?:sub)*section|paragraph)\*?\{(?P<title>[^}]*)\}")
_EMPHASIS = re.compile(r"^\s*(?:\\noindent\s*)?\\(?:textbf|textit|emph|underline)\{([^{}]*)\}")
_NUMBERED = re.compile(
    rf"^(?:(?:Q|Question|Problem|Part)\s*[-.:]?\s*)?(?P<number>{NUMBER})\.?(?=\s|$|[:)])",
    re.IGNORECASE,
)
_Q_LINE = re.compile(
    rf"^\s*\**(?:Q|Question|Problem)\s*[-.:]?\s*(?P<number>{NUMBER})\b\.?\**\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_BARE = re.compile(r"^\s*\**(?P<number>[0-9]+(?:\.[0-9]+)+)\.?\**\s*(?P<rest>.*)$")
_SUB = re.compile(
    r"^\s*(?:\$+\s*)?(?:\((?P<paren>[a-z]{1,4})\)|(?P<bare>[a-z]{1,4})\))\s*(?P<rest>.*)$"
)
_ROMAN = {"i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"}


@dataclass
class Section:
    """One numbered section: its number as the rubric writes it (`2.1.2`, `1.e`), the line of
    its heading (1-based), and its lines with their line numbers, starting with any text that
    followed the number on the heading line itself ("Q2 (a) Learning rate A is too high")."""

    number: str
    line: int
    lines: list[tuple[int, str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(text for _, text in self.lines)

    @property
    def empty(self) -> bool:
        return not any(text.strip() for _, text in self.lines)


@dataclass(frozen=True)
class Found:
    """Where a part's answer is: the section, and why a human should check it (empty when the
    section was found as such, once, and in order)."""

    section: Section
    doubt: str = ""


@dataclass
class Sheet:
    """A sheet's sections in order, and whether their numbers come in order (out of order,
    an answer may well sit under another heading than its own)."""

    sections: list[Section]
    text: str = ""
    """The whole sheet, searched once for an answer that names itself (a formula) when its
    own section is absent."""

    def section_at(self, line: int) -> Section | None:
        """The section holding `line` (1-based), None before the first heading."""
        index = bisect.bisect_right([s.line for s in self.sections], line) - 1
        return self.sections[index] if index >= 0 else None

    @cached_property
    def in_order(self) -> bool:
        keys = [_key(s.number) for s in self.sections if _dotted_digits(s.number)]
        return all(a <= b for a, b in itertools.pairwise(keys))

    @cached_property
    def _numbered(self) -> dict[str, list[int]]:
        """Where each number heads a section (indexes into `sections`): every part looks its
        section up, and a sheet may have 10^5 headings."""
        where: dict[str, list[int]] = {}
        for index, section in enumerate(self.sections):
            where.setdefault(section.number, []).append(index)
        return where

    @cached_property
    def _highest_before(self) -> list[tuple[tuple[int, str], ...] | None]:
        """For each section, the highest dotted number heading a section before it."""
        highest: list[tuple[tuple[int, str], ...] | None] = []
        top: tuple[tuple[int, str], ...] | None = None
        for section in self.sections:
            highest.append(top)
            if _dotted_digits(section.number):
                key = _key(section.number)
                top = key if top is None or key > top else top
        return highest

    def labels_under(self, number: str) -> list[Section]:
        """The sections numbered below `number` (7.i, 7.a.ii under 7)."""
        prefix = number + "."
        return [s for s in self.sections if s.number.startswith(prefix)]

    def find(self, number: str) -> Found | None:
        """The section answering `number` with its sub-parts' lines, None when neither it nor a
        parent with text of its own (not only sub-sections) is on the sheet.

        A sub-part written without its middle level (`(i)` straight under Question 1, for
        1.a.i) is its own section all the same. An answer found only under a parent heading,
        under a number that heads two sections, or under a heading out of order, comes with
        a doubt."""
        exact = [self.sections[i] for i in self._numbered.get(number, [])]
        if not exact:
            exact = [s for s in self.sections if _skips_a_level(s.number, number)]
        if len(exact) > 1:
            nonempty = [s for s in exact if not s.empty]
            if len(nonempty) == 1:
                return Found(self._whole(nonempty[0]))
            lines = ", ".join(str(s.line) for s in exact)
            return Found(
                self._whole(exact[-1]), f"the sheet has two sections {number} (lines {lines})"
            )
        if exact:
            section = exact[0]
            if not self.in_order and self._out_of_place(section):
                return Found(self._whole(section), f"section {number} is out of order on the sheet")
            return Found(self._whole(section))
        parts = number.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            parent = ".".join(parts[:cut])
            under = [self.sections[i] for i in self._numbered.get(parent, [])]
            under = [s for s in under if not s.empty]
            if under:
                return Found(under[-1], f"no section {number}; the answer may be under {parent}")
        return None

    def _whole(self, section: Section) -> Section:
        """The section with the lines of the sub-parts that follow it (Q7 and its (a), (b))."""
        index = self._index(section)
        whole = Section(section.number, section.line, list(section.lines))
        for after in self.sections[index + 1 :]:
            if not after.number.startswith(section.number + "."):
                break
            whole.lines += after.lines
        return whole

    def _index(self, section: Section) -> int:
        return next(i for i in self._numbered[section.number] if self.sections[i] is section)

    def _out_of_place(self, section: Section) -> bool:
        """Whether a section comes after one with a higher number of the same depth or less."""
        highest = self._highest_before[self._index(section)]
        return (
            _dotted_digits(section.number)
            and highest is not None
            and highest > _key(section.number)
        )


def _key(number: str) -> tuple[tuple[int, str], ...]:
    return tuple((int(part), "") if part.isdigit() else (0, part) for part in number.split("."))


def _skips_a_level(found: str, wanted: str) -> bool:
    """1.ii stands for 1.a.ii when the sheet never wrote (a)."""
    have, want = found.split("."), wanted.split(".")
    return (
        len(want) == len(have) + 1
        and len(want) >= 3
        and any(
            want[:i] + want[i + 1 :] == have and not want[i].isdigit()
            for i in range(1, len(want) - 1)
        )
    )


def _dotted_digits(number: str) -> bool:
    """2.1.2, but not 2 or 1.e: only such numbers are ordered the same way on every sheet."""
    return "." in number and all(part.isdigit() for part in number.split("."))


def _title_number(title: str) -> str | None:
    title = _MARKUP.sub("", title).strip()
    match = _NUMBERED.match(title)
    return match.group("number").rstrip(".") if match else None


def _heading(raw: str) -> tuple[str, str] | None:
    """(number, the text after it on the same line) when `raw` is a numbered heading."""
    raw = _EMPHASIS.sub(r"\1", raw)  # \textbf{2.1.3} is a bold number line
    heading = _HEADING.match(raw) or _LATEX.match(raw)
    if heading:
        number = _title_number(heading.group("title"))
        return (number, "") if number is not None else None
    match = _Q_LINE.match(raw)
    if match:
        return match.group("number"), match.group("rest")
    match = _BARE.match(raw)
    if match and (_looks_like_title(match.group("rest")) or match.group("number").count(".") > 1):
        rest = match.group("rest")
        return match.group("number"), rest if _has_answer(rest) else ""
    return None


def _sub_part(raw: str) -> tuple[str, str] | None:
    """(label, the line without it) when `raw` starts a sub-part: (a), f), (ii)."""
    match = _SUB.match(raw)
    if match is None:
        return None
    group = "paren" if match.group("paren") else "bare"
    return match.group(group), raw[: match.start(group)].rstrip("(") + raw[
        match.end(group) :
    ].lstrip(")")


def split_sections(text: str) -> Sheet:
    """Every numbered section of `text`, in order of appearance. Lines before the first
    heading belong to no section. A heading's own text after its number ("Q2 (a) Learning
    Rate A is too high!") is the first line of its section. Sub-parts are recognised under a
    question heading without dots (Question 1, Q7), not under 2.1.2, whose `(a)` lines are
    text."""
    sections: list[Section] = []
    current: Section | None = None
    question: str | None = None
    letter: str | None = None
    for index, raw in enumerate(text.splitlines(), start=1):
        heading = _heading(raw)
        if heading is not None:
            number, raw = heading
            question, letter = (None if "." in number else number), None
            current = Section(number, index)
            sections.append(current)
        sub = _sub_part(raw) if question is not None else None
        if sub is not None and question is not None:
            label, raw = sub
            roman = label in _ROMAN and not (label == "i" and letter == "h")
            if roman and letter is not None:
                number = f"{question}.{letter}.{label}"
            else:
                number = f"{question}.{label}"
                letter = letter if roman else label
            current = Section(number, index)
            sections.append(current)
        if current is not None and (raw.strip() or heading is None):
            current.lines.append((index, raw))
    return Sheet(sections, text)


def _looks_like_title(rest: str) -> bool:
    """After a bare 2.1.2: nothing, or words that do not start a sentence of maths."""
    rest = _MARKUP.sub("", rest).strip()
    return not rest or rest[0].isalpha() or rest[0] in "(["


def _has_answer(rest: str) -> bool:
    return bool(re.search(r"[0-9=$\\]", rest))
