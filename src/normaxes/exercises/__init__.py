"""Check an answer to one of the book's exercises without reading its solution.

Every chapter ends with exercises. Those whose answer is a value, a set of axes or a function
can be checked here::

    from normaxes.exercises import check

    check("2.3", "B T")         # Exercise 2.3: which axes does Batch Norm pool on [B, T, F]?
    check("batch_norm.3", "B T")   # the same exercise, named by its chapter's page

:func:`check` prints whether the answer is right and, when it is wrong, why (the axis that
should not be pooled, the entry that is off, the input on which a function differs), and
returns ``True`` or ``False``. An exercise is named ``"<chapter>.<k>"``: the chapter's number in
the book, or its page name (``batch_norm``), and the exercise's number in that chapter.

Each chapter's exercises live in a module of this package named like the chapter's page
(``normaxes/exercises/batch_norm.py``); each registers a checker with :func:`exercise`, the
reference answer the chapter's solution uses, and wrong answers that the unit tests feed it
(each must be refused).
"""

from __future__ import annotations

import importlib
import math
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

__all__ = ["Exercise", "Verdict", "exercise", "check", "exercises", "CHAPTERS", "same_value",
           "same_axes", "same_function", "same_choice"]

CHAPTERS = ("axes", "batch_norm", "layer_norm", "group_norm", "gn_vs_ln", "frameworks",
            "gradients", "coupling", "training", "architectures", "numerics", "padding",
            "streaming")
"""The numbered chapters in the book's order: chapter ``k`` is ``CHAPTERS[k - 1]`` (a unit test
holds this to ``_toc.yml``)."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of :func:`check`: right or wrong, and why. True when right."""

    key: str
    right: bool
    why: str

    def __bool__(self) -> bool:
        return self.right

    def __repr__(self) -> str:
        return f"Exercise {self.key}: {'right' if self.right else 'wrong'}. {self.why}".rstrip()


@dataclass(frozen=True)
class Exercise:
    """One exercise: its chapter's page, its number there, and the checker of an answer.

    *judge* takes the reader's answer and returns ``None`` when it is right, else a sentence
    saying why it is wrong. *solution* is the reference answer (it must be judged right) and
    *wrong* a few plausible wrong answers (each must be judged wrong): the unit tests try both.
    """

    chapter: str
    number: int
    judge: Callable[[Any], str | None] = field(repr=False)
    solution: Any = field(repr=False)
    wrong: tuple = field(repr=False, default=())
    right_because: str = ""

    @property
    def key(self) -> str:
        """``"<chapter number>.<number>"``, as the chapter prints it."""
        return f"{CHAPTERS.index(self.chapter) + 1}.{self.number}"


REGISTRY: dict[tuple[str, int], Exercise] = {}


def exercise(chapter: str, number: int, *, solution, wrong=(), right_because: str = ""):
    """Register the decorated function as the checker of exercise *number* of *chapter*.

    The function takes an answer and returns ``None`` if it is right, else why it is wrong.
    *right_because* is printed with a right answer (what it shows). Use the builders
    :func:`same_value`, :func:`same_axes`, :func:`same_function` and :func:`same_choice` for
    the usual kinds.
    """
    if chapter not in CHAPTERS:
        raise ValueError(f"chapter must be one of {CHAPTERS}, got {chapter!r}")
    if not (isinstance(number, int) and number >= 1):
        raise ValueError(f"number must be a positive integer, got {number!r}")

    def register(judge):
        key = (chapter, number)
        old = REGISTRY.get(key)
        if old is not None and _origin(old.judge) != _origin(judge):
            raise ValueError(f"exercise {chapter}.{number} is registered twice")
        REGISTRY[key] = Exercise(chapter, number, judge, solution, tuple(wrong), right_because)
        return judge

    return register


def _origin(fn) -> tuple[str, int]:
    code = getattr(fn, "__code__", None)
    return getattr(fn, "__module__", ""), code.co_firstlineno if code else id(fn)


def _load() -> None:
    pkg = importlib.import_module(__name__)
    for mod in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{__name__}.{mod.name}")


def exercises(chapter: str | None = None) -> list[Exercise]:
    """Every registered exercise (of one *chapter*'s page, if given), in the book's order."""
    _load()
    out = [e for e in REGISTRY.values() if chapter is None or e.chapter == chapter]
    return sorted(out, key=lambda e: (CHAPTERS.index(e.chapter), e.number))


def _find(key: str) -> Exercise:
    if not isinstance(key, str) or key.count(".") != 1:
        raise ValueError(f"name an exercise as 'chapter.number', e.g. '2.3' or 'batch_norm.3'; "
                         f"got {key!r}")
    where, number = key.split(".")
    if where.isdigit():
        k = int(where)
        if not 1 <= k <= len(CHAPTERS):
            raise ValueError(f"the book has chapters 1 to {len(CHAPTERS)}, not {k} (in {key!r})")
        where = CHAPTERS[k - 1]
    elif where not in CHAPTERS:
        raise ValueError(f"no chapter page named {where!r} (in {key!r}); the pages are "
                         f"{', '.join(CHAPTERS)}")
    if not number.isdigit():
        raise ValueError(f"the exercise number must be a whole number, got {number!r} in {key!r}")
    _load()
    found = REGISTRY.get((where, int(number)))
    if found is None:
        have = [e.number for e in exercises(where)]
        raise KeyError(f"exercise {key!r}: chapter {where} has no checkable exercise "
                       f"{number} (it has {have}); some exercises are checked by their solution "
                       "only")
    return found


def check(key: str, answer, *, quiet: bool = False) -> Verdict:
    """Judge *answer* to exercise *key* (``"2.3"`` or ``"batch_norm.3"``): print and return the
    verdict, which is true when the answer is right. With *quiet*, print nothing."""
    ex = _find(key)
    try:
        why = ex.judge(answer)
    except Exception as err:  # an answer of the wrong kind is a wrong answer, said plainly
        why = f"the answer could not be checked: {type(err).__name__}: {err}"
    verdict = Verdict(ex.key, why is None, ex.right_because if why is None else why)
    if not quiet:
        print(repr(verdict))
    return verdict


# --- the usual kinds of answer -------------------------------------------------------------

def same_value(expected, *, tol: float = 1e-6, what: str = "the value",
               known_wrong=(), hint: str = "") -> Callable:
    """A checker for a number or an array: right within *tol*; wrong says the shape or the
    largest difference and where. *known_wrong* holds ``(value, reason)`` pairs, the mistakes
    an exercise expects: an answer that matches one (within *tol*, or a relative 1e-5) is told
    its *reason* instead. *hint* ends every other wrong verdict."""
    exp = np.asarray(expected, dtype=np.float64)
    mistakes = [(np.asarray(v, dtype=np.float64), reason) for v, reason in known_wrong]

    def judge(answer):
        from ..interop import to_numpy

        got = np.asarray(to_numpy(answer), dtype=np.float64)
        if got.shape != exp.shape:
            return f"{what} should have shape {exp.shape}, not {got.shape}"
        if not np.all(np.isfinite(got)):
            return f"{what} holds NaN or infinity"
        err = np.abs(got - exp)
        if exp.size == 0 or float(err.max()) <= tol:
            return None
        for value, reason in mistakes:
            if value.shape == got.shape and np.allclose(got, value, rtol=1e-5, atol=tol):
                return reason
        where = np.unravel_index(int(err.argmax()), exp.shape)
        at = f" at index {tuple(int(i) for i in where)}" if exp.ndim else ""
        return f"{what} is off by {float(err.max()):.3g}{at} (allowed: {tol:g})" + (
            f"; {hint}" if hint else "")

    return judge


def same_axes(expected: str, *, layout: str, reasons: dict[str, str] | None = None) -> Callable:
    """A checker for a set of axes of *layout* (``"B T"``, ``("B", "T")`` or ``{"B", "T"}``),
    in any order. Wrong names the axes too many and too few, with *reasons[axis]* where given."""
    from ..core import parse_layout

    names = [n for d in parse_layout(layout) for n in d]
    want = set(expected.split())
    if not want <= set(names):
        raise ValueError(f"expected axes {expected!r} are not all in the layout {layout!r}")
    reasons = reasons or {}

    def judge(answer):
        got = set(answer.split()) if isinstance(answer, str) else set(answer)
        unknown = sorted(got - set(names))
        if unknown:
            return (f"{', '.join(unknown)} is not an axis of {layout!r} "
                    f"(its axes: {' '.join(names)})")
        extra = [a for a in names if a in got - want]
        missing = [a for a in names if a in want - got]
        if not extra and not missing:
            return None
        parts = [f"{a} should not be pooled" + (f": {reasons[a]}" if a in reasons else "")
                 for a in extra]
        parts += [f"{a} should be pooled too" + (f": {reasons[a]}" if a in reasons else "")
                  for a in missing]
        return "; ".join(parts)

    return judge


def same_function(reference: Callable, inputs: Callable[[], list], *, tol: float = 1e-6,
                  what: str = "your function") -> Callable:
    """A checker for a function: it must agree with *reference* within *tol* on every input that
    *inputs()* makes (a list of argument tuples); wrong says on which input and by how much."""

    def judge(answer):
        if not callable(answer):
            return f"the answer should be a function, got {type(answer).__name__}"
        from ..interop import to_numpy

        for k, args in enumerate(inputs()):
            want = np.asarray(to_numpy(reference(*args)), dtype=np.float64)
            got = np.asarray(to_numpy(answer(*args)), dtype=np.float64)
            shapes = ", ".join(str(tuple(getattr(a, "shape", ()))) for a in args)
            if got.shape != want.shape:
                return (f"on input {k} (shapes {shapes}) {what} returns shape {got.shape}, "
                        f"not {want.shape}")
            err = float(np.max(np.abs(got - want))) if want.size else 0.0
            if not math.isfinite(err) or err > tol:
                return (f"on input {k} (shapes {shapes}) {what} is off by {err:.3g} "
                        f"(allowed: {tol:g})")
        return None

    return judge


def same_choice(expected, *, options=None, reasons: dict | None = None) -> Callable:
    """A checker for a choice among *options* (a string, a number or a tuple compared as is);
    wrong says why that choice is wrong, with *reasons[choice]* where given."""
    reasons = reasons or {}

    def judge(answer):
        if options is not None and answer not in options:
            return f"choose one of {list(options)}, not {answer!r}"
        if answer == expected:
            return None
        return reasons.get(answer, f"{answer!r} is not it")

    return judge
