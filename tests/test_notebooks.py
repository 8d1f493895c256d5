"""Notebook hygiene: every chapter is stored executed, in order, without errors or stderr."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
MACHINE_PATH = re.compile(r"(/work/|/tmp/|/root/|/home/|/Users/|[A-Za-z]:\\\\Users)")


def test_there_are_chapters():
    assert NOTEBOOKS, "no chapter notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_executed_and_clean(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
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
