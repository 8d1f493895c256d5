"""The appendix page "How this book is checked" (chapters/checking.ipynb): what its prose says
about the TensorFlow environment is what the package and the tests do. (Its code cells, the
determinism checks and the bad-input refusals, are compared output for output by nbval; the
messages are asserted by test_edge_cases.py, test_padding.py and test_streaming.py.)"""

import json
import re
from pathlib import Path

from normaxes import envs

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "chapters" / "checking.ipynb"


def _section(title: str) -> str:
    """The Markdown of the page's section *title*, up to the next section."""
    cells = json.loads(PAGE.read_text(encoding="utf-8"))["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_page_quotes_the_skip_line_the_package_prints():
    section = _section("Running the chapters without TensorFlow")
    quoted = [line.strip() for line in section.splitlines() if line.startswith("    skipped:")]
    assert quoted == [envs.skip_line("tf")]


def test_the_page_names_the_pages_that_reach_tensorflow():
    """The pages it links as reaching TensorFlow are those test_reader_run.py finds in the code
    (and runs without .venv-tf), and the page itself reaches none."""
    from test_reader_run import tf_chapters

    section = _section("Running the chapters without TensorFlow")
    sentence = section.split("Four pages reach TensorFlow:", 1)[1].split(".", 1)[0]
    linked = set(re.findall(r"\{doc\}`(\w+)`", sentence))
    assert linked == {p.stem for p in tf_chapters()}
    assert PAGE not in tf_chapters()
