"""The package's layout keeps its promises, read off the source with ``ast``: no module imports
another module's private name, one module tells NumPy from torch, and the README's layout table
names the package's modules."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "normaxes"
MODULES = sorted(SRC.rglob("*.py"))
ARRAYS = SRC / "_arrays.py"


def _tree(path):
    return ast.parse(path.read_text(), filename=str(path))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_there_are_modules():
    assert ARRAYS in MODULES and len(MODULES) > 10


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_imports_a_private_name(path):
    bad = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom):
            bad += [f"from {'.' * node.level}{node.module or ''} import {a.name}"
                    for a in node.names if _private(a.name)]
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            # a private attribute of another module, e.g. core._is_torch (self._x is fine)
            if isinstance(node.value, ast.Name) and node.value.id not in ("self", "cls"):
                bad.append(f"{node.value.id}.{node.attr}")
    # importing the internal module `_arrays` itself is its purpose; its names are public
    bad = [b for b in bad if not re.fullmatch(r"from \.+ import _arrays", b)]
    assert not bad, f"{path.relative_to(SRC)} uses private names of other modules: {bad}"


def _tells_torch_from_numpy(tree) -> list[str]:
    """`isinstance(..., torch.Tensor)` and `torch.is_tensor(...)` calls in *tree*."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        text = ast.unparse(node.func)
        if text == "torch.is_tensor":
            found.append(ast.unparse(node))
        elif text == "isinstance" and len(node.args) == 2 and "torch.Tensor" in ast.unparse(
                node.args[1]):
            found.append(ast.unparse(node))
    return found


def test_one_module_tells_numpy_from_torch():
    where = {str(p.relative_to(SRC)): _tells_torch_from_numpy(_tree(p)) for p in MODULES}
    assert where.pop("_arrays.py"), "_arrays.py should be the place that tells them apart"
    assert not {k: v for k, v in where.items() if v}


def test_the_check_finds_what_it_looks_for():
    tree = ast.parse("isinstance(x, (np.ndarray, torch.Tensor))\ntorch.is_tensor(y)\n")
    assert len(_tells_torch_from_numpy(tree)) == 2


def _layout_table_paths() -> set[str]:
    """The paths the README's layout table names: the first cell's paths, and the files and
    folders (``ledger.py``, ``padding/``) that a row of a folder names in its second cell."""
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Layout of the repository", 1)[1].split("\n## ", 1)[0]
    named = set()
    for row in table.splitlines():
        cells = row.split("|")[1:-1]
        if len(cells) < 2:
            continue
        bases = re.findall(r"`([^`]+)`", cells[0])
        named.update(bases)
        for name in re.findall(r"`([\w.]+(?:\.py|/))`", cells[1]):
            named.update(b + name for b in bases if b.endswith("/"))
    return named


def test_readme_layout_table_names_every_module():
    named = _layout_table_paths()
    for p in named:
        assert (ROOT / p).exists(), f"the README's layout table names {p}, which does not exist"
    missing = []
    for p in MODULES:
        rel = p.relative_to(ROOT)
        if p.name == "__init__.py" and p.parent != SRC:
            continue  # a package is named by its folder
        if not ({str(rel), f"{rel.parent}/"} & named):
            missing.append(str(rel))
    assert not missing, f"the README's layout table does not name {missing}"
