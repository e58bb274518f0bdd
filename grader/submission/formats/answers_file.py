"""Turning a data-only answers file (`hw2.yaml`) into the module the sandbox imports.

Some assignments ask only for numbers, matrices and choices; students who did the work on paper
can then hand in `NAME: value` lines instead of Python. The file is read with yaml.safe_load and
every value is written back out as a Python literal, so the module defines exactly those names
and nothing in the file is ever evaluated: not here, and not in the sandbox either.

The loader is stricter than safe_load where plain safe_load would hurt the grader or surprise a
student: integers are at most 100 characters long, aliases are refused (a few lines of nested
aliases expand into billions of list items when written out), nesting is bounded, only plain
data types are accepted, and `1e-3` is read as the number it looks like (YAML 1.1, and so
PyYAML, reads it as text). Students should still be told that YAML reads yes/no/on/off as
true/false. It runs under the guard of `bounded`, like every converter.
"""

from __future__ import annotations

import keyword
import math
import re
from typing import Any

import yaml

from grader.submission.formats.base import Asked, Converted, FormatError, SubmissionFormat

MAX_ANSWERS_BYTES = 1 << 20
"""Largest answers file accepted: a file of numbers and short texts is a few KB."""

MAX_DEPTH = 32
"""Deepest nesting of lists and mappings (a 4-D tensor needs 4)."""

MAX_INT_CHARACTERS = 100
"""Longest integer accepted, in characters: YAML reads hexadecimal and base-60 (1:30:00)
integers too, and reading or printing a long one costs time quadratic in its length."""

SUFFIXES = (".yaml", ".yml")

_EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")


class AnswersFileError(FormatError):
    """The answers file cannot be used; the message names the file and says what is wrong."""


class _AnswersLoader(yaml.SafeLoader):
    """SafeLoader without aliases, with `1e-3` read as a number, remembering duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[str, int, int]] = []
        self._top: Any = None

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]  # PyYAML's stub
            raise yaml.composer.ComposerError(
                None,
                None,
                "aliases (*name) are not allowed in an answers file; write the value out",
                event.start_mark,
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode) and node is self._top:
            seen: dict[str, int] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue  # a list or mapping as a key: refused as not a name later
                line = key_node.start_mark.line + 1
                if key_node.value in seen:
                    self.duplicates.append((key_node.value, seen[key_node.value], line))
                seen[key_node.value] = line
        return super().construct_mapping(node, deep=deep)

    def get_single_node(self) -> Any:
        self._top = node = super().get_single_node()
        return node

    def construct_yaml_int(self, node: Any) -> Any:
        if len(str(node.value)) > MAX_INT_CHARACTERS:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"an integer longer than {MAX_INT_CHARACTERS} characters; no answer needs one",
                node.start_mark,
            )
        return super().construct_yaml_int(node)


_AnswersLoader.add_constructor("tag:yaml.org,2002:int", _AnswersLoader.construct_yaml_int)
_AnswersLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", _EXPONENT_FLOAT, list("-+0123456789.")
)


def _describe(value: object) -> str:
    names = {
        "date": "a date",
        "datetime": "a date and time",
        "bytes": "binary data",
        "set": "a set",
        "tuple": "a pair",
    }
    return names.get(type(value).__name__, f"a {type(value).__name__}")


def _literal(value: object, where: str, depth: int = 0) -> str:
    """Python source for a plain YAML value; AnswersFileError for anything else."""
    if depth > MAX_DEPTH:
        raise AnswersFileError(f"{where} is nested more than {MAX_DEPTH} levels deep")
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "float('nan')"
        if math.isinf(value):
            return "float('inf')" if value > 0 else "-float('inf')"
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(item, where, depth + 1) for item in value) + "]"
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if not (key is None or isinstance(key, (bool, int, float, str))):
                raise AnswersFileError(
                    f"{where} has a key that is {_describe(key)}; keys are numbers or text"
                )
            items.append(f"{_literal(key, where, depth + 1)}: {_literal(item, where, depth + 1)}")
        return "{" + ", ".join(items) + "}"
    raise AnswersFileError(
        f"{where} is {_describe(value)}; an answers file holds only numbers, text, true/false, "
        "null, lists and mappings (put text in quotes)"
    )


def _name_problem(key: object) -> str | None:
    """Why `key` cannot be a module-level name the grader asks for, or None if it can."""
    if isinstance(key, bool):
        return (
            f"{key!r} is not a name (YAML reads yes/no/on/off/true/false as true or "
            "false; the names are the ones in the handout, such as ETA_STAR)"
        )
    if not isinstance(key, str):
        return f"{key!r} is not a name (names are letters, digits and _, such as ETA_STAR)"
    if not (key.isascii() and key.isidentifier()):
        return (
            f"{key!r} is not a valid name: names are letters, digits and _, not starting "
            "with a digit (such as ETA_STAR)"
        )
    if keyword.iskeyword(key):
        return f"{key!r} is a Python keyword, not a name"
    if key.startswith("__") and key.endswith("__"):
        return f"{key!r} is reserved by Python"
    return None


def convert_answers(data: bytes, name: str) -> tuple[str, list[str]]:
    """(module source, notes) for an answers file's bytes; AnswersFileError if it cannot be
    used. The module assigns each name its value as a literal, in the file's order."""
    if len(data) > MAX_ANSWERS_BYTES:
        raise AnswersFileError(too_large_message(name, len(data)))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise AnswersFileError(
            f"{name} is not UTF-8 text (line {line} has the byte "
            f"0x{data[error.start]:02x}); save it as UTF-8"
        ) from None
    loader: _AnswersLoader | None = None
    try:
        loader = _AnswersLoader(text)  # the reader checks the characters here already
        answers = loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = error.problem or error.context or "cannot be read"
        if problem.startswith("but ") and error.context:
            problem = f"{error.context}, {problem}"
        raise AnswersFileError(f"{name} is not valid YAML: {where}{problem}") from None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        raise AnswersFileError(
            f"{name} is not valid YAML: line {line} holds the character "
            f"U+{error.character:04X}, which YAML does not allow"
        ) from None
    except yaml.YAMLError as error:
        raise AnswersFileError(f"{name} is not valid YAML: {error}") from None
    except RecursionError:
        raise AnswersFileError(f"{name} is nested too deeply to read") from None
    except ValueError:  # an integer beyond Python's digit limit
        raise AnswersFileError(f"{name} holds a number too long to read") from None
    finally:
        if loader is not None:
            loader.dispose()
    if answers is None:
        raise AnswersFileError(
            f"{name} is empty: write one answer per line, as NAME: value "
            "(for example ETA_STAR: 0.5)"
        )
    if not isinstance(answers, dict):
        raise AnswersFileError(
            f"{name} should map names to answers, one per line as NAME: "
            f"value, but it holds {_describe(answers)}"
        )
    lines = [f'"""Answers read from {_safe(name)} by the grader: data only."""', ""]
    for key, value in answers.items():
        bad_name = _name_problem(key)
        if bad_name is not None:
            raise AnswersFileError(f"{name}: {bad_name}")
        lines.append(f"{key} = {_literal(value, f'{name}: the value of {key}')}")
    assert loader is not None
    notes = [
        f"{name}: {key} is given twice (lines {first} and {second}); the second one is graded"
        for key, first, second in loader.duplicates
    ]
    return "\n".join(lines) + "\n", notes


def too_large_message(name: str, size: int) -> str:
    return (
        f"{name} is {size / 1024:.0f} KB, more than the {MAX_ANSWERS_BYTES >> 10} KB an "
        "answers file may have"
    )


def _safe(name: str) -> str:
    return "".join(char if char.isprintable() and char not in '"\\' else "?" for char in name)


def convert(data: bytes, name: str, asked: Asked) -> Converted:
    source, notes = convert_answers(data, name)
    graded = (
        f"{name} was graded as {asked.entry}: an answers file holds values only, so "
        "every function the assignment asks for is reported as not defined."
    )
    return Converted(source, (graded, *notes))


FORMAT = SubmissionFormat(
    name="answers",
    suffixes=SUFFIXES,
    max_bytes=MAX_ANSWERS_BYTES,
    too_large=too_large_message,
    convert=convert,
)
