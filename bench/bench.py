"""`make bench`: how far the book is from its floors, as ratios measured side by side in one run.

Prints four tables (Markdown), each figure paired with its reference measured in the same run:

1. ``standardize`` (the public API) against PyTorch's native kernels, float32, 2 threads, on the
   shapes of issue 18: median time ratio over interleaved repeats, and the peak extra memory of
   one call (resident-set high-water mark above the input; each call in a fresh process), as a
   multiple of the input's size and as a ratio to the native kernel's.
2. ``MaskedBatchNorm1d``'s training step (forward and backward) against the same step written as
   plain masked PyTorch (the masked mean and biased variance, once).
3. Each notebook's nbval time (strict, as `make test` runs it) against its floor: a notebook of
   the same kernel start and every import the notebook makes, by any path (recorded from the
   notebook's own run: Keras, Flax, transformers imported by claims and helpers, and the start
   of .venv-tf's worker, which imports TensorFlow).
4. Each page's bytes as a cold browser fetches them (headless Chromium, CDP's encodedDataLength
   summed over every response), split into the page, its images and the fixed assets.
5. The browser test (tests/browser, as `make test` runs it) in a subprocess: its wall seconds
   against issue 18's goal, with its CPU seconds (Chromium's renderers included) and its number
   of page opens for context, as the test's own summary reports them
   (_build/screenshots/summary.json). A wall time, not a ratio: read it with the machine's load.

Usage: python bench/bench.py [--only kernels,masked,notebooks,pages,browser] [--repeat N]
Ratios, not absolute times, are the result; absolute floors are printed for context only.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))  # bookcheck: the browser test's helpers
PY = sys.executable
THREADS = 2

# name: (shape, layout, over, sizes, native)
KERNELS = {
    "sequence LN [32,512,256] over F": ((32, 512, 256), "B T F", "F", {}, "layer_norm1"),
    "image LN [32,64,56,56] over C H W": ((32, 64, 56, 56), "N C H W", "C H W", {}, "layer_norm3"),
    "image GN(32) [32,64,56,56]": ((32, 64, 56, 56), "N (G Cg) H W", "Cg H W", {"G": 32},
                                   "group_norm"),
}
# for context, without a goal: Batch Norm reduces the first axis, so standardize takes it whole
CONTEXT = {
    "image BN [32,64,56,56] over N H W": ((32, 64, 56, 56), "N C H W", "N H W", {}, "batch_norm"),
}
ALL_KERNELS = {**KERNELS, **CONTEXT}
MASKED_SHAPE = (32, 512, 256)
GOALS = {"time": 1.5, "memory": 1.5, "masked": 1.3, "nbval": 1.3, "page_mb": 1.5,
         "browser_s": 40}


# ----------------------------------------------------------------------------------- kernels
def _torch():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import torch

    torch.set_num_threads(THREADS)
    return torch


def _input(shape, seed=0):
    torch = _torch()
    g = torch.Generator().manual_seed(seed)
    return torch.empty(shape, dtype=torch.float32).normal_(generator=g)  # no temporary


def kernel_fns(case):
    """(ours, native): two callables of x for the kernel *case*."""
    import torch.nn.functional as F

    from normaxes import standardize

    shape, layout, over, sizes, native = ALL_KERNELS[case]
    ours = lambda x: standardize(x, layout, over, eps=1e-5, **sizes)  # noqa: E731
    if native == "layer_norm1":
        ref = lambda x: F.layer_norm(x, shape[-1:], eps=1e-5)  # noqa: E731
    elif native == "layer_norm3":
        ref = lambda x: F.layer_norm(x, shape[1:], eps=1e-5)  # noqa: E731
    elif native == "batch_norm":
        ref = lambda x: F.batch_norm(x, None, None, training=True, eps=1e-5)  # noqa: E731
    else:
        ref = lambda x: F.group_norm(x, sizes["G"], eps=1e-5)  # noqa: E731
    return ours, ref


def masked_fns():
    """(ours, plain): one training step (forward, backward) of each on a padded batch."""
    torch = _torch()
    from normaxes.chapters.padding import MaskedBatchNorm1d

    B, T, F = MASKED_SHAPE
    g = torch.Generator().manual_seed(1)
    lengths = torch.randint(T // 4, T + 1, (B,), generator=g)
    mask = (torch.arange(T)[None, :] < lengths[:, None])[:, :, None]
    layer = MaskedBatchNorm1d(F)
    w = torch.ones(F, requires_grad=True)
    b = torch.zeros(F, requires_grad=True)
    run_mean, run_var = torch.zeros(F), torch.ones(F)
    up = torch.empty(B, T, F).normal_(generator=g)

    def ours(x):
        x = x.detach().requires_grad_()
        layer(x, mask).backward(up)
        return x.grad

    def plain(x):
        x = x.detach().requires_grad_()
        m = mask.to(x.dtype)
        n = m.sum()
        mean = (x * m).sum((0, 1)) / n
        var = ((x - mean).square() * m).sum((0, 1)) / n
        with torch.no_grad():
            run_mean.mul_(0.9).add_(0.1 * mean)
            run_var.mul_(0.9).add_(0.1 * var * n / (n - 1))
        y = (x - mean) * torch.rsqrt(var + 1e-5) * w + b
        torch.where(mask, y, torch.zeros((), dtype=y.dtype)).backward(up)
        return x.grad

    return ours, plain


def _fns(case):
    return masked_fns() if case == "masked" else kernel_fns(case)


def _shape(case):
    return MASKED_SHAPE if case == "masked" else ALL_KERNELS[case][0]


def time_pair(case, repeat):
    """Median seconds of (ours, native), calls interleaved so both see the same machine."""
    ours, ref = _fns(case)
    x = _input(_shape(case))
    for f in (ours, ref):
        f(x)  # warm up
    t = {0: [], 1: []}
    for _ in range(repeat):
        for k, f in enumerate((ours, ref)):
            t0 = time.perf_counter()
            f(x)
            t[k].append(time.perf_counter() - t0)
    return statistics.median(t[0]), statistics.median(t[1])


def _hwm() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def peak_child(case, which):
    """In a fresh process: peak resident bytes one call adds above the input (and its result)."""
    ours, ref = _fns(case)
    f = (ours, ref)[which]
    shape = _shape(case)
    f(_input(shape if case == "masked" else (1,) + shape[1:]))  # first-call set-up
    x = _input(shape)
    Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark to now
    base = _hwm()
    out = f(x)
    print(json.dumps({"extra": _hwm() - base, "input": x.numel() * x.element_size(),
                      "out": out.numel() * out.element_size()}))


def peak(case, which):
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), KERAS_BACKEND="torch")
    r = subprocess.run([PY, __file__, "--peak", case, str(which)], capture_output=True, text=True,
                       env=env, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def bench_kernels(cases, repeat, title, goal_t, goal_m):
    rows = [f"### {title}", "",
            "| case | time ratio | goal | peak extra (ours) | peak extra (reference) "
            "| memory ratio | goal |",
            "|---|---|---|---|---|---|---|"]
    for case in cases:
        t_ours, t_ref = time_pair(case, repeat)
        m_ours, m_ref = peak(case, 0), peak(case, 1)
        tr, mr = t_ours / t_ref, m_ours["extra"] / max(m_ref["extra"], 1)
        rows.append(f"| {case} | {tr:.2f}x | {_goal(tr, goal_t)} "
                    f"| {m_ours['extra'] / m_ours['input']:.2f}x input "
                    f"| {m_ref['extra'] / m_ref['input']:.2f}x input | {mr:.2f}x "
                    f"| {_goal(mr, goal_m)} |")
    print("\n".join(rows) + "\n", flush=True)


def _goal(ratio, goal) -> str:
    return "none (context)" if goal is None else f"<= {goal}x {_ok(ratio <= goal)}"


def _ok(holds: bool) -> str:
    return "holds" if holds else "**misses**"


# --------------------------------------------------------------------------------- notebooks
def _skipped(cell) -> bool:
    tags = cell.get("metadata", {}).get("tags", [])
    return "skip-execution" in tags or "nbval-skip" in tags


# An IPython startup file for the bench's kernels: after every cell it records the modules the
# kernel has imported and the environments (normaxes.envs) whose worker process it has started,
# so that the floor can import exactly what the notebook imported, by any path (claims and
# helpers import Keras, Flax or transformers; run_in starts .venv-tf's Python, which imports
# TensorFlow). It prints nothing and leaves no name in the notebook's namespace.
STARTUP = """
def _normaxes_bench_hook():
    import json, os, sys
    path = os.environ["NORMAXES_BENCH_IMPORTS"]

    def record(result=None):
        envs = []
        e = sys.modules.get("normaxes.envs")
        if e is not None:
            for name in e.ENVS:
                try:
                    if e.python_of(name) in e._workers:
                        envs.append(name)
                except Exception:
                    pass
        with open(path, "w") as f:
            json.dump({"modules": sorted(sys.modules), "envs": envs}, f)

    get_ipython().events.register("post_run_cell", record)


_normaxes_bench_hook()
del _normaxes_bench_hook
"""


def floor_notebook(nb: dict, imported: dict | None = None) -> dict:
    """A notebook of *nb*'s import statements and, from *imported* (what a run of *nb* recorded,
    see STARTUP), every other module its kernel imported (Keras through ``load_keras``) and the
    start of every worker environment it used: the kernel start and the notebook's imports."""
    lines = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or _skipped(cell):
            continue
        src = "".join(cell["source"])
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        lines += [ast.get_source_segment(src, n) for n in tree.body
                  if isinstance(n, (ast.Import, ast.ImportFrom))]
    imported = imported or {"modules": [], "envs": []}
    if "keras" in imported["modules"]:
        lines.append("from normaxes import load_keras\n_ = load_keras()")
    if imported["modules"]:
        lines.append(
            "import contextlib, importlib, io, warnings\n"
            "with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():\n"
            "    warnings.simplefilter('ignore')\n"
            f"    for _m in {imported['modules']!r}:\n"
            "        try:\n"
            "            importlib.import_module(_m)\n"
            "        except Exception:\n"
            "            pass")
    for env in imported["envs"]:
        lines.append(f"from normaxes.envs import run_in\nrun_in({env!r}, 'import tensorflow')"
                     if env == "tf" else f"from normaxes.envs import run_in\nrun_in({env!r}, '')")
    source = "\n".join(dict.fromkeys(lines))
    return {"cells": [{"cell_type": "code", "execution_count": None, "id": "floor",
                       "metadata": {}, "outputs": [], "source": source}],
            "metadata": nb.get("metadata", {}), "nbformat": 4, "nbformat_minor": 5}


def nbval_seconds(path: Path, extra_env: dict | None = None) -> float:
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), KERAS_BACKEND="torch",
               PYTHONHASHSEED="0", **(extra_env or {}))
    t0 = time.perf_counter()
    r = subprocess.run([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
                        "--nbval-current-env", "--nbval-sanitize-with",
                        str(ROOT / "tests" / "nbval_sanitize.cfg"), str(path)],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"nbval failed on {path.name}:\n{r.stdout[-2000:]}")
    return dt


def bench_notebooks(repeat, pattern="*.ipynb"):
    rows = ["### nbval per notebook against its floor (kernel start + every import the notebook "
            "makes)", "",
            "| notebook | nbval / floor | goal | floor (s, context) | heavy imports in the floor |",
            "|---|---|---|---|---|"]
    heavy = ("keras", "tensorflow", "flax", "transformers", "sklearn", "matplotlib.pyplot")
    with tempfile.TemporaryDirectory() as tmp:
        startup = Path(tmp) / "ipython" / "profile_default" / "startup"
        startup.mkdir(parents=True)
        (startup / "00-normaxes-bench.py").write_text(STARTUP)
        log = Path(tmp) / "imports.json"
        env = {"IPYTHONDIR": str(Path(tmp) / "ipython"), "NORMAXES_BENCH_IMPORTS": str(log)}
        for path in sorted((ROOT / "chapters").glob(pattern)):
            nb = json.loads(path.read_text())
            floor = Path(tmp) / f"floor_{path.name}"
            t_nb, t_floor = [], []
            for k in range(repeat):
                t_nb.append(nbval_seconds(path, env))
                if k == 0:  # the notebook's run recorded its imports: the floor imports them
                    imported = json.loads(log.read_text())
                    floor.write_text(json.dumps(floor_notebook(nb, imported)))
                t_floor.append(nbval_seconds(floor, env))
            r = statistics.median(t_nb) / statistics.median(t_floor)
            names = [h for h in heavy if h in imported["modules"]]
            names += [f"{e} worker" for e in imported["envs"]]
            rows.append(f"| {path.name} | {r:.2f}x | {_goal(r, GOALS['nbval'])} "
                        f"| {statistics.median(t_floor):.1f} | {', '.join(names) or '-'} |")
            print(rows[-1], file=sys.stderr, flush=True)
    print("\n".join(rows) + "\n", flush=True)


# ------------------------------------------------------------------------------------- pages
TEXT = (".html", ".js", ".css", ".svg", ".json", ".txt", ".map")


def _gzipped(html_dir: Path, rel: str, n: int) -> int:
    """What a response of *n* bytes would take from a host that gzips text (GitHub Pages does):
    the file gzipped at level 6 for text types, *n* for the rest (fonts, PNGs are compressed)."""
    import gzip

    path = html_dir / rel.split("?")[0].split("#")[0]
    if path.suffix in TEXT and path.is_file():
        return len(gzip.compress(path.read_bytes(), 6)) + max(n - path.stat().st_size, 0)
    return n


def _book_built(*builders: str) -> None:
    """Build the book with each of *builders* ("html", "singlehtml") whose output is missing."""
    from bookcheck import HTML, SINGLE

    front = {"html": HTML / "index.html", "singlehtml": SINGLE / "intro.html"}
    for builder in builders:
        if not front[builder].is_file():
            subprocess.run([str(Path(PY).parent / "jupyter-book"), "build", str(ROOT),
                            "--builder", builder, "--all"], check=True, stdout=subprocess.DEVNULL)


def bench_pages():
    _book_built("html")
    from bookcheck import HTML, chromium_path, launched, serve, toc_files

    chromium = chromium_path()
    if chromium is None:
        print("### page bytes: SKIPPED, no Chromium (apt-get install chromium)\n")
        return
    rows = ["### bytes a cold browser fetches per page (headless Chromium)", "",
            "| page | total | page HTML | images | fixed assets | largest asset | goal <= "
            f"{GOALS['page_mb']} MB | total if the host gzips text |",
            "|---|---|---|---|---|---|---|---|"]
    with launched(chromium) as browser, serve(HTML) as base:
        for doc in toc_files():
            ctx = browser.new_context(viewport={"width": 1280, "height": 800})
            page = ctx.new_page()
            cdp = ctx.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            urls, sizes = {}, {}
            cdp.on("Network.responseReceived",
                   lambda e, urls=urls: urls.__setitem__(e["requestId"], e["response"]["url"]))
            cdp.on("Network.loadingFinished",
                   lambda e, sizes=sizes: sizes.__setitem__(e["requestId"],
                                                            e["encodedDataLength"]))
            page.goto(f"{base}{doc}.html", wait_until="load")
            # the formulas come typeset: their TeX fonts are fetched once the fonts are ready
            page.evaluate("() => document.fonts.ready.then(() => true)")
            page.wait_for_load_state("networkidle")
            ctx.close()
            parts = {"html": 0, "img": 0, "fixed": 0}
            by_url, gz = {}, 0
            for rid, n in sizes.items():
                url = urls.get(rid, "")
                by_url[url] = by_url.get(url, 0) + n
                gz += _gzipped(HTML, url[len(base):], n)
                kind = ("html" if url.endswith(f"{doc}.html") else
                        "img" if "/_images/" in url else "fixed")
                parts[kind] += n
            total = sum(parts.values())
            big = max(by_url.items(), key=lambda kv: kv[1])
            if os.environ.get("BENCH_ASSETS"):  # every response of the page, largest first
                for url, n in sorted(by_url.items(), key=lambda kv: -kv[1]):
                    print(f"  {n / 1e3:8.1f} KB  {url[len(base):]}", file=sys.stderr)
            rows.append(f"| {doc} | {total / 1e6:.2f} MB | {parts['html'] / 1e3:.0f} KB "
                        f"| {parts['img'] / 1e3:.0f} KB | {parts['fixed'] / 1e6:.2f} MB "
                        f"| {big[0].split('?')[0].rsplit('/', 1)[-1]} {big[1] / 1e6:.2f} MB "
                        f"| {_ok(total <= GOALS['page_mb'] * 1e6)} | {gz / 1e6:.2f} MB |")
    print("\n".join(rows) + "\n", flush=True)


# ----------------------------------------------------------------------------------- browser
def bench_browser(repeat: int = 1):
    """The browser test run *repeat* times; the median run's figures from its own summary."""
    from bookcheck import SHOTS, chromium_path

    if chromium_path() is None:
        print("### browser test: SKIPPED, no Chromium (apt-get install chromium)\n")
        return
    _book_built("html", "singlehtml")
    runs = []
    for _ in range(repeat):
        summary = SHOTS / "summary.json"
        summary.unlink(missing_ok=True)
        t0 = time.monotonic()
        proc = subprocess.run([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               str(ROOT / "tests" / "browser")], cwd=ROOT,
                              capture_output=True, text=True)
        process_s = time.monotonic() - t0
        if proc.returncode != 0 or not summary.is_file():
            print(f"### browser test: FAILED (exit {proc.returncode})\n\n```\n"
                  + proc.stdout[-3000:] + "\n```\n", flush=True)
            return
        runs.append({**json.loads(summary.read_text()), "process_s": process_s})
    run = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]
    goal = GOALS["browser_s"]
    rows = [f"### the browser test (tests/browser; median of {len(runs)} run(s))", "",
            f"| wall | goal <= {goal} s | process wall (with pytest's start) | CPU seconds "
            "| CPU / cores (the wall's floor) | page opens | load (1 min) |",
            "|---|---|---|---|---|---|---|",
            f"| {run['wall_s']:.1f} s | {_ok(run['wall_s'] <= goal)} | {run['process_s']:.1f} s "
            f"| {run['cpu_s']:.1f} s{'' if run['orphans_counted'] else ' (orphans not counted)'} "
            f"| {run['cpu_s'] / run['cores']:.1f} s | {run['opens']} | {run['load']:.1f} |"]
    print("\n".join(rows) + "\n", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="kernels,masked,notebooks,pages,browser")
    ap.add_argument("--repeat", type=int, default=11, help="timed calls per kernel (median)")
    ap.add_argument("--nb-repeat", type=int, default=1, help="nbval runs per notebook (median)")
    ap.add_argument("--notebooks", default="*.ipynb", help="which chapters/ notebooks (a glob)")
    ap.add_argument("--browser-repeat", type=int, default=1,
                    help="runs of the browser test (the median run is reported)")
    ap.add_argument("--peak", nargs=2, metavar=("CASE", "WHICH"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.peak:
        return peak_child(args.peak[0], int(args.peak[1]))
    only = set(args.only.split(","))
    print(f"# make bench: {THREADS} threads, ratios of medians measured side by side\n",
          flush=True)
    if "kernels" in only:
        bench_kernels(list(KERNELS), args.repeat,
                      "`standardize` against the native kernel (float32, no mask)",
                      GOALS["time"], GOALS["memory"])
        bench_kernels(list(CONTEXT), args.repeat,
                      "for context: Batch Norm, whose first axis is reduced (no slices, no goal)",
                      None, None)
    if "masked" in only:
        # issue 18 sets a time goal for the masked step, none for its memory (printed for context)
        bench_kernels(["masked"], args.repeat,
                      "`MaskedBatchNorm1d` training step against plain masked torch "
                      f"{list(MASKED_SHAPE)}",
                      GOALS["masked"], None)
    if "notebooks" in only:
        bench_notebooks(args.nb_repeat, args.notebooks)
    if "pages" in only:
        bench_pages()
    if "browser" in only:
        bench_browser(args.browser_repeat)


if __name__ == "__main__":
    main()
