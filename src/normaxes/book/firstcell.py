"""The first cell of every chapter notebook: install ``normaxes`` where it is missing.

A reader who opens a chapter on Colab or Binder, or in a Jupyter that is not the book's ``.venv``,
has no ``normaxes``. The first cell says so and installs it when the reader runs it: from the
clone the notebook sits in when there is one (``pip install -e`` of the repository root, found
from the working directory, which may be the root or ``chapters/``), else from the repository.
In the book's own environment (``make lab``, ``make test``) it finds ``normaxes`` and does nothing.

The cell is tagged so that the normal run never executes it: ``skip-execution`` (nbclient, so
``make execute`` skips it) and ``nbval-skip`` (nbval), and ``remove-cell`` keeps it off the
rendered page. The chapter's stored outputs and execution counts are therefore what they were.

Insert it into a chapter, or bring an existing one up to date, with::

    .venv/bin/python -m normaxes.book.firstcell chapters/X.ipynb [more.ipynb ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPOSITORY = "https://github.com/normaxes/normaxes"
CELL_ID = "install-normaxes"
TAGS = ["remove-cell", "skip-execution", "nbval-skip"]

SOURCE = f"""\
# Opened outside the book's environment (Colab, Binder, your own Jupyter)? Run this cell: it
# installs the book's helper package `normaxes` if it is missing, from the clone this notebook
# sits in (cwd at its root or in chapters/) or else from {REPOSITORY}.
# In the book's environment (`make lab`) normaxes is installed and this cell does nothing.
import importlib.util
import pathlib

if importlib.util.find_spec("normaxes") is None:
    _root = next((p for p in (pathlib.Path.cwd(), pathlib.Path.cwd().parent)
                  if (p / "src" / "normaxes").is_dir()), None)
    _remote = '"normaxes @ git+{REPOSITORY}"'
    _where = f'-e "{{_root}}"' if _root else _remote
    %pip install --quiet {{_where}}
    print("normaxes installed; if an import fails, restart the kernel and run all cells")
"""


def first_cell() -> dict:
    """The install cell as an nbformat 4 code cell (no outputs, never executed)."""
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": CELL_ID,
        "metadata": {"tags": list(TAGS)},
        "outputs": [],
        "source": SOURCE.splitlines(keepends=True),
    }


def is_install_cell(cell: dict) -> bool:
    return cell.get("id") == CELL_ID or "skip-execution" in cell.get("metadata", {}).get("tags", [])


def apply(nb: dict) -> dict:
    """*nb* with the install cell first: inserted, or the existing one replaced."""
    cells = [c for c in nb["cells"] if not is_install_cell(c)]
    nb["cells"] = [first_cell()] + cells
    nb["nbformat"], nb["nbformat_minor"] = 4, max(nb.get("nbformat_minor", 0), 5)  # cell ids
    return nb


def apply_to(path: Path) -> bool:
    """Insert or update the cell in the notebook at *path*; True if the file changed."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    new = json.dumps(apply(json.loads(text)), indent=1, ensure_ascii=False) + "\n"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    for name in argv:
        path = Path(name)
        if path.suffix != ".ipynb" or not path.is_file():
            print(f"not a notebook: {name}", file=sys.stderr)
            return 2
        print(f"{name}: {'updated' if apply_to(path) else 'already up to date'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
