"""Grading a namespace of answers in-process, by the engine's own judging, for the corpus tests.

The engine's judging (credit rule, conventions, mistakes, redrawn cases) runs in the trusted
process from replies; this helper makes the replies by calling the "student's" functions right
here instead of in a sandboxed child, so hundreds of mutants and variants are graded in seconds
in the fast tier. Arguments are copied before each call, as the wire would; a harness part runs
the rubric's harness module in-process around the function, as the child does.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from grader.checks import compare, kind_of
from grader.grading.engine import Attempt, PartRun
from grader.grading.results import PartResult
from grader.grading.structure import transformations
from grader.rubric.budget import TimeBudget
from grader.rubric.model import AutoPart, LoadedRubric, Mistake, load_rubric
from grader.sandbox import wire
from grader.sandbox.runner import Reply
from grader.trusted.answers import expected_constant
from grader.trusted.cases import build_cases, part_rng
from grader.trusted.reference import ReferenceModule, load_reference

REPO = Path(__file__).resolve().parents[1]


@functools.cache
def course(name: str) -> tuple[LoadedRubric, ReferenceModule, ModuleType | None]:
    loaded = load_rubric(REPO / "rubrics" / f"{name}.yaml")
    reference = load_reference(loaded.reference_path)
    harness = None
    if loaded.harness_path is not None:
        spec = importlib.util.spec_from_file_location("corpus_harness", loaded.harness_path)
        assert spec is not None and spec.loader is not None
        harness = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(harness)
    return loaded, reference, harness


def reply_of(function: Any, *args: Any) -> Reply:
    """The reply the sandbox would send: the value through the wire's encoding and decoding
    (tensors arrive as arrays, sets of text as sets, string arrays as string arrays)."""
    try:
        with np.errstate(all="ignore"):
            value = function(*args)
        return Reply("ok", wire.decode(wire.loads(wire.dumps(wire.encode(value)))))
    except NotImplementedError:
        return Reply("exception", error_type="NotImplementedError")
    except Exception as error:
        return Reply("exception", error_type=type(error).__name__, message=str(error))


def grade_in_process(
    name: str, answers: dict[str, Any], seed: int = 413, only: set[str] | None = None
) -> dict[str, float]:
    """Each auto part's credit (0..1), keyed "number/target", for a namespace of answers: its
    constants and functions, judged in rubric order as the engine does."""
    loaded, reference, harness = course(name)
    attempt = Attempt(loaded, reference, None, None, seed=seed, budget=TimeBudget(600, 1))
    attempt._answers = {  # the answers follow-through variants use, as the visible phase asks
        target: value for target, value in answers.items() if not callable(value)
    }
    attempt._hidden_phase = True
    credits: dict[str, float] = {}
    for q_index, question in enumerate(loaded.rubric.questions):
        for p_index, part in enumerate(question.parts):
            if not isinstance(part, AutoPart):
                continue
            key = f"{question.number}/{part.target}"
            if only is not None and part.target not in only:
                continue
            if part.target not in answers:
                credits[key] = 0.0
                continue
            result = judge_part(attempt, q_index, p_index, answers[part.target], harness)
            credits[key] = result.credit if result.status != "error" else 0.0
    return credits


def judge_part(
    attempt: Attempt, q_index: int, p_index: int, given: Any, harness: ModuleType | None
) -> PartResult:
    """One part's result for one answer (a value, or the function a student would write)."""
    part = attempt.rubric.questions[q_index].parts[p_index]
    assert isinstance(part, AutoPart)
    if part.function is None:
        return attempt.judge_constant(part, reply_of(copy.deepcopy, given))
    return attempt.judge_function(_run(attempt, q_index, p_index, part, given, harness))


def _run(
    attempt: Attempt,
    q_index: int,
    p_index: int,
    part: AutoPart,
    function: Any,
    harness: ModuleType | None,
) -> PartRun:
    spec = part.function
    assert spec is not None
    run = PartRun(q_index, p_index, part)
    rng = part_rng(attempt.seed, q_index, p_index)
    run.cases = build_cases(spec, attempt.reference, rng, blind=attempt.blind_to(part))
    for case in run.cases:
        args = [copy.deepcopy(case.kwargs[name]) for name in spec.args]
        if spec.harness:
            run.replies.append(reply_of(getattr(harness, spec.harness), function, *args))
        else:
            run.replies.append(reply_of(function, *args))
    return run


def load_answers(path: Path) -> dict[str, Any]:
    """A submission file's top-level names, run in-process (trusted corpus files only)."""
    namespace: dict[str, Any] = {"__name__": "corpus_submission"}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return {k: v for k, v in namespace.items() if not k.startswith("_") and k != "np"}


def promised_credit(name: str, part: AutoPart, mistake: Mistake, value: Any) -> float:
    """The rubric's credit for the mistake; item by item for a table or a list of layers (a
    layer the mistake leaves right keeps its share, unless it is right only where the truth is
    zero, or the whole answer is the truth transposed or flipped: then it is one mistake)."""
    scorer = kind_of(part.check).items(part.check)
    if part.function is not None or scorer is None:
        return mistake.credit
    truth = expected_constant(part, course(name)[1])
    if any(
        compare(part.check, value, other, reveal=False).passed
        for _, other in transformations(truth)
    ):
        return mistake.credit
    mine, theirs = scorer.split(value), scorer.split(truth)
    if mine is None or theirs is None or len(mine) != len(theirs):
        return mistake.credit
    right = [scorer.score(s, t) >= 1.0 for s, t in zip(mine, theirs, strict=True)]
    if all(
        not np.any(np.asarray(t, dtype=float)) for t, ok in zip(theirs, right, strict=True) if ok
    ):
        return mistake.credit
    return sum(1.0 if ok else mistake.credit for ok in right) / len(right)
