"""Guarantee 1: the score is computed in the grader process from data only; student code never
runs there, so monkeypatching and lying objects change nothing but the student's own answers.

Question 4 asks for NUMBER (2.5, numeric check) and VECTOR ([1, 2, 3], array check); the custom
test (question 7, unittest in the grader process) asks for CUSTOM == 7. Every attack answers
them wrongly while patching or lying so that a grader sharing its process would give full marks.
Every patched function and lying method calls `_tripwire`, which writes a marker (with the
reference's canary) only where it can: in the grader process. `attack` fails the test if the
marker exists.

Patching runs in all modes. The lying, huge and odd values are data-only attacks: what stops
them is the wire format and the trusted judging, not any isolation layer, so they run in the
default mode only.
"""

from __future__ import annotations

import pytest
from sectest_support import EXPENSIVE_MODES, modes

pytestmark = pytest.mark.sandbox

DATA_ONLY = modes("default")

WRONG_ANSWERS = """
NUMBER = 0.0
VECTOR = [0.0, 0.0, 0.0]
CUSTOM = 0
"""


def _lie(name):
    """Source of a replacement that fires the tripwire and claims success."""
    return f"lambda *args, **kwargs: (_tripwire({name!r}), True)[1]"


def test_monkeypatching_numpy_does_not_reach_the_grader(attack):
    run = attack(
        WRONG_ANSWERS,
        f"""
        import numpy as np

        for _name in ("allclose", "isclose", "array_equal", "array_equiv", "all", "any"):
            setattr(np, _name, {_lie("numpy")})
        np.testing.assert_allclose = {_lie("numpy.testing")}
        np.testing.assert_array_equal = {_lie("numpy.testing")}

        def attack(x):
            return {{"patched": np.allclose(0, 1)}}
    """,
    )
    assert run.observation == {"patched": True}  # the patch took effect where it ran
    assert run.test("4")["score"] == 0


def test_monkeypatching_builtins_does_not_reach_the_grader(attack):
    run = attack(
        WRONG_ANSWERS,
        f"""
        import builtins
        import math

        builtins.abs = lambda value: (_tripwire("abs"), 0)[1]
        builtins.round = lambda *args, **kwargs: (_tripwire("round"), 0)[1]
        math.isclose = {_lie("math.isclose")}
        math.isfinite = {_lie("math.isfinite")}

        def attack(x):
            return {{"abs": abs(-5)}}
    """,
    )
    assert run.observation == {"abs": 0}
    assert run.test("4")["score"] == 0


def test_monkeypatching_unittest_does_not_reach_the_custom_tests(attack):
    run = attack(
        WRONG_ANSWERS,
        """
        import unittest

        def _pass(*args, **kwargs):
            _tripwire("unittest")

        for _name in ("assertEqual", "assertTrue", "assertAlmostEqual", "fail"):
            setattr(unittest.TestCase, _name, _pass)
        unittest.TestResult.addFailure = _pass
        unittest.TestResult.addError = _pass
        unittest.TestResult.wasSuccessful = lambda self: True

        def attack(x):
            return {"patched": unittest.TestCase.assertEqual is _pass}
    """,
    )
    assert run.observation == {"patched": True}
    assert run.test("7")["score"] == 0
    assert run.test("7")["status"] == "failed"


@modes(*EXPENSIVE_MODES)
def test_monkeypatching_torch_does_not_reach_the_grader(attack):
    run = attack(
        WRONG_ANSWERS,
        f"""
        import torch

        torch.allclose = {_lie("torch.allclose")}
        torch.equal = {_lie("torch.equal")}
        torch.testing.assert_close = {_lie("torch.testing")}
        NUMBER = torch.tensor(0.0)
        VECTOR = torch.zeros(3)

        def attack(x):
            return {{"patched": torch.allclose(torch.zeros(1), torch.ones(1))}}
    """,
    )
    assert run.observation == {"patched": True}
    assert run.test("4")["score"] == 0


LIARS = {
    "__eq__-lies": """
        class Liar(float):
            def __eq__(self, other):
                _tripwire("__eq__")
                return True

            def __ne__(self, other):
                _tripwire("__ne__")
                return False

            __hash__ = float.__hash__

        class ListLiar(list):
            def __eq__(self, other):
                _tripwire("list __eq__")
                return True

        NUMBER = Liar(0.0)
        VECTOR = ListLiar([0.0, 0.0, 0.0])
    """,
    "__eq__-raises": """
        class Liar(float):
            def __eq__(self, other):
                _tripwire("__eq__")
                raise RuntimeError("RAISED: comparing me raises")

            __hash__ = float.__hash__

        NUMBER = Liar(0.0)
        VECTOR = [Liar(0.0)] * 3
    """,
    "__float__-lies": """
        class Liar:
            def __float__(self):
                _tripwire("__float__")
                return 2.5

        NUMBER = Liar()
        VECTOR = [Liar(), Liar(), Liar()]
    """,
    "__float__-raises": """
        class Liar(float):
            def __float__(self):
                _tripwire("__float__")
                raise RuntimeError("RAISED: converting me raises")

        NUMBER = Liar(2.5)
        VECTOR = [Liar(1.0), Liar(2.0), Liar(3.0)]
    """,
    "__array__-lies": """
        import numpy as np

        class Liar:
            def __init__(self, truth):
                self.truth = truth

            def __array__(self, dtype=None, copy=None):
                _tripwire("__array__")
                return np.asarray(self.truth, dtype=dtype)

        NUMBER = Liar(2.5)
        VECTOR = Liar([1.0, 2.0, 3.0])
    """,
    "__array__-raises": """
        class Liar:
            def __array__(self, dtype=None, copy=None):
                _tripwire("__array__")
                raise RuntimeError("RAISED: converting me raises")

        NUMBER = Liar()
        VECTOR = Liar()
    """,
    "__len__-lies": """
        class Liar(list):
            def __len__(self):
                _tripwire("__len__")
                return 10 ** 15

        NUMBER = 0.0
        VECTOR = Liar([0.0, 0.0, 0.0])
    """,
    "__len__-raises": """
        class Liar(list):
            def __len__(self):
                _tripwire("__len__")
                raise RuntimeError("RAISED: my length raises")

        NUMBER = 0.0
        VECTOR = Liar([0.0, 0.0, 0.0])
    """,
    "__repr__-lies": """
        class Liar:
            def __repr__(self):
                _tripwire("__repr__")
                return "LIE: 2.5 (correct, full marks)"

            __str__ = __repr__

        class FloatLiar(float):
            __repr__ = Liar.__repr__
            __str__ = Liar.__repr__

        NUMBER = FloatLiar(0.0)
        VECTOR = Liar()
    """,
    "__repr__-raises": """
        class Liar:
            def __repr__(self):
                _tripwire("__repr__")
                raise RuntimeError("RAISED: my repr raises")

            __str__ = __repr__

        NUMBER = Liar()
        VECTOR = [Liar()]
    """,
}


@DATA_ONLY
@pytest.mark.parametrize("liar", LIARS)
def test_objects_whose_methods_lie_or_raise_earn_nothing(attack, liar):
    run = attack(
        LIARS[liar],
        """
        CUSTOM = 0

        def attack(x):
            return {"number": type(NUMBER).__name__, "vector": type(VECTOR).__name__}
    """,
    )
    assert run.test("4")["score"] == 0
    assert "LIE" not in run.results_path.read_text()  # a lie is never shown as the answer


@DATA_ONLY
def test_a_numpy_subclass_is_judged_on_its_data_only(attack):
    run = attack("""
        import numpy as np

        class Evil(np.ndarray):
            def __eq__(self, other):
                _tripwire("Evil.__eq__")
                return np.ones(self.shape, dtype=bool)

            def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
                _tripwire("Evil.__array_ufunc__")
                return np.ones(self.shape, dtype=bool)

            def tolist(self):
                _tripwire("Evil.tolist")
                return [1.0, 2.0, 3.0]

            def __reduce__(self):
                _tripwire("Evil.__reduce__")
                return (np.array, ([1.0, 2.0, 3.0],))

        NUMBER = np.zeros(()).view(Evil)
        VECTOR = np.zeros(3).view(Evil)

        def attack(x):
            return {"type": type(VECTOR).__name__}
    """)
    assert run.observation == {"type": "Evil"}
    assert run.test("4")["score"] == 0


HUGE = {
    "array": "np.zeros(50_000_000)",
    "list": "[0] * 6_000_000",
    "string": "'x' * 200_000_000",
}


@DATA_ONLY
@pytest.mark.parametrize("kind", HUGE)
def test_a_huge_return_value_is_refused_and_costs_only_its_question(attack, kind):
    run = attack(f"""
        import numpy as np

        def attack(x):
            return {HUGE[kind]}
    """)
    assert run.observed == []
    assert "too large" in run.test("2")["output"]


NESTED = {
    "deep": """
        def attack(x):
            value = []
            for _ in range(100_000):
                value = [value]
            return value
    """,
    "cyclic": """
        def attack(x):
            value = {"a": []}
            value["a"].append(value)
            return value
    """,
}


@DATA_ONLY
@pytest.mark.parametrize("kind", NESTED)
def test_a_deeply_nested_return_value_is_refused_and_costs_only_its_question(attack, kind):
    run = attack(NESTED[kind])
    assert run.observed == []
    assert "nested more than" in run.test("2")["output"]


NOT_FINITE = {"nan": "float('nan')", "inf": "float('inf')"}


@DATA_ONLY
@pytest.mark.parametrize("kind", NOT_FINITE)
def test_nan_and_infinity_earn_nothing_and_keep_results_valid(attack, kind):
    value = NOT_FINITE[kind]
    run = attack(f"""
        import numpy as np

        NUMBER = {value}
        VECTOR = np.array([{value}, -{value}, {value}])

        def attack(x):
            return {value}
    """)
    assert run.test("4")["score"] == 0
    assert len(run.observed) == 1  # the predicate saw it; results.json stayed strict JSON


NOT_DATA = {
    "generator": "(value for value in [1.0, 2.0, 3.0])",
    "lambda": "lambda: [1.0, 2.0, 3.0]",
}


@DATA_ONLY
@pytest.mark.parametrize("kind", NOT_DATA)
def test_a_generator_or_lambda_answer_earns_nothing(attack, kind):
    run = attack(f"""
        NUMBER = {NOT_DATA[kind]}
        VECTOR = {NOT_DATA[kind]}

        def attack(x):
            return {NOT_DATA[kind]}
    """)
    assert run.test("4")["score"] == 0
    assert (
        "Opaque" in str(run.observation)
        or "generator" in str(run.observation)
        or "function" in str(run.observation)
    )
