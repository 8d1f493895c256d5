"""Notebook hygiene: every chapter is stored executed, in order, without errors or stderr."""

import json
import re
from pathlib import Path

import pytest

from normaxes.book.firstcell import first_cell, is_install_cell

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
MACHINE_PATH = re.compile(r"(/work/|/tmp/|/root/|/home/|/Users/|[A-Za-z]:\\\\Users)")


def test_there_are_chapters():
    assert NOTEBOOKS, "no chapter notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_executed_and_clean(path):
    nb = json.loads(path.read_text())
    # the install cell (normaxes.book.firstcell) is never run by nbval or `make execute`
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()
            and not is_install_cell(c)]
    assert code, "no code cells"
    for n, cell in enumerate(code, start=1):
        where = f"{path.name}, code cell {n}"
        assert cell.get("execution_count") == n, (
            f"{where}: execution count {cell.get('execution_count')}, not {n}: run `make execute`")
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{where}: stores an error"
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), (
                f"{where}: prints to stderr: {''.join(out.get('text', ''))[:200]}")
            assert not MACHINE_PATH.search(json.dumps(out)), f"{where}: output holds a machine path"
    assert any(c.get("outputs") for c in code), f"{path.name}: no outputs stored"
    assert nb.get("metadata", {}).get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_install_cell_is_first_and_current(path):
    """A chapter with the install cell has it first, as normaxes.book.firstcell writes it."""
    cells = json.loads(path.read_text())["cells"]
    marked = [k for k, c in enumerate(cells) if is_install_cell(c)]
    if not marked:
        pytest.skip("no install cell yet (python -m normaxes.book.firstcell adds it)")
    assert marked == [0], f"install cell at {marked}, must be the first cell and only once"
    assert cells[0] == first_cell(), (
        "install cell out of date: run python -m normaxes.book.firstcell")
