"""The chapters run as a reader runs them, with and without the TensorFlow environment.

A reader runs a chapter in a Jupyter kernel whose working directory is ``chapters/`` (`make lab`,
Binder, a clone in their own Jupyter) or a folder without the book (Colab). With ``.venv-tf``:
nbval (`make test`) already executes every chapter that way, in a real kernel started in the
notebook's folder (nbval 0.11.0, ``nbval/plugin.py`` line 266: ``cwd=str(self.fspath.dirname)``;
proved below on a notebook of its own), and compares every output: this module does not execute
them a third time. Without ``.venv-tf`` (Colab, Binder, a reader who has not run
`make env-tf`): the chapters that reach TensorFlow are executed here by nbclient from
``chapters/``, with ``NORMAXES_ENV_TF`` naming a folder that does not exist, and must run to their
end, printing the skip line where they would have used it and the stored outputs everywhere else.
Which chapters reach TensorFlow is read from the code (:func:`tf_chapters`), and every other chapter
is proved not to. Last, `make lab` (read with ``make -n``, nothing is installed) builds both
environments before it starts JupyterLab, and neither again once built.
"""

from __future__ import annotations

import ast
import configparser
import json
import os
import re
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

import pytest

from normaxes import envs

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
SRC = ROOT / "src" / "normaxes"
SKIP = envs.skip_line("tf")  # skipped: needs the TensorFlow environment; run `make env-tf` ...
WHY = SKIP.removeprefix("skipped: ")  # in every form a skip takes: a line, a Markdown row
# what a cell calls that reaches another environment, besides the package's own functions
ENTRY = {"run_in", "needs", "run_all"}


# --- which chapters reach TensorFlow: read from the code -------------------------------------

def _refs(tree: ast.AST) -> set[str]:
    """The names, attribute names and string constants under *tree*."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.Attribute):
            out.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.add(node.value)
    return out


@cache
def _package_functions() -> dict[tuple[str, str], set[str]]:
    """Every function of the package outside ``envs.py`` (which is the mechanism): (module,
    name) -> what its body refers to. Claim functions (all called ``_``) are left to
    :func:`tf_claims`."""
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "envs.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name != "_":
                out[str(path.relative_to(SRC)), node.name] = _refs(node)
    return out


@cache
def tf_claims() -> frozenset[str]:
    """The claims whose code reaches ``run_in`` (directly or through a package function)."""
    import inspect

    from normaxes.book import ledger

    names = tf_functions()
    return frozenset(c.name for c in ledger.claims()
                     if _refs(ast.parse(inspect.getsource(c.compute).strip())) & names)


@cache
def tf_functions() -> frozenset[str]:
    """The names of the package's functions that reach ``run_in``: those that call it, and those
    that call one of them, to a fixed point (by name: a name shared by two functions counts for
    both, which can only add chapters to the run without TensorFlow)."""
    funcs = _package_functions()
    names = {"run_in"}
    while True:
        more = {name for (_, name), refs in funcs.items() if refs & names} - names
        if not more:
            return frozenset(names)
        names |= more


def _cells(path: Path) -> list[str]:
    """The code the kernel runs: every code cell but the install cell, IPython magics dropped."""
    from normaxes.book.firstcell import is_install_cell

    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["\n".join(line for line in "".join(c["source"]).splitlines()
                      if not line.lstrip().startswith(("%", "!")))
            for c in nb["cells"] if c["cell_type"] == "code" and not is_install_cell(c)]


def tf_reasons(path: Path) -> set[str]:
    """What in the chapter at *path* reaches TensorFlow: names of functions and claims (empty
    for a chapter that does not). Its exercises count too (``check("N.k", ...)`` runs
    ``exercises/<page>.py``)."""
    refs = set()
    for source in _cells(path):
        refs |= _refs(ast.parse(source))
    reach = tf_functions() | tf_claims() | ENTRY
    exercises = SRC / "exercises" / f"{path.stem}.py"
    if exercises.is_file():
        refs |= _refs(ast.parse(exercises.read_text(encoding="utf-8")))
    return refs & reach


def tf_chapters() -> list[Path]:
    return [p for p in sorted(CHAPTERS.glob("*.ipynb")) if tf_reasons(p)]


def test_only_the_claims_and_helpers_of_the_frameworks_call_run_in():
    """The analysis finds what it must: run_in is called from the frameworks modules only, and
    the claims known to run TensorFlow are among those it reads as reaching it."""
    callers = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and "run_in" in _refs(node.func):
                callers.add(str(path.relative_to(SRC)))
    callers.discard("envs.py")  # the mechanism (its docstring example)
    assert callers == {"chapters/frameworks.py", "claims/frameworks.py"}, callers
    assert {"fig3-tf-img", "tfa-gn-default-seq", "tfkeras-ln-default-seq"} <= tf_claims()
    assert {"in_tf", "tf_defaults", "tf_doc"} <= tf_functions()
    assert "ln-seq-torch" not in tf_claims() and "standardize" not in tf_functions()
    # a cell that calls a claim that needs TensorFlow, or a helper, is read as reaching it
    assert tf_chapters(), "no chapter reaches TensorFlow: the analysis reads nothing"


def test_importing_the_package_needs_no_tensorflow():
    """Without .venv-tf every module imports (no module runs TensorFlow at import), so a chapter
    that never calls what reaches it never sees the difference."""
    code = ("import importlib, pkgutil, normaxes\n"
            "for m in pkgutil.walk_packages(normaxes.__path__, 'normaxes.'):\n"
            "    if m.name not in ('normaxes.book.sphinxext', 'normaxes.book.pdf'):\n"
            "        importlib.import_module(m.name)\n"
            "from normaxes.book import ledger\n"
            "ledger.claims()\n"
            "from normaxes import envs\n"
            "assert not envs._workers, 'a worker was started at import'\n")
    env = dict(os.environ, NORMAXES_ENV_TF="/nonexistent/normaxes-no-venv-tf")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


# --- the kernel's working directory under nbval ----------------------------------------------

def test_nbval_runs_the_kernel_in_the_notebooks_folder(tmp_path):
    """nbval (make test) starts each notebook's kernel in the notebook's folder, as `make lab`
    does for chapters/: the chapters are tested from the working directory a reader has."""
    folder = tmp_path / "chapters"
    folder.mkdir()
    cell = {"cell_type": "code", "execution_count": 1, "id": "cwd", "metadata": {},
            "source": "import pathlib\nprint(pathlib.Path.cwd().name)",
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "chapters\n"}]}
    nb = {"cells": [cell], "metadata": {"kernelspec": {"name": "python3", "language": "python",
                                                       "display_name": "Python 3"}},
          "nbformat": 4, "nbformat_minor": 5}
    (folder / "where.ipynb").write_text(json.dumps(nb))
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--nbval", "--nbval-current-env", "chapters/where.ipynb"],
                          cwd=tmp_path, capture_output=True, text=True)
    # run from tmp_path, the kernel prints "chapters": the notebook's folder, not pytest's cwd
    assert done.returncode == 0, done.stdout[-2000:]
    assert "1 passed" in done.stdout


# --- the chapters that reach TensorFlow, run without it ---------------------------------------

def _sanitizers():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "tests" / "nbval_sanitize.cfg")
    return [(re.compile(cfg[s]["regex"]), cfg[s]["replace"]) for s in cfg.sections()]


def _texts(cell) -> list[tuple[str, str]]:
    """A cell's outputs as nbval compares them: (kind, text), streams joined, images left out."""
    subs, out = _sanitizers(), []
    for o in cell.get("outputs", []):
        if o["output_type"] == "stream":
            kind, text = o["name"], "".join(o["text"])
            if out and out[-1][0] == kind:
                out[-1] = (kind, out[-1][1] + text)
                continue
        elif o["output_type"] == "error":
            kind, text = "error", f"{o['ename']}: {o['evalue']}"
        else:
            kind = "data"
            text = "\n".join(f"{k}: {''.join(v) if isinstance(v, list) else v}"
                             for k, v in sorted(o["data"].items())
                             if k not in ("image/png", "image/jpeg"))
        out.append((kind, text))
    for rx, rep in subs:
        out = [(kind, rx.sub(rep, text)) for kind, text in out]
    return out


def _ignored(cell) -> bool:
    source = "".join(cell["source"])
    tags = cell.get("metadata", {}).get("tags", [])
    return "NBVAL_IGNORE_OUTPUT" in source or "nbval-ignore-output" in tags


def _skip_md() -> str:
    return "**skipped**: " + SKIP.removeprefix("skipped: ")


# a verdict as the ledger prints it: **equal**, [holds], or a link whose text is the verdict
VERDICT = re.compile(r"\*\*(equal|differ|greater|less|not \w+)\*\*|\[holds\]"
                     r"|`(equal|differ|greater|less|not \w+) <claim-")


def _claims_reported_as_measured(text: str) -> list[str]:
    """Claims that need TensorFlow shown with a measured verdict in *text* (a cell's output): a
    line (a table row) that names k of them and m other claims must give at most m verdicts and
    say skipped k times (or be one line of skipped names with the reason and no verdict); a
    claim's block must end skipped, with no 'Measured:'."""
    tf = tf_claims()
    bad = []
    blocks = r"\(claim-[\w-]+\)=.*?(?=\(claim-[\w-]+\)=|$)"  # ledger.show's, checked below
    for line in re.sub(blocks, "", text, flags=re.S).splitlines():
        named = {n.removeprefix("claim-") for n in
                 re.findall(r"(?<![\w-])([a-z0-9]+(?:-[a-z0-9]+)+)(?![\w-])", line)}
        ours = named & tf
        if ours:
            others = {n for n in named - tf if f"claim-{n}" in line or f"`{n}`" in line}
            verdicts = len(VERDICT.findall(line))
            listed = WHY in line and not verdicts  # one line naming all it skipped (run_all)
            if verdicts > len(others) or (line.count("skipped") < len(ours) and not listed):
                bad += sorted(ours)
    for name in tf:
        block = re.search(rf"\(claim-{re.escape(name)}\)=(.*?)(?=\(claim-[\w-]+\)=|$)", text,
                          re.S)
        if block and (_skip_md() not in block.group(1) or "Measured:" in block.group(1)):
            bad.append(name)
    return bad


def test_the_output_check_catches_a_claim_shown_as_measured():
    """The check above refuses a claim that needs TensorFlow shown with a verdict, in a table row
    or in its block, and accepts it shown as skipped."""
    row = "| {ref}`fig3-tf-img <claim-fig3-tf-img>` | ... | **equal**, max|Δ| ≤ 1e-5 |"
    block = "(claim-fig3-tf-seq)=\n\n**Claim `fig3-tf-seq`** ...\n\nMeasured: **equal**, ..."
    assert _claims_reported_as_measured(row) == ["fig3-tf-img"]
    assert _claims_reported_as_measured(block) == ["fig3-tf-seq"]
    assert not _claims_reported_as_measured(row.replace("**equal**, max|Δ| ≤ 1e-5", _skip_md()))
    assert not _claims_reported_as_measured(
        block.replace("Measured: **equal**, ...", _skip_md() + "."))
    assert not _claims_reported_as_measured("| `ln-seq-torch` | **equal** |")
    # a verdict written as a link (gn_vs_ln's system table), alone or beside another claim's
    link = "| TF-Addons | {ref}`differ <claim-tfa-gn1-differs-tfkeras-ln-seq>`, max\\|Δ\\| = 4.5 |"
    assert _claims_reported_as_measured(link) == ["tfa-gn1-differs-tfkeras-ln-seq"]
    mixed = ("| Fig. 3 | {ref}`equal <claim-gn1-equals-ln-img>`, ≤ 1e-5 | "
             "{ref}`equal <claim-fig3-tf-g1-is-tfkeras-ln-img>`, ≤ 1e-5 |")
    assert _claims_reported_as_measured(mixed) == ["fig3-tf-g1-is-tfkeras-ln-img"]
    fixed = mixed.replace("{ref}`equal <claim-fig3-tf-g1-is-tfkeras-ln-img>`, ≤ 1e-5",
                          "{ref}`skipped <claim-fig3-tf-g1-is-tfkeras-ln-img>`: " + WHY)
    assert not _claims_reported_as_measured(fixed)


def run_as_reader(path: Path, env: dict) -> tuple[dict, float]:
    """Execute a copy of the notebook at *path* with nbclient, kernel python3 started in
    chapters/ with *env*, as Jupyter's Run all does (the install cell, tagged skip-execution,
    is skipped as a reader in the book's environment runs it and it does nothing)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env = {**os.environ, **env}
    env.pop("MPLBACKEND", None)  # a reader's kernel draws inline (tests/conftest.py sets Agg)
    start = time.monotonic()
    NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute(env=env)
    return nb, time.monotonic() - start


# Chapters whose cells still need the one-line changes that put their TensorFlow parts under
# normaxes.envs.needs / ledger's skip_missing (issue 30; their owners apply them): expected to
# fail until then, and strictly, so that the entry must go once the chapter is changed.
PENDING: set[str] = set()


def _marked(path: Path):
    if path.stem not in PENDING:
        return path
    return pytest.param(path, marks=pytest.mark.xfail(
        strict=True, reason=f"{path.stem}: its cells do not yet skip what needs TensorFlow"))


@pytest.mark.parametrize("path", [_marked(p) for p in tf_chapters()], ids=lambda p: p.stem)
def test_a_chapter_runs_to_its_end_without_tensorflow(path, tmp_path):
    """Without .venv-tf, 'Run all' goes to the end: no error, no stderr; each cell that needed
    TensorFlow prints the skip line, and every other cell prints what is stored (what nbval
    checks with TensorFlow); no claim that needs it is shown as measured."""
    stored = json.loads(path.read_text(encoding="utf-8"))
    ran, seconds = run_as_reader(path, {"NORMAXES_ENV_TF": str(tmp_path / "no-venv-tf"),
                                        "KERAS_BACKEND": "torch", "PYTHONHASHSEED": "0"})
    code = [(a, b) for a, b in zip(ran.cells, stored["cells"], strict=True)
            if a.cell_type == "code"]
    skipped = 0
    for k, (cell, want) in enumerate(code):
        where = f"{path.name}, code cell {k} ({cell.get('id')})"
        got = _texts(cell)
        kinds = [kind for kind, _ in got]
        assert "error" not in kinds and "stderr" not in kinds, f"{where}: {got}"
        text = "\n".join(t for _, t in got)
        assert not _claims_reported_as_measured(text), f"{where}: {text[:2000]}"
        if WHY in text:
            skipped += 1
        elif not _ignored(cell):
            assert got == _texts(want), f"{where}: differs from the stored outputs"
    assert skipped, (f"{path.name}: reaches TensorFlow through {sorted(tf_reasons(path))} but "
                     "printed no skip line without it")
    print(f"{path.stem}: ran without .venv-tf in {seconds:.0f} s, {skipped} cells skipped a part")


def test_the_analysis_reads_every_way_a_cell_reaches_tensorflow(tmp_path):
    """A chapter is read as reaching TensorFlow through a claim that needs it, a helper that
    calls run_in, run_in or needs itself, or the whole ledger; the install cell, magics and
    claims that need no TensorFlow do not count. Every chapter not run above is thereby proved
    to reach none of these."""
    from normaxes.book.firstcell import first_cell

    def chapter(name, *sources):
        cells = [first_cell()] + [{"cell_type": "code", "source": src, "metadata": {},
                                   "outputs": [], "execution_count": None} for src in sources]
        path = tmp_path / f"{name}.ipynb"
        path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                    "nbformat_minor": 5}))
        return path

    reached = {
        "claim": chapter("claim", 'ledger.verdict("fig3-tf-seq")'),
        "claims": chapter("claims", 'for n in ["ln-seq-torch", "tfa-in-default-img"]:\n'
                                    '    ledger.show(n)'),
        "helper": chapter("helper", "from normaxes.chapters.frameworks import in_tf\n"
                                    "f = in_tf('tf.keras.layers.LayerNormalization()')"),
        "direct": chapter("direct", "%matplotlib inline\nfrom normaxes import envs\n"
                                    "envs.run_in('tf', 'y = 1', {}, 'y')"),
        "ledger": chapter("ledger", "results = ledger.run_all()"),
    }
    for name, path in reached.items():
        assert tf_reasons(path), name
    plain = chapter("plain", 'ledger.verdicts(["ln-seq-torch", "bn-seq-torch"])',
                    "x = standardize(data.tiny_sequence(), 'B T F', over='F')")
    assert not tf_reasons(plain)
    others = sorted(set(CHAPTERS.glob("*.ipynb")) - set(tf_chapters()))
    assert others and (CHAPTERS / "axes.ipynb") in others


def test_no_stored_output_was_made_without_tensorflow():
    """Where .venv-tf exists, nothing is skipped: every chapter is stored executed with it, so
    nbval (which re-runs each chapter and compares every output) fails on a skip line."""
    for path in sorted(CHAPTERS.glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            text = json.dumps(cell.get("outputs", []), ensure_ascii=False)
            assert "skipped: needs" not in text and "**skipped**" not in text, path.name


def test_the_readme_names_the_chapters_that_need_tensorflow():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Running the notebooks elsewhere", 1)[1].split("\n## ", 1)[0]
    for path in tf_chapters():
        assert f"`{path.stem}`" in section, f"README: {path.stem} needs .venv-tf, not said"
    assert WHY in section
    from normaxes.book import ledger

    n, total = len(tf_claims()), len(ledger.claims())
    assert f"the {n} claims that run TensorFlow" in section
    assert f"the other {total - n} run" in section


# --- make lab ----------------------------------------------------------------------------------

def _make_n(tmp_path, **variables) -> str:
    args = [f"{k}={v}" for k, v in variables.items()]
    done = subprocess.run(["make", "-n", "lab", *args], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    return done.stdout


def _built(folder: Path) -> Path:
    (folder / "bin").mkdir(parents=True)
    (folder / ".installed").touch()  # newer than every requirements file it depends on
    return folder


def test_make_lab_builds_both_environments_first_and_says_so(tmp_path):
    venv, venv_tf = tmp_path / "venv", tmp_path / "venv-tf"
    out = _make_n(tmp_path, VENV=venv, VENV_TF=venv_tf)
    lab = out.index("jupyter lab")
    tf = out.index(f"{venv_tf}/bin/python -m pip install")
    main = out.index(f"{venv}/bin/python -m pip install")
    assert main < lab and tf < lab
    assert "building the TensorFlow environment" in out[:tf] and "1.3 GB" in out[:tf]
    assert f"make: {venv_tf} is ready" in out and f"installing the book's environment {venv}" in out


def test_make_lab_installs_nothing_when_both_are_built(tmp_path):
    venv, venv_tf = _built(tmp_path / "venv"), _built(tmp_path / "venv-tf")
    out = _make_n(tmp_path, VENV=venv, VENV_TF=venv_tf)
    assert not re.search(r"pip install|-m venv|ipykernel install|touch", out), out
    assert f"{venv}/bin/jupyter lab" in out
    # only .venv-tf missing: only it is built
    (venv_tf / ".installed").unlink()
    out = _make_n(tmp_path, VENV=venv, VENV_TF=venv_tf)
    assert f"{venv_tf}/bin/python -m pip install" in out
    assert f"{venv}/bin/python -m pip install" not in out
