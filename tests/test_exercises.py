"""normaxes.exercises: every checkable exercise accepts its solution and refuses wrong answers,
the names resolve, and each chapter's Exercises section is what the book promises (at least
three exercises, each with an executed solution cell hidden until opened)."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from normaxes import exercises as ex
from normaxes.book.ledger import toc_files

ROOT = Path(__file__).resolve().parents[1]
ALL = ex.exercises()
IDS = [e.key for e in ALL]


def test_chapters_are_the_numbered_chapters_of_the_toc():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    numbered = [f for part in toc["parts"] if part.get("numbered") for f in toc_files(part)]
    assert [Path(f).stem for f in numbered] == list(ex.CHAPTERS)


@pytest.mark.parametrize("e", ALL, ids=IDS)
def test_the_solution_is_right_and_every_wrong_answer_is_refused(e):
    assert e.wrong, f"exercise {e.key} lists no wrong answers: its checker is never tried on one"
    right = ex.check(e.key, e.solution, quiet=True)
    assert right, f"exercise {e.key}: the solution is judged wrong: {right.why}"
    for answer in e.wrong:
        v = ex.check(e.key, answer, quiet=True)
        assert not v, f"exercise {e.key}: the wrong answer {answer!r} is judged right"
        assert v.why, f"exercise {e.key}: a wrong answer gets no reason"


def test_check_names_an_exercise_by_number_or_page(capsys):
    @ex.exercise("batch_norm", 99, solution="B T", wrong=["T"])
    def _(answer):
        return ex.same_axes("B T", layout="B T F", reasons={"F": "features keep their own"})(
            answer)

    try:
        assert ex.check("2.99", "T B") and ex.check("batch_norm.99", ("B", "T"))
        out = capsys.readouterr().out
        assert out.startswith("Exercise 2.99: right.")
        v = ex.check("2.99", "B T F")
        assert not v and "F should not be pooled: features keep their own" in v.why
        assert "T should be pooled too" not in v.why
        assert "B should be pooled too" in ex.check("2.99", "T", quiet=True).why
        assert "X is not an axis" in ex.check("2.99", "B X", quiet=True).why
    finally:
        del ex.REGISTRY[("batch_norm", 99)]


@pytest.mark.parametrize("key, message", [
    ("2", "name an exercise as 'chapter.number'"),
    ("14.1", "chapters 1 to 13, not 14"),
    ("batchnorm.1", "no chapter page named 'batchnorm'"),
    ("2.x", "must be a whole number"),
])
def test_a_bad_name_is_refused_clearly(key, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ex.check(key, None)


def test_an_unknown_exercise_says_which_there_are():
    with pytest.raises(KeyError, match="has no checkable exercise 99"):
        ex.check("axes.99", None)


def test_the_builders_refuse_wrong_values_and_functions():
    judge = ex.same_value([1.0, 2.0], tol=1e-9)
    assert judge([1.0, 2.0]) is None
    assert "off by 0.5 at index (1,)" in judge([1.0, 2.5])
    assert "shape (2,), not (3,)" in judge([1.0, 2.0, 3.0])
    f = ex.same_function(lambda x: x - x.mean(), lambda: [(np.arange(4.0),), (np.ones(3),)])
    assert f(lambda x: x - x.mean()) is None
    assert "on input 0" in f(lambda x: x - x.mean() + 1e-3)
    assert "should be a function" in f(3)
    choice = ex.same_choice("per frame", options=["per frame", "per sequence"],
                            reasons={"per sequence": "that is Group Norm with one group"})
    assert choice("per frame") is None and choice("per sequence").startswith("that is")
    assert "choose one of" in choice("per batch")


def test_an_expected_mistake_is_told_its_reason():
    judge = ex.same_value([1.0, 2.0], what="x", known_wrong=[([2.0, 4.0], "you doubled it")],
                          hint="look again")
    assert judge([2.0, 4.0]) == "you doubled it"
    assert judge([1.0, 5.0]).endswith("; look again") and "off by 3" in judge([1.0, 5.0])
    assert judge([1.0, 2.0]) is None


# the chapters' expected mistakes: (exercise, module, its dict of (wrong answer, reason))
MISTAKES = [("1.1", "axes", "WRONG_11"), ("2.1", "batch_norm", "WRONG_21"),
            ("5.2", "gn_vs_ln", "WRONG_52"), ("7.1", "gradients", "WRONG_71"),
            ("8.1", "coupling", "WRONG_81")]


@pytest.mark.parametrize("key, module, name", MISTAKES)
def test_each_expected_mistake_of_a_chapter_gets_its_own_reason(key, module, name):
    import importlib

    mistakes = getattr(importlib.import_module(f"normaxes.exercises.{module}"), name)
    for value, reason in mistakes.values():
        verdict = ex.check(key, value, quiet=True)
        assert not verdict and verdict.why == reason, (key, verdict.why)


def test_an_answer_that_raises_is_wrong_not_an_error():
    @ex.exercise("axes", 99, solution=1.0, wrong=[2.0])
    def _(answer):
        return ex.same_value(1.0)(answer)

    try:
        v = ex.check("1.99", "not a number", quiet=True)
        assert not v and v.why.startswith("the answer could not be checked: ValueError")
    finally:
        del ex.REGISTRY[("axes", 99)]


# --- the Exercises section of every chapter ---------------------------------------------------

LABEL = re.compile(r"\*\*Exercise (\d+)\.(\d+)\*\*")


def _exercise_section(stem):
    cells = json.loads((ROOT / "chapters" / f"{stem}.ipynb").read_text())["cells"]
    start = next((k for k, c in enumerate(cells) if c["cell_type"] == "markdown"
                  and re.search(r"^## Exercises\s*$", "".join(c["source"]), re.M)), None)
    assert start is not None, f"{stem}: no '## Exercises' section"
    section = []
    for c in cells[start + 1:]:
        if c["cell_type"] == "markdown" and re.search(r"^#{1,2} ", "".join(c["source"]), re.M):
            break
        section.append(c)
    return section


@pytest.mark.parametrize("stem", ex.CHAPTERS)
def test_every_chapter_ends_with_exercises_and_hidden_executed_solutions(stem):
    number = ex.CHAPTERS.index(stem) + 1
    section = _exercise_section(stem)
    text = "".join("".join(c["source"]) for c in section if c["cell_type"] == "markdown")
    labels = [(int(a), int(b)) for a, b in LABEL.findall(text)]
    assert 3 <= len(labels) <= 5, f"{stem}: {len(labels)} exercises, not 3 to 5"
    assert all(a == number for a, _ in labels), (
        f"{stem} is chapter {number}, but its exercises are labelled {labels}")
    assert [b for _, b in labels] == list(range(1, len(labels) + 1)), labels
    solutions = [c for c in section if c["cell_type"] == "code"]
    assert len(solutions) >= len(labels), f"{stem}: {len(solutions)} solution cells"
    for c in solutions:
        tags = c["metadata"].get("tags", [])
        assert "hide-cell" in tags, f"{stem}: a solution cell is not hidden (tag hide-cell)"
        assert c.get("execution_count"), f"{stem}: a solution cell is not executed"
        src = "".join(c["source"])
        assert re.search(r"\bassert\b|check\(|assert_close|ledger\.", src), (
            f"{stem}: a solution proves nothing (no assert, check or claim):\n{src[:200]}")
    # every checkable exercise of this chapter is an exercise of its section
    for e in ex.exercises(stem):
        assert (number, e.number) in labels, f"{e.key} is registered but not in the chapter"
