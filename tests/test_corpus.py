"""The corpus: mutants of the correct example submissions (plausible wrong answers) and correct
variants (other forms of the same answers), graded in-process by the engine's own judging.

Mutants are made from the whole submission file by the AST operators of `grader mutants`
(factors 2 and 1/2, +-1, + <-> -, * <-> /, integer division, dropped terms, signs, transposes
and flips, swapped arguments, < <-> <=, negated results), so constants computed from functions
change with them, as a student's would. A mutant is equivalent, and left out, when every answer
it changes still passes its check on every case (and on 30 further random cases). Over-credit is
any changed part earning more than half credit beyond what its items alone earn (a table with one
wrong cell keeps 8/9) or what a named mistake it equals promises. Under-credit is any correct
variant earning less than full credit.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import functools
from typing import Any

import numpy as np
import pytest
import torch
from corpus_support import REPO, course, grade_in_process, judge_part, promised_credit

from grader.checks import compare
from grader.checks.property import PropertyCheck
from grader.grading.engine import Attempt
from grader.rubric.budget import TimeBudget
from grader.rubric.model import AutoPart
from grader.trusted.mutation import _nodes, _Replace, _replacements

THRESHOLD = 0.5
PROBES = 30
SAMPLE = 2
"""Every SAMPLE-th mutant of a file is graded, so the corpus stays within a minute or two."""


def source_of(name: str) -> str:
    return (REPO / "submissions_example" / name / "correct" / f"{name}.py").read_text()


def run_source(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "corpus_submission"}
    exec(compile(source, "<corpus>", "exec"), namespace)
    return {k: v for k, v in namespace.items() if not k.startswith("__")}


@functools.cache
def correct(name: str) -> dict[str, Any]:
    return run_source(source_of(name))


def parts(name: str) -> dict[str, AutoPart]:
    loaded = course(name)[0]
    return {
        part.target: part
        for question in loaded.rubric.questions
        for part in question.parts
        if isinstance(part, AutoPart)
    }


def file_mutants(name: str) -> list[tuple[str, str]]:
    """(what changed, mutated file source) for each mutation of the file's statements, its
    docstring and imports left alone."""
    tree = ast.parse(source_of(name))
    skip: set[int] = set()
    for statement in tree.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)) or (
            isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
        ):
            skip |= {id(node) for node in _nodes(statement)}
        if isinstance(statement, ast.FunctionDef):
            skip |= {id(node) for arg in statement.args.args for node in _nodes(arg)}
    found = []
    for index, node in enumerate(_nodes(tree)):
        if id(node) in skip:
            continue
        for change, replacement in _replacements(node):
            mutated = _Replace(index, copy.deepcopy(replacement)).visit(copy.deepcopy(tree))
            try:
                found.append(
                    (
                        f"line {getattr(node, 'lineno', 0)}: {change}",
                        ast.unparse(ast.fix_missing_locations(mutated)),
                    )
                )
            except Exception:
                continue
    return found


def same_answer(name: str, part: AutoPart, mine: Any, theirs: Any) -> bool:
    """Whether a mutant's answer to a part is the correct submission's, on every case."""
    reference = course(name)[1]
    if part.function is None and isinstance(part.check, PropertyCheck):
        predicate = reference.function(part.check.predicate, field="t")
        try:
            return bool(predicate(copy.deepcopy(mine))[0])  # another right answer
        except Exception:
            return False
    if part.function is None:
        try:
            return bool(compare(part.check, mine, theirs, reveal=False).passed)
        except Exception:
            return False
    spec = part.function
    cases = [*spec.public, *spec.hidden]
    if spec.random is not None:
        generator = reference.function(spec.random.generator, field="t")
        rng = np.random.default_rng(7)
        cases += [generator(rng) for _ in range(PROBES)]
    for case in cases:
        args = [
            copy.deepcopy(np.asarray(case[a]) if a in spec.array_args else case[a])
            for a in spec.args
        ]
        try:
            with np.errstate(all="ignore"):
                a = mine(*copy.deepcopy(args)) if not spec.harness else None
                b = theirs(*copy.deepcopy(args)) if not spec.harness else None
            if spec.harness:
                harness = course(name)[2]
                wrapper = getattr(harness, spec.harness)
                a, b = wrapper(mine, *copy.deepcopy(args)), wrapper(theirs, *copy.deepcopy(args))
            if isinstance(part.check, PropertyCheck):
                if not np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-9):
                    return False
            elif not compare(part.check, a, b, reveal=False).passed:
                return False
        except Exception:
            return False
    return True


def accuracy(name: str, part: AutoPart, mine: Any) -> float:
    """The share of fresh random cases a function gets right (by its check or predicate)."""
    reference = course(name)[1]
    spec = part.function
    assert spec is not None and spec.random is not None
    generator = reference.function(spec.random.generator, field="t")
    rng = np.random.default_rng(11)
    right = 0
    for _ in range(PROBES):
        case = {k: v for k, v in generator(rng).items() if k in spec.args}
        try:
            with np.errstate(all="ignore"):
                got = mine(*[copy.deepcopy(case[a]) for a in spec.args])
            if isinstance(part.check, PropertyCheck):
                predicate = reference.function(part.check.predicate, field="t")
                right += bool(predicate(got, **case)[0])
            else:
                truth = reference.function(spec.reference, field="t")(**case)
                right += bool(compare(part.check, got, truth, reveal=False).passed)
        except Exception:
            pass
    return right / PROBES


def deserved(name: str, part: AutoPart, value: Any) -> float:
    """What a changed answer may earn: the threshold, its items' own share (constants), a
    named mistake's promise when it is that mistake as a whole, or for a function its share of
    right answers on fresh cases (partial credit for a function right on most cases), with a
    margin for the few cases a grade rests on."""
    allowed = THRESHOLD
    if part.function is not None and part.function.random is not None and not part.function.harness:
        allowed = max(allowed, accuracy(name, part, value) + 0.25)
    if part.function is None:
        reference = course(name)[1]
        truth = (
            reference.constant(part.answer.reference, field="t")
            if part.answer and part.answer.reference
            else (part.answer.value if part.answer else None)
        )
        if truth is not None:
            with contextlib.suppress(Exception):
                allowed = max(allowed, compare(part.check, value, truth, reveal=False).credit)
        for mistake in part.mistakes:
            if mistake.uses:
                continue
            other = (
                reference.constant(mistake.reference, field="t")
                if mistake.reference
                else mistake.value
            )
            try:
                if compare(part.check, value, other, reveal=False).passed:
                    allowed = max(allowed, 1.0 - 1e-9)  # its promise, judged by the rubric
            except Exception:
                pass
    return allowed


@functools.cache
def graded_mutants(name: str) -> list[tuple[str, str, float, float]]:
    """(change, part, credit, allowed) for every part a non-equivalent mutant changed."""
    good = correct(name)
    by_target = parts(name)
    out = []
    for change, source in file_mutants(name)[::SAMPLE]:
        try:
            mutant = run_source(source)
        except Exception:
            continue  # a mutant that cannot even be imported earns nothing anywhere
        changed = {
            target
            for target, part in by_target.items()
            if target in good
            and (target not in mutant or not same_answer(name, part, mutant[target], good[target]))
        }
        if not changed:
            continue
        credits = grade_in_process(name, mutant, only=changed)
        for key, credit in credits.items():
            target = key.split("/", 1)[1]
            part = by_target[target]
            value = mutant.get(target)
            out.append((change, key, credit, deserved(name, part, value)))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", ["hw2", "midterm"])
def test_no_mutant_of_a_correct_submission_is_over_credited(name: str) -> None:
    over = [m for m in graded_mutants(name) if m[2] > m[3] + 1e-9]
    assert not over, over[:10]


@pytest.mark.slow
def test_the_corpus_holds_at_least_200_mutants() -> None:
    mutants = {(name, change) for name in ("hw2", "midterm") for change, *_ in graded_mutants(name)}
    assert len(mutants) >= 200, len(mutants)


# --- correct variants ------------------------------------------------------------------------


def _forms(value: Any, kind: str) -> list[tuple[str, Any]]:
    """Other forms of a correct value that a careful TA accepts (a big-O's case is meaning:
    o(t) is little-o)."""
    forms: list[tuple[str, Any]] = []
    if isinstance(value, str) and kind == "big_o":
        return [("padded", f"  {value} "), ("spelled out", value.replace("O(", "O( "))]
    if isinstance(value, str):
        forms += [
            ("upper case", value.upper()),
            ("padded", f"  {value} "),
            ("lower", value.lower()),
        ]
        return forms
    if isinstance(value, (set, frozenset)):
        return [("list", sorted(value)), ("tuple", tuple(sorted(value)))]
    try:
        array = np.asarray(value)
    except Exception:
        return forms
    if array.dtype.kind in "iuf" and array.size:
        forms += [
            ("numpy array", array.copy()),
            ("list", array.tolist()),
            ("float64", array.astype(np.float64)),
        ]
        if array.ndim == 1:
            forms.append(("tuple", tuple(array.tolist())))
        forms.append(("torch tensor", torch.as_tensor(array.astype(np.float64))))
    if array.dtype.kind == "U" or (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    ):
        forms += [
            ("numpy string array", np.array(value)),
            ("set", set(value)),
            ("tuple", tuple(value)),
        ]
    return forms


def _function_forms(function: Any) -> list[tuple[str, Any]]:
    def listed(*args: Any) -> Any:
        return np.asarray(function(*args)).tolist()

    def tensor(*args: Any) -> Any:
        return torch.as_tensor(np.asarray(function(*args), dtype=np.float64))

    def float32(*args: Any) -> Any:
        return np.asarray(function(*args), dtype=np.float32)

    def array(*args: Any) -> Any:
        return np.asarray(function(*args))

    return [("list", listed), ("tensor", tensor), ("float32 result", float32), ("array", array)]


@functools.cache
def graded_variants(name: str) -> list[tuple[str, str, float]]:
    good = correct(name)
    out = []
    for target, part in parts(name).items():
        if target not in good:
            continue
        value = good[target]
        if part.function is None:
            forms = _forms(value, part.check.kind)
        elif part.function.harness:
            continue  # the harness builds the objects; its student function returns nothing
        else:
            forms = _function_forms(value)
        for form, other in forms:
            answers = dict(good)
            answers[target] = other
            for key, credit in grade_in_process(name, answers, only={target}).items():
                out.append((f"{target} as {form}", key, credit))
    return out


@pytest.mark.parametrize("name", ["hw2", "midterm"])
def test_no_correct_variant_is_under_credited(name: str) -> None:
    under = [v for v in graded_variants(name) if v[2] < 1.0]
    assert not under, under


def test_the_corpus_holds_at_least_100_correct_variants() -> None:
    assert sum(len(graded_variants(name)) for name in ("hw2", "midterm")) >= 100


# --- the mistake catalogue, as students write it ---------------------------------------------

CATALOGUE_EDITS = [
    ("hw2", "loss_after_one_step", "r = a - (2 * eta / n) * X @ X.T @ a", "r = a", "l1-at-w0"),
    (
        "hw2",
        "loss_after_one_step",
        "    return float(r @ r / n)\n\n\ndef second",
        "    return float(np.sqrt(r @ r / n))\n\n\ndef second",
        "l1-rms-instead-of-mse",
    ),
    (
        "hw2",
        "eta_star",
        "float(n / 2 * (xta @ xta) / (xxta @ xxta))",
        "float(2 / n * (xxta @ xxta) / (xta @ xta))",
        "eta-star-inverted",
    ),
    ("hw2", "loss_after_t_steps", "int(steps))", "int(steps) + 1)", "lt-one-step-too-many"),
    ("hw2", "loss_after_t_steps", "int(steps))", "int(steps) - 1)", "lt-one-step-too-few"),
    (
        "hw2",
        "loss_after_t_steps",
        "np.linalg.matrix_power(step, int(steps))",
        "step ** int(steps)",
        "lt-elementwise-power",
    ),
    ("hw2", "conv2d", "float)[::-1, ::-1]", "float)[::-1, :]", "kernel-flipped-rows-only"),
    ("hw2", "conv2d", "float)[::-1, ::-1]", "float)[:, ::-1]", "kernel-flipped-columns-only"),
    (
        "hw2",
        "PARAMS_PER_LAYER",
        "[1792, 0, 73856, 0, 295168, 590080, 0,",
        "[1729, 0, 73729, 0, 294913, 589825, 0,",
        "one-bias-per-layer",
    ),
    (
        "hw2",
        "PARAMS_PER_LAYER",
        "[1792, 0, 73856, 0, 295168, 590080, 0,",
        "[640, 0, 1280, 0, 2560, 2560, 0,",
        "conv-without-input-channels",
    ),
    (
        "hw2",
        "PARAMS_PER_LAYER",
        "[1792, 0, 73856, 0, 295168, 590080, 0,",
        "[256, 0, 8320, 0, 33024, 65792, 0,",
        "conv-without-kernel-size",
    ),
    (
        "midterm",
        "conv_output_shape",
        "(size + 2 * padding - kernel) // stride",
        "(size - kernel) // stride",
        "conv-padding-ignored",
    ),
    ("midterm", "conv_output_shape", "kernel) // stride", "kernel) / stride", "conv-true-division"),
    (
        "midterm",
        "conv_output_shape",
        "return [n, out_channels, _out_size(h, kernel, padding, stride),\n"
        "            _out_size(w, kernel, padding, stride)]",
        "return [n, _out_size(h, kernel, padding, stride),\n"
        "            _out_size(w, kernel, padding, stride), out_channels]",
        "conv-nhwc-order",
    ),
    ("midterm", "receptive_field", "r, jump = 1, 1", "r, jump = 0, 1", "receptive-field-from-zero"),
    (
        "midterm",
        "RECEPTIVE_FIELDS_EXAMPLE",
        "r, jump = 1, 1",
        "r, jump = 0, 1",
        "receptive-field-from-zero",
    ),
    (
        "midterm",
        "preconditioned_step",
        "theta - alpha * M @ grad",
        "theta - alpha * M * grad",
        "preconditioner-elementwise",
    ),
    (
        "midterm",
        "LIMIT_DIAG_ABS",
        "np.ones(3) / (_x @ np.ones(3))",
        "np.ones(3) / 3",
        "diag-abs-limit-of-rescaled-problem",
    ),
    (
        "midterm",
        "LIMIT_RESCALED",
        "(np.ones(3) / 3) / _x",
        "np.ones(3) / _x",
        "rescaled-limit-without-one-third",
    ),
]
"""(assignment, target, text of the correct example, what a student wrote instead, the named
mistake it is): each a mistake of the catalogue in a student's own code."""


@pytest.mark.parametrize(("name", "target", "right", "wrong", "mistake_id"), CATALOGUE_EDITS)
def test_a_catalogue_mistake_in_a_students_code_gets_its_id_and_credit(
    name: str, target: str, right: str, wrong: str, mistake_id: str
) -> None:
    source = source_of(name)
    assert right in source
    answers = run_source(source.replace(right, wrong))
    loaded, reference, harness = course(name)
    q_index, p_index, part = next(
        (q, p, part)
        for q, question in enumerate(loaded.rubric.questions)
        for p, part in enumerate(question.parts)
        if isinstance(part, AutoPart) and part.target == target
    )
    mistake = next(m for m in part.mistakes if m.id == mistake_id)
    attempt = Attempt(loaded, reference, None, None, seed=413, budget=TimeBudget(600, 1))
    attempt._hidden_phase = True
    result = judge_part(attempt, q_index, p_index, answers[target], harness)
    assert result.mistakes == [mistake_id], result
    assert result.credit == pytest.approx(promised_credit(name, part, mistake, answers[target])), (
        result
    )
