"""`make lab`, tested as a reader uses it: JupyterLab from .venv, a chapter run in headless Chromium.

The test starts the JupyterLab server of this .venv on the loopback address (a free port, a
token), opens a chapter through its web interface, runs all its cells from the Run menu, saves
it, and checks that every cell ran, that none shows an error or prints to stderr, and that the
outputs are the ones stored in the repository (compared as nbval compares them). The server
runs on a copy of the chapter, so the repository is never written; it is always shut down, and
the test asserts that no process of it and no listening port are left behind.

Needs Debian's `chromium` (as test_book.py). `make test` runs it with the browser test.
"""

from __future__ import annotations

import configparser
import html
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.error import URLError
from urllib.request import Request, urlopen

import pytest
from bookcheck import ROOT

CHAPTER = "chapters/axes.ipynb"  # the chapter that carries the install cell
JUPYTER = Path(sys.executable).parent / "jupyter"
SKIP_COMPARE = {"image/png", "image/jpeg"}  # as nbval: images are not compared


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _get(url: str, timeout: float = 5.0):
    with urlopen(Request(url), timeout=timeout) as r:
        return json.loads(r.read().decode())


def start_lab(root: Path, home: Path) -> tuple[str, str, subprocess.Popen]:
    """Start JupyterLab of this .venv serving *root*; (base URL, token, process) at once.

    It answers only a few seconds later (wait_for_lab); conftest.head_start starts it when the
    session starts, so that it boots while the survey runs.
    """
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ,
               JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               KERAS_BACKEND="torch", PYTHONHASHSEED="0")
    env.pop("MPLBACKEND", None)  # tests/conftest.py sets Agg; a reader's kernel draws inline
    # every cell in the page (no windowing), so the page shows all the outputs it ran
    tracker = home / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    with open(home / "server.log", "w") as log:  # the server holds its own copy of the file
        proc = subprocess.Popen(
            [str(JUPYTER), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
             "--LabApp.news_url=None",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
             "--LabApp.extension_manager=readonly"]
            + (["--allow-root"] if os.geteuid() == 0 else []),
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    return f"http://127.0.0.1:{port}/", token, proc


def wait_for_lab(base: str, token: str, proc, home: Path) -> None:
    """Until the server started by start_lab answers (at most 120 s)."""
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None, ("JupyterLab exited at start:\n"
                                     + (home / "server.log").read_text()[-3000:])
        try:
            _get(f"{base}api/status?token={token}")
            return
        except (URLError, ConnectionError, OSError):
            assert time.monotonic() < deadline, "JupyterLab did not answer within 120 s"
            time.sleep(0.1)


def lab_root(tmp: Path) -> Path:
    """A root for the server under *tmp* holding a copy of the chapter (never the repository)."""
    root = tmp / "root"
    (root / "chapters").mkdir(parents=True)
    shutil.copy(ROOT / CHAPTER, root / CHAPTER)
    return root


@contextmanager
def lab_server(root: Path, home: Path, started=None):
    """JupyterLab of this .venv serving *root*; yields (base URL, token, process).

    *started*: what start_lab returned for these *root* and *home*, if it is started already.
    """
    base, token, proc = started or start_lab(root, home)
    try:
        wait_for_lab(base, token, proc, home)
        yield base, token, proc
    finally:
        _shut_down(proc, base, token)


def _tree(pid: int) -> list[int]:
    """*pid* and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _shut_down(proc, base, token):
    """Shut the server down through its API (it stops its kernels); kill what remains."""
    if proc.poll() is None:
        try:
            urlopen(Request(f"{base}api/shutdown?token={token}", method="POST"), timeout=10)
        except OSError:
            pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    for sig in (signal.SIGTERM, signal.SIGKILL):  # the session's whole process group
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        _wait_until(lambda: not _group_alive(proc.pid), timeout=5)
    proc.wait(timeout=10)


def _wait_until(cond, timeout: float, step: float = 0.05) -> bool:
    """Poll *cond* until it holds (True) or *timeout* seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return any(_alive(p) for p in _tree(pgid))


def _sanitizers():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "tests" / "nbval_sanitize.cfg")
    return [(re.compile(cfg[s]["regex"]), cfg[s]["replace"]) for s in cfg.sections()]


def _outputs(cell, subs) -> list:
    """A cell's outputs as nbval compares them: streams joined, images and metadata left out."""
    out = []
    for o in cell.get("outputs", []):
        if o["output_type"] == "stream":
            text = "".join(o["text"])
            if out and out[-1][0] == o["name"]:
                out[-1] = (o["name"], out[-1][1] + text)
            else:
                out.append((o["name"], text))
        elif o["output_type"] == "error":
            out.append(("error", o["ename"]))
        else:
            out.append(("data", {k: "".join(v) if isinstance(v, list) else v
                                 for k, v in o["data"].items() if k not in SKIP_COMPARE}))

    def clean(v):
        if isinstance(v, str):
            for rx, rep in subs:
                v = rx.sub(rep, v)
            return v
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        return v

    return [(kind, clean(v)) for kind, v in out]


def _complete(path: Path, n_code: int) -> bool:
    """Does *path* hold a whole notebook whose code cells all carry an execution count?"""
    try:
        nb = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    return len(code) == n_code and all(c.get("execution_count") for c in code)


def _kernel_idle(page) -> bool:
    return page.evaluate("() => [...document.querySelectorAll('.jp-Notebook-ExecutionIndicator')]"
                         ".some(e => e.getAttribute('data-status') === 'idle')")


@pytest.fixture(scope="module")
def lab(tmp_path_factory, head_start):
    """One JupyterLab server for the module, on a copy of the chapter; shut down at the end.

    Started when the session started (conftest.head_start), if this test was selected then.
    """
    if "lab" in head_start:
        tmp, started = head_start["lab"]
    else:
        tmp, started = tmp_path_factory.mktemp("lab"), None
    root = tmp / "root" if started else lab_root(tmp)
    with lab_server(root, tmp, started) as (base, token, proc):
        yield root, base, token, proc


def test_kernel_of_the_notebooks_is_this_venv(lab):
    """The kernel the notebooks name (python3) is this .venv's Python, as `make lab` serves it."""
    _, base, token, _ = lab
    nb = json.loads((ROOT / CHAPTER).read_text())
    name = nb["metadata"]["kernelspec"]["name"]
    specs = _get(f"{base}api/kernelspecs?token={token}")
    assert name in specs["kernelspecs"], sorted(specs["kernelspecs"])
    argv0 = specs["kernelspecs"][name]["spec"]["argv"][0]
    assert Path(argv0).resolve() == Path(sys.executable).resolve() or argv0 in (
        "python", "python3", "{python}"), f"kernel {name} runs {argv0}, not {sys.executable}"


def drive_chapter(browser, root: Path, base: str, token: str) -> list[str]:
    """In *browser*: open the chapter in JupyterLab, run all its cells from the Run menu, save it.

    Asserts that every cell ran, none shows an error or stderr, and the file was saved; returns
    the page errors JupyterLab reported. The server keeps running (the test shuts it down).
    """
    n_code = sum(c["cell_type"] == "code"
                 for c in json.loads((ROOT / CHAPTER).read_text())["cells"])
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{base}lab/tree/{CHAPTER}?token={token}", wait_until="load")
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
        # the page shows the kernel idle and the server lists it (asked only once the page shows
        # it idle: while a kernel starts, jupyter_server answers /api/kernels with 500)
        deadline = time.monotonic() + 120
        while not (_kernel_idle(page) and _get(f"{base}api/kernels?token={token}")):
            assert time.monotonic() < deadline, "the kernel did not start within 120 s"
            time.sleep(0.2)
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        # every code cell shows an execution count ([n]:, not [ ]: or [*]:) and the kernel is idle
        deadline = time.monotonic() + 300
        while True:
            prompts = page.evaluate("() => [...document.querySelectorAll("
                                    "'.jp-CodeCell .jp-InputArea-prompt')].map(p => p.innerText)")
            if (len(prompts) == n_code and _kernel_idle(page)
                    and all(re.fullmatch(r"\[\d+\]:", p.strip()) for p in prompts)):
                break
            if time.monotonic() > deadline:
                page.screenshot(path=str(root.parent / "timeout.png"))
                pytest.fail(f"the cells did not all run within 300 s: prompts {prompts}")
            time.sleep(0.2)
        shown = page.evaluate(
            "() => [...document.querySelectorAll('.jp-OutputArea-output')]"
            ".filter(o => o.getAttribute('data-mime-type') === 'application/vnd.jupyter.stderr')"
            ".map(o => o.innerText.slice(0, 300))")
        assert not shown, f"cells show errors or stderr in JupyterLab: {shown}"
        before = (root / CHAPTER).stat().st_mtime_ns
        page.locator(".jp-NotebookPanel .jp-Notebook").first.click()
        page.keyboard.press("Control+s")
        # saved: the file changed and holds the whole notebook (the write is complete)
        assert _wait_until(lambda: (root / CHAPTER).stat().st_mtime_ns != before
                           and _complete(root / CHAPTER, n_code), timeout=30), \
            "the notebook was not saved"
    finally:
        context.close()
    return errors


def drive_chapter_in_own_browser(root: Path, home: Path, started) -> list[str]:
    """drive_chapter in a Chromium of its own, once start_lab's server answers.

    conftest.head_start runs this in a thread from the session's start (Playwright's sync API is
    bound to the thread that starts it): the kernel runs the chapter while the other tests go on.
    """
    from bookcheck import launched

    base, token, proc = started
    wait_for_lab(base, token, proc, home)
    with launched() as b:
        return drive_chapter(b, root, base, token)


@pytest.fixture(scope="module")
def lab_run(browser, lab, head_start):
    """A call that returns drive_chapter's page errors on the module's server (its asserts fail
    the test that calls it): run in the background since the session started
    (conftest.head_start), or, if that was not started, now in the session's browser."""
    if "lab_run" in head_start:
        return head_start["lab_run"].result
    root, base, token, _ = lab
    return lambda: drive_chapter(browser, root, base, token)


def test_a_chapter_runs_in_jupyterlab(lab, lab_run):
    stored = json.loads((ROOT / CHAPTER).read_text())
    root, base, token, proc = lab
    # the module's server: this test shuts it down and checks that nothing is left
    errors = lab_run()  # the chapter opened, run and saved in JupyterLab
    assert not errors, f"JupyterLab page errors: {errors}"
    leftovers = _tree(proc.pid)
    assert len(leftovers) >= 2, "no kernel process under the server"
    port = int(base.rsplit(":", 1)[1].strip("/"))
    _shut_down(proc, base, token)
    # shut down: no process of the server (or its kernel) and no open port remain
    _wait_until(lambda: not any(_alive(p) for p in leftovers), timeout=5)
    alive = [p for p in leftovers if _alive(p)]
    assert not alive, f"processes left behind: {alive}"
    assert not _port_open(port), f"port {port} still open"

    ran = json.loads((root / CHAPTER).read_text())
    subs = _sanitizers()
    code = [c for c in ran["cells"] if c["cell_type"] == "code"]
    ref = [c for c in stored["cells"] if c["cell_type"] == "code"]
    assert len(code) == len(ref)
    for k, (cell, want) in enumerate(zip(code, ref, strict=True), start=1):
        assert cell.get("execution_count"), f"code cell {k} did not run"
        kinds = [kind for kind, _ in _outputs(cell, subs)]
        assert "error" not in kinds and "stderr" not in kinds, f"code cell {k}: {cell['outputs']}"
        assert _outputs(cell, subs) == _outputs(want, subs), (
            f"code cell {k}: re-run in JupyterLab, its outputs differ from the stored ones")


def test_launch_buttons_and_download_open_the_chapter():
    """Binder and Colab open the page's own notebook in the repository; the download is it."""
    from bookcheck import HTML, toc_files
    assert (HTML / "index.html").is_file(), "no _build/html: run `make build-strict` first"
    notebooks = [d for d in toc_files() if (ROOT / f"{d}.ipynb").is_file()]
    assert notebooks
    for doc in notebooks:
        # every <a href> of the page (Sphinx writes each attribute in double quotes)
        hrefs = [html.unescape(h) for h in re.findall(
            r'<a\b[^>]*?\shref="([^"]*)"', (HTML / f"{doc}.html").read_text(encoding="utf-8"))]
        binder = [h for h in hrefs if "mybinder.org/v2/gh/" in h]
        colab = [h for h in hrefs if "colab.research.google.com/github/" in h]
        assert binder and colab, f"{doc}: no Binder or Colab button"
        assert binder[0].endswith(f"?urlpath=lab/tree/{doc}.ipynb"), binder[0]
        assert colab[0].endswith(f"/blob/main/{doc}.ipynb"), colab[0]
        download = [h for h in hrefs if h.endswith(f"_sources/{doc}.ipynb")]
        assert download, f"{doc}: no .ipynb download"
        got = (HTML / f"{doc}.html").parent.joinpath(download[0]).resolve()
        assert got.read_bytes() == (ROOT / f"{doc}.ipynb").read_bytes(), (
            f"{doc}: the downloaded notebook is not the repository's")
