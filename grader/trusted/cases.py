"""The inputs a student's function is called with: listed in the rubric or drawn at random.

Random cases come from the reference module's generators, fed with a seed derived from the
rubric's seed and the submission's content hash, so every grade can be replayed exactly and two
students do not see the same random inputs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.rubric.model import FunctionTarget
from grader.trusted.reference import ReferenceModule

PUBLIC, HIDDEN, RANDOM = "public", "hidden", "random"
MAX_REDRAWS = 25
"""Further draws a random case gets to tell the right answer from every known wrong one."""


@dataclass(frozen=True)
class Case:
    """One call's keyword arguments, where it came from, and whether it may be shown."""

    kind: str
    index: int
    kwargs: dict[str, Any]

    @property
    def reveal(self) -> bool:
        """Only public cases may show their inputs and expected outputs in feedback."""
        return self.kind == PUBLIC

    @property
    def label(self) -> str:
        return f"public case {self.index + 1}" if self.reveal else f"a {self.kind} case"


def derive_seed(rubric_seed: int, submission_id: str) -> int:
    """A 63-bit seed that depends on both the rubric and the submission."""
    digest = hashlib.sha256(f"{rubric_seed}:{submission_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def part_rng(seed: int, question_index: int, part_index: int) -> np.random.Generator:
    return np.random.default_rng([seed, question_index, part_index])


def typed_arguments(
    kwargs: dict[str, Any], array_args: Collection[str], tensor_args: Collection[str]
) -> dict[str, Any]:
    """A case's arguments as the student's function receives them: those named in
    `array_args` as float64 numpy arrays, those in `tensor_args` as float32 torch tensors
    (YAML can only write them as nested lists, and a generator may return lists too)."""
    typed = dict(kwargs)
    for name in array_args:
        typed[name] = np.asarray(typed[name], dtype=np.float64)
    if tensor_args:
        import torch

        for name in tensor_args:
            typed[name] = torch.as_tensor(np.asarray(typed[name], dtype=np.float32))
    return typed


def build_cases(
    spec: FunctionTarget,
    reference: ReferenceModule,
    rng: np.random.Generator,
    *,
    public_only: bool = False,
    blind: Callable[[dict[str, Any]], int] | None = None,
) -> list[Case]:
    """Public cases first (cheap feedback), then hidden, then random ones.

    `blind(kwargs)` counts the known wrong answers a case cannot tell from the canonical one
    (0: it tells them all apart). A random case that is blind to some is drawn again, up to
    MAX_REDRAWS times, and the draw blind to the fewest is kept, so a generator need not know
    every mistake to produce cases that discriminate. The draws come from the same seeded
    generator, so a grade still replays exactly. The kept draw's case holds the dict `blind`
    was given, so answers `blind` computed can be found again by its identity.
    """

    def typed(kwargs: dict[str, Any]) -> dict[str, Any]:
        return typed_arguments(kwargs, spec.array_args, spec.tensor_args)

    cases = [Case(PUBLIC, i, typed(kw)) for i, kw in enumerate(spec.public)]
    if public_only:
        return cases
    cases += [Case(HIDDEN, i, typed(kw)) for i, kw in enumerate(spec.hidden)]

    def _as_given(kwargs: dict[str, Any]) -> dict[str, Any]:
        """A drawn case as the student's function would receive it, for `blind`."""
        if not set(spec.args) <= set(kwargs):
            return kwargs
        return typed({name: kwargs[name] for name in spec.args})

    if spec.random is not None:
        generator = reference.function(spec.random.generator, field="function.random.generator")
        for i in range(spec.random.count):
            kwargs = generator(rng)
            given = None
            if blind is not None:
                given = _as_given(kwargs)
                misses = blind(given)
                for _ in range(MAX_REDRAWS if misses else 0):
                    drawn = generator(rng)
                    drawn_given = _as_given(drawn)
                    drawn_misses = blind(drawn_given)
                    if drawn_misses < misses:
                        kwargs, given, misses = drawn, drawn_given, drawn_misses
                    if not misses:
                        break
            missing = set(spec.args) - set(kwargs)
            if missing:
                raise ValueError(
                    f"generator {spec.random.generator} returned a case without {sorted(missing)}"
                )
            # Converted exactly as a YAML case is: a generator may return lists too. A draw
            # `blind` judged keeps the very arguments it was judged on (the same conversion),
            # so the answers computed for it there serve its judging (grading.case_answers).
            if given is None:
                given = typed({name: kwargs[name] for name in spec.args})
            cases.append(Case(RANDOM, i, given))
    return cases


def positional(spec: FunctionTarget, case: Case) -> list[Any]:
    return [case.kwargs[name] for name in spec.args]
