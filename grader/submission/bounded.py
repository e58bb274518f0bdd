"""The one guard around every converter that reads a student's file in the trusted process.

Converters (notebooks, answers files, and any format added later) parse bytes a student chose,
in the grader's own process, with no sandbox and no per-request deadline. Each has a size cap
on its input, checked before parsing; this guard adds what holds for all of them, so that a new
format inherits it: integers are limited in digits (printing a long one costs time quadratic in
its length), the conversion has a wall-clock bound where the platform allows one, and whatever
goes wrong becomes "this file could not be read", charged to that submission, never a crash of
the grader.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

CONVERSION_SECONDS = 10.0
MAX_INT_DIGITS = 4300
"""Python's own default: enough for any answer, and quick to print."""


class ConversionError(ValueError):
    """A student's file could not be converted; the message names the file."""


class _OutOfTime(Exception):
    pass


@contextlib.contextmanager
def bounded_conversion(
    name: str, worded: tuple[type[Exception], ...], seconds: float = CONVERSION_SECONDS
) -> Iterator[None]:
    """Run a conversion of the file `name`: the converter's own errors (`worded`, already
    written for the student) pass through; anything else, running out of time included,
    becomes a ConversionError."""
    try:
        with _int_digits(MAX_INT_DIGITS), _deadline(seconds):
            yield
    except _OutOfTime:
        raise ConversionError(
            f"{name} could not be read: reading it took longer than {seconds:g} s"
        ) from None
    except ConversionError:
        raise
    except worded:
        raise
    except (RecursionError, MemoryError, OverflowError) as error:
        raise ConversionError(
            f"{name} could not be read: it is nested too deeply or holds values too large "
            f"({type(error).__name__})"
        ) from None
    except Exception as error:
        raise ConversionError(f"{name} could not be read ({type(error).__name__})") from None


@contextlib.contextmanager
def _int_digits(limit: int) -> Iterator[None]:
    get = getattr(sys, "get_int_max_str_digits", None)
    if get is None:  # Python before 3.10.7 has no limit to set
        yield
        return
    before = get()
    sys.set_int_max_str_digits(limit)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(before)


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds` of wall-clock time, with SIGALRM; only the main
    thread of a POSIX process can receive it, elsewhere the size caps alone bound the cost."""
    main = threading.current_thread() is threading.main_thread()
    if not (main and hasattr(signal, "setitimer")):
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
