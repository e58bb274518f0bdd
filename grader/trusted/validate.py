"""Checking a rubric against its reference module before any student is graded.

Structural errors are caught when the rubric is loaded; this goes further and runs the trusted
side of every part: each named function exists, every answer can be computed and suits its
check, every generator yields cases the reference can answer, and custom tests add up to the
points the rubric gives them. A mistake here would otherwise surface as one student's zero.
"""

from __future__ import annotations

import ast
import math
import sys
from pathlib import Path

import numpy as np

from grader.checks import compare, validate_expected
from grader.checks.property import PropertyCheck
from grader.errors import GraderInputError
from grader.rubric.model import AutoPart, LoadedRubric, Mistake
from grader.trusted.answers import ListedAnswers, constant_value, expected_constant
from grader.trusted.cases import RANDOM, build_cases
from grader.trusted.custom_test_suite import declared_points
from grader.trusted.mutation import lurking_mutants
from grader.trusted.reference import ReferenceModule, load_reference


def _check_part(
    reference: ReferenceModule,
    part: AutoPart,
    at: tuple[int, int],
    listed: ListedAnswers | None,
) -> list[str]:
    where = f"questions[{at[0]}].parts[{at[1]}]"
    problems: list[str] = []
    running = ""  # the reference function being run, named if it raises
    try:
        if isinstance(part.check, PropertyCheck):
            reference.function(part.check.predicate, field=f"{where}.check.predicate")
        if part.answer is not None:
            running = part.answer.reference or ""
            expected = expected_constant(part, reference, where=where)
            problem = validate_expected(part.check, expected)
            if problem:
                problems.append(f"{where}.answer: {problem}")
        for index, variant in enumerate([*part.mistakes, *part.alternatives]):
            if variant.reference is not None:
                reference.function(variant.reference, field=f"{where} variant {index}")
        spec = part.function
        if spec is not None:
            if spec.reference is not None:
                function = reference.function(spec.reference, field=f"{where}.function.reference")
            running = spec.random.generator if spec.random is not None else ""
            cases = build_cases(spec, reference, np.random.default_rng(0))
            for case in cases:
                if spec.reference is None:
                    continue
                running = spec.reference
                # by name, exactly as the engine calls it: these answers are the engine's
                expected = function(**case.kwargs)
                if listed is not None and case.kind != RANDOM:
                    listed[(*at, case.kind, case.index)] = expected
                problem = validate_expected(part.check, expected)
                if problem:
                    problems.append(f"{where}.function ({case.label}): {problem}")
                    break
    except GraderInputError as error:
        problems.append(str(error))
    except Exception as error:
        named = f" {running}()" if running else ""
        problems.append(
            f"{where}: running the reference{named} failed: {type(error).__name__}: {error}"
        )
    return problems


def harness_functions(path: Path) -> set[str]:
    """Top-level function names of the harness module, read without running it (the harness
    runs only inside the sandbox)."""
    return {
        node.name
        for node in ast.parse(path.read_text(), str(path)).body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }


def _check_harness(loaded: LoadedRubric) -> list[str]:
    path = loaded.harness_path
    if path is None:
        return []
    try:
        defined = harness_functions(path)
    except (OSError, SyntaxError) as error:
        return [f"harness: {path} cannot be read as Python: {error}"]
    return [
        f"questions[{q}].parts[{p}].function.harness: {part.function.harness!r} is not a "
        f"function of {path}"
        for q, question in enumerate(loaded.rubric.questions)
        for p, part in enumerate(question.parts)
        if isinstance(part, AutoPart)
        and part.function
        and part.function.harness
        and part.function.harness not in defined
    ]


def validate(
    loaded: LoadedRubric,
    reference: ReferenceModule | None = None,
    listed: ListedAnswers | None = None,
) -> list[str]:
    """Every problem found, each naming the rubric field at fault; empty when all is well.
    Given the `reference` a caller then grades with, the constants computed here are not
    computed again (the module keeps them); `listed` receives the canonical answers of the
    listed cases, computed here anyway, for the engine (Engine's `listed_answers`)."""
    if reference is None:
        try:
            reference = load_reference(loaded.reference_path)
        except GraderInputError as error:
            return [f"{loaded.path}: reference: {error}"]
    problems = _check_harness(loaded)
    for q_index, question in enumerate(loaded.rubric.questions):
        for p_index, part in enumerate(question.parts):
            if isinstance(part, AutoPart):
                problems += _check_part(reference, part, (q_index, p_index), listed)
    for index, tests in enumerate(loaded.rubric.custom_tests):
        path = loaded.custom_test_path(tests)
        try:
            points = declared_points(path, reference)
        except Exception as error:
            problems.append(
                f"custom_tests[{index}].module: {path} cannot be loaded: "
                f"{type(error).__name__}: {error}"
            )
            continue
        if not math.isclose(points, tests.points, abs_tol=1e-9):
            problems.append(
                f"custom_tests[{index}].points: is {tests.points:g} but the "
                f"module's @weight values add up to {points:g}"
            )
    return [f"{loaded.path}: {p}" if not p.startswith(str(loaded.path)) else p for p in problems]


def _indistinguishable(part: AutoPart, reference: ReferenceModule, mistake: Mistake) -> str | None:
    """Where a known mistake gives the right answer, so a student making it is not caught."""
    assert mistake.reference is not None or mistake.value is not None
    if part.function is None:
        expected = expected_constant(part, reference)
        value = constant_value(mistake, reference, field="mistake")
        same = compare(part.check, value, expected, reveal=False).passed
        return "it equals the right answer, so it can never be recognised" if same else None
    spec = part.function
    if spec.reference is None or mistake.reference is None:
        return None  # judged by a predicate, or a fixed wrong value: nothing to run on cases
    function = reference.function(spec.reference, field="function.reference")
    wrong = reference.function(mistake.reference, field="mistake")
    hits: dict[str, list[int]] = {}
    cases = build_cases(spec, reference, np.random.default_rng(0))
    for case in cases:
        expected = function(**case.kwargs)
        if compare(part.check, wrong(**case.kwargs), expected, reveal=False).passed:
            hits.setdefault(case.kind, []).append(case.index)
    # Public cases earn nothing (the credit rule) and a mistake is judged only where it differs
    # from the truth; random cases are redrawn by the engine until they tell the two apart. So
    # only a hidden case, or a generator that never tells them apart, leaves the mistake unseen.
    hits.pop("public", None)
    if len(hits.get("random", [])) < sum(case.kind == "random" for case in cases):
        hits.pop("random", None)
    if not hits:
        return None
    where = "; ".join(
        f"{len(found)} {kind} case{'s' if len(found) > 1 else ''}" for kind, found in hits.items()
    )
    return (
        f"it gives the right answer on {where} (of {len(cases)}), where it cannot be told "
        "from the right answer; choose cases that tell it apart"
    )


def _blind_hidden_cases(part: AutoPart, reference: ReferenceModule, where: str) -> list[str]:
    """Hidden cases on which an automatic mutant that is wrong elsewhere gives the right
    answer: the engine redraws random cases until they tell such mutants apart, but a hidden
    case is the author's, so it is reported here rather than silently changed."""
    spec = part.function
    try:
        lurking = lurking_mutants(part, reference)
        if spec is None or spec.reference is None or not lurking:
            return []
        truth = reference.function(spec.reference, field="function.reference")
        cases = [
            c for c in build_cases(spec, reference, np.random.default_rng(0)) if c.kind == "hidden"
        ]
    except Exception:  # validate() reports reference failures
        return []
    found = []
    for case in cases:
        expected = truth(**case.kwargs)
        blind = [mutant.label for mutant in lurking if mutant.agrees(part, case.kwargs, expected)]
        if blind:
            found.append(
                f"{where}.function.hidden[{case.index}]: gives the right answer for "
                f"{len(blind)} automatic mutant(s) of the reference that are wrong on other "
                f"cases ({'; '.join(blind[:3])}): such a wrong answer earns this case; choose "
                "a case that tells them apart"
            )
    return found


def _list_arguments(part: AutoPart, reference: ReferenceModule) -> list[str]:
    """Arguments a generator draws as lists that students receive as lists (only names in
    array_args or tensor_args become arrays) although the reference itself fails on a list
    and works on an array: a student's function would fail the same way on every random case."""
    spec = part.function
    if spec is None or spec.random is None or spec.reference is None:
        return []
    try:
        function = reference.function(spec.reference, field="function.reference")
        drawn = build_cases(spec, reference, np.random.default_rng(0))[-1].kwargs
    except Exception:  # validate() reports it
        return []
    listed = [name for name in spec.args if isinstance(drawn.get(name), (list, tuple))]
    if not listed:
        return []
    try:
        function(*(drawn[name] for name in spec.args))
        return []
    except Exception:
        pass
    found = []
    for name in listed:
        arrays = {**drawn, name: np.asarray(drawn[name], dtype=np.float64)}
        try:
            function(*(arrays[arg] for arg in spec.args))
        except Exception:
            continue
        found.append(name)
    return found


def mistake_warnings(loaded: LoadedRubric) -> list[str]:
    """Known mistakes the rubric's own cases cannot detect, and generators drawing lists for
    arguments that are not declared arrays: not errors, but worth a look."""
    try:
        reference = load_reference(loaded.reference_path)
    except GraderInputError:
        return []  # validate() reports it
    found = []
    for q_index, question in enumerate(loaded.rubric.questions):
        for p_index, part in enumerate(question.parts):
            if not isinstance(part, AutoPart):
                continue
            for name in _list_arguments(part, reference):
                assert part.function is not None and part.function.random is not None
                found.append(
                    f"questions[{q_index}].parts[{p_index}].function.random: generator "
                    f"{part.function.random.generator} draws {name} as a list, which students "
                    "receive as a list, and the reference fails on it but not on an array: "
                    "name it in function.array_args (or tensor_args)"
                )
            if isinstance(part.check, PropertyCheck):
                continue
            if part.function is not None and part.function.reference is None:
                continue
            found += _blind_hidden_cases(part, reference, f"questions[{q_index}].parts[{p_index}]")
            for m_index, mistake in enumerate(part.mistakes):
                if (
                    mistake.uses
                    or mistake.convention
                    or (part.function is not None and mistake.reference is None)
                ):
                    continue  # judged against the student's own answers, or gated
                try:
                    why = _indistinguishable(part, reference, mistake)
                except Exception:  # validate() reports reference failures
                    continue
                if why:
                    found.append(
                        f"questions[{q_index}].parts[{p_index}].mistakes[{m_index}] "
                        f"({mistake.id}): {why}"
                    )
    return found


def compiler_stack_warning(loaded: LoadedRubric) -> str | None:
    """Whether computing the answers in this process loaded torch's compiler stack, which every
    grading process would then pay for. A fact about the whole process: ask it in a command
    that has done nothing but validate the rubric."""
    if "torch._dynamo" not in sys.modules:
        return None
    return (
        f"reference {loaded.reference_path.name}: computing the answers imported torch._dynamo "
        "(and sympy), usually through torch.optim or torch.compile, which costs every grading "
        "process 1 to 2 s; the trusted side needs only the arithmetic (plain SGD is "
        "`parameter.add_(parameter.grad, alpha=-lr)` under torch.no_grad())"
    )
