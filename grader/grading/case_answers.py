"""The reference's and the variants' answers on one submission's cases, each computed once.

Drawing a random case computes its canonical answer and every named variant's answer (to keep
only draws that tell right from wrong answers, see Attempt.blind_to), and judging needs the
same answers again, a variant's several times (conventions, the verdict, the evidence). HW2's
random cases cost about a third of the trusted side's time that way.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

MAX_ANSWERS = 4096
"""Answers remembered per submission: every draw of HW2 (its redraws included) needs under a
thousand; past the bound answers are computed again rather than kept."""


class CaseAnswers:
    """Answers keyed by what computed them and by the identity of the case's arguments.

    A case keeps its argument dict for life and this memo holds a reference to it, so no other
    dict can take its id while the memo lives: two cases with equal arguments are two entries,
    never a wrong answer. One memo belongs to one submission's Attempt and goes with it, so a
    follow-through variant computed from one student's answers never serves another.
    """

    def __init__(self, limit: int = MAX_ANSWERS) -> None:
        self.limit = limit
        self._answers: dict[tuple[int, Hashable], tuple[dict[str, Any], Any]] = {}

    def get(self, arguments: dict[str, Any], what: Hashable, compute: Callable[[], Any]) -> Any:
        """`compute()`'s answer on `arguments`, computed once; `what` names the computation.
        An exception is not remembered: it is raised again on the next call."""
        key = (id(arguments), what)
        found = self._answers.get(key)
        if found is not None and found[0] is arguments:
            return found[1]
        answer = compute()
        if len(self._answers) < self.limit:
            self._answers[key] = (arguments, answer)
        return answer
