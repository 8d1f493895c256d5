"""Run a snippet of Python in another environment of the book and get NumPy arrays back.

TensorFlow 2.15 and TensorFlow Addons need ``numpy < 2``, so they cannot share the book's main
environment (``.venv``). ``make`` builds them their own virtual environment from an exact-pinned
requirements file; :func:`run_in` runs code there, in a subprocess, and returns arrays::

    from normaxes.envs import run_in

    y = run_in("tf", '''
        import tensorflow as tf
        y = tf.keras.layers.LayerNormalization()(x).numpy()
    ''', {"x": x}, "y")  # y: a NumPy array in this process

The inputs travel as an ``.npz`` file and become variables of the snippet; the names in
*returns* travel back the same way (anything ``numpy.asarray`` turns into an array without
pickling: numbers, arrays, strings). One worker process per environment is started on the first
call and reused, so that ``import tensorflow`` is paid once per session, not once per snippet;
every snippet still runs in a fresh namespace.

Where an environment is not built (Colab, Binder, a reader's own Jupyter), :func:`run_in` raises
:class:`EnvMissing`. A chapter goes on past it: the ledger's display functions print a claim that
needs it as skipped, and a notebook cell puts its TensorFlow part under :func:`needs`, which
prints one line instead of the error and lets the rest of the cell and the chapter run::

    with needs("tf"):  # without .venv-tf: prints the skip line below and goes on
        versions = run_in("tf", "import tensorflow as tf; v = tf.__version__", {}, "v")

    skipped: needs the TensorFlow environment; run `make env-tf` (about 1.3 GB)

The folder of an environment is ``.venv-tf`` in the repository unless the variable
``NORMAXES_ENV_TF`` names another one (``NORMAXES_ENV_<NAME>`` for an environment *name*): an
environment built elsewhere, or a folder that does not exist, to run a chapter as a reader
without TensorFlow does (the tests do this; nothing is deleted).
"""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Env", "ENVS", "ROOT", "EnvMissing", "SnippetError", "folder_of", "python_of",
           "available", "skip_line", "needs", "run_in", "stop"]

ROOT = Path(__file__).resolve().parents[2]  # the repository (the package is installed editable)


@dataclass(frozen=True)
class Env:
    """An extra environment: its folder (relative to the repository), the make target that builds
    it, the requirements file it is built from, what it holds, what a reader calls it and its
    size on disk (the last two for the line a chapter prints where it is missing)."""

    name: str
    folder: str
    target: str
    requirements: str
    holds: str
    called: str = ""
    size: str = ""

    @property
    def variable(self) -> str:
        """The name of the environment variable that names another folder for it
        (``NORMAXES_ENV_TF``)."""
        return f"NORMAXES_ENV_{self.name.upper()}"


ENVS = {
    "tf": Env("tf", ".venv-tf", "env-tf", "requirements-tf.txt",
              "TensorFlow 2.15 (CPU), TensorFlow Addons 0.23, numpy < 2",
              called="the TensorFlow environment", size="about 1.3 GB"),
}


class EnvMissing(RuntimeError):
    """The environment a snippet asked for has not been built (its ``env`` says which)."""

    def __init__(self, message: str, env: Env | None = None):
        super().__init__(message)
        self.env = env

    @property
    def skip_line(self) -> str:
        """The one line a chapter prints instead of this error (see :func:`skip_line`)."""
        return skip_line(self.env) if self.env is not None else f"skipped: {self}"


class SnippetError(RuntimeError):
    """The snippet raised, returned something that is not an array, or ran out of time."""


def _env(env: str | Env) -> Env:
    if isinstance(env, Env):
        return env
    if env not in ENVS:
        raise ValueError(f"env must be one of {sorted(ENVS)}, got {env!r}")
    return ENVS[env]


def folder_of(env: str | Env) -> Path:
    """The folder of *env*: the one its variable (``NORMAXES_ENV_TF``) names if it is set and not
    empty, else its folder in the repository (``.venv-tf``). Read at each call."""
    env = _env(env)
    folder = Path(os.environ.get(env.variable) or env.folder)
    return folder if folder.is_absolute() else ROOT / folder


def python_of(env: str | Env) -> Path:
    """The Python interpreter of *env* (a name in ``ENVS`` or an :class:`Env`); raises
    :class:`EnvMissing`, naming the make target that builds it, if it is not there."""
    env = _env(env)
    python = folder_of(env) / "bin" / "python"
    if not python.exists():
        named = (f" ({env.variable} names {os.environ[env.variable]!r})"
                 if os.environ.get(env.variable) else "")
        raise EnvMissing(
            f"the {env.name!r} environment ({env.holds}) is not built: {python} does not exist"
            f"{named}. Build it with `make {env.target}` in {ROOT} (from {env.requirements}); "
            "`make lab`, `make test` and `make execute` build it too", env)
    return python


def available(env: str | Env) -> bool:
    """Whether *env* is built (its Python is there), without starting anything."""
    try:
        python_of(env)
    except EnvMissing:
        return False
    return True


def skip_line(env: str | Env) -> str:
    """The line a chapter prints where it skips what needs *env*:
    ``skipped: needs the TensorFlow environment; run `make env-tf` (about 1.3 GB)``."""
    env = _env(env)
    size = f" ({env.size})" if env.size else ""
    return (f"skipped: needs {env.called or f'the {env.name!r} environment'}; "
            f"run `make {env.target}`{size}")


class needs:
    """A block of a notebook cell that needs the environment *env*: where it is not built, the
    first :func:`run_in` in the block raises :class:`EnvMissing`; ``needs`` ends the block there,
    prints :func:`skip_line` instead of the error, and the cell goes on after the block.

    Only :class:`EnvMissing` for *env* is caught: any other error (a snippet that fails, a
    missing other environment) propagates, and where *env* is built the block runs as written
    and prints nothing more. One ``needs`` object used for several blocks (in a loop) prints the
    line once. Its ``skipped`` says whether a block was cut short.
    """

    def __init__(self, env: str | Env = "tf"):
        self.env = _env(env)
        self.skipped = False

    def __enter__(self) -> needs:
        return self

    def __exit__(self, kind, err, tb) -> bool:
        if kind is None or not issubclass(kind, EnvMissing):
            return False
        if err.env is None or err.env.name != self.env.name:
            return False
        if not self.skipped:
            print(skip_line(self.env))
        self.skipped = True
        return True


# The worker, run by the environment's Python: one request per line on stdin, one answer per line
# on stdout. The snippet's own prints go to stderr, so that they cannot break the protocol.
_WORKER = textwrap.dedent("""
    import json, sys, traceback
    import numpy as np
    answer, sys.stdout = sys.stdout, sys.stderr
    for line in sys.stdin:
        request = json.loads(line)
        try:
            with np.load(request["inputs"], allow_pickle=False) as f:
                scope = {name: f[name] for name in f.files}
            exec(compile(request["code"], "<snippet>", "exec"), scope)
            missing = [n for n in request["returns"] if n not in scope]
            if missing:
                raise NameError("the snippet did not define " + ", ".join(missing))
            out = {n: np.asarray(scope[n]) for n in request["returns"]}
            bad = [n for n, a in out.items() if a.dtype == object]
            if bad:
                raise TypeError("not an array of numbers or strings: " + ", ".join(bad))
            np.savez(request["outputs"], **out)
            reply = {"ok": True}
        except BaseException:
            reply = {"ok": False, "error": traceback.format_exc(limit=-3)}
        answer.write(json.dumps(reply) + "\\n")
        answer.flush()
""")

_workers: dict[Path, subprocess.Popen] = {}


def _worker(python: Path) -> subprocess.Popen:
    proc = _workers.get(python)
    if proc is None or proc.poll() is not None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env.update(PYTHONHASHSEED="0", TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="",
                   PYTHONWARNINGS="ignore")
        # stderr (TensorFlow's start-up messages, the snippet's prints) is not shown
        proc = subprocess.Popen([str(python), "-u", "-c", _WORKER], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                env=env, cwd=tempfile.gettempdir())
        _workers[python] = proc
    return proc


def stop() -> None:
    """End every worker process this session started (also done at exit)."""
    while _workers:
        _, proc = _workers.popitem()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


atexit.register(stop)


def run_in(env: str | Env, code: str, inputs: dict | None = None, returns=(), *,
           timeout: float = 180.0):
    """Run *code* in the environment *env* and return the variables named in *returns*.

    Each entry of *inputs* (name -> array, number or string) is a variable of the snippet; each
    name in *returns* must be a variable the snippet defines, convertible by ``numpy.asarray``
    to an array of numbers or strings. *returns* is one name (the result is that array) or a
    list of names (the result is a tuple of arrays in that order). Raises :class:`EnvMissing`
    if *env* is not built, :class:`SnippetError` with the snippet's traceback if it fails,
    and :class:`SnippetError` if it does not answer within *timeout* seconds (the worker is
    then ended; the first call also pays the worker's start-up, e.g. ``import tensorflow``).
    """
    python = python_of(env)
    one = isinstance(returns, str)
    returns = [returns] if one else list(returns)
    inputs = dict(inputs or {})
    for name in [*inputs, *returns]:
        if not name.isidentifier():
            raise ValueError(f"{name!r} is not a valid variable name for the snippet")
    code = textwrap.dedent(code)
    with tempfile.TemporaryDirectory(prefix="normaxes-") as tmp:
        src, dst = Path(tmp, "inputs.npz"), Path(tmp, "outputs.npz")
        np.savez(src, **{k: np.asarray(v) for k, v in inputs.items()})
        proc = _worker(python)
        request = dict(code=code, inputs=str(src), outputs=str(dst), returns=returns)
        try:
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
        except BrokenPipeError:
            pass  # the worker died: reported below
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        line = proc.stdout.readline() if ready else ""
        if not line:  # end of file (the worker ended) or no answer in time
            _stop_one(python)
            why = (f"its worker process ended (exit code {proc.returncode})" if ready
                   else f"it did not finish within timeout={timeout} s")
            raise SnippetError(f"the snippet in the {getattr(env, 'name', env)!r} environment "
                               f"failed: {why}")
        reply = json.loads(line)
        if not reply["ok"]:
            raise SnippetError(f"the snippet in the {getattr(env, 'name', env)!r} environment "
                               f"raised:\n{reply['error']}")
        with np.load(dst, allow_pickle=False) as f:
            out = tuple(f[name] for name in returns)
    return out[0] if one else out


def _stop_one(python: Path) -> None:
    """End the worker of the environment whose interpreter is *python*, if it runs."""
    proc = _workers.pop(python, None)
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait()
