"""Binder's configuration (binder/) agrees with the pins `make install` uses.

Binder and Colab need network access that this repository's CI does not have, so nothing here
builds a Binder image; the test checks what can be checked offline: Binder installs exactly the
pinned requirements (the same files, the same constraints, the same Python), then normaxes
without dependencies and the python3 kernel, as the Makefile does.
"""

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;#]+)")


def _lines(path: Path):
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("--") else raw.strip()
        if line:
            yield line


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path, seen=None) -> dict[str, str]:
    """Every name==version of a requirements file, following -r and -c."""
    seen = seen if seen is not None else set()
    pins: dict[str, str] = {}
    if path in seen:
        return pins
    seen.add(path)
    for line in _lines(path):
        if line.startswith(("-r ", "-c ")):
            pins.update(_pins((path.parent / line[3:].strip()).resolve(), seen))
        elif not line.startswith("--"):
            m = PIN.match(line)
            assert m, f"{path.name}: {line!r} is not pinned with =="
            pins[_norm(m.group(1))] = m.group(2)
    return pins


def test_binder_installs_the_books_requirements_and_constraints():
    refs = [ln for ln in _lines(BINDER / "requirements.txt") if ln.startswith(("-r", "-c"))]
    assert refs == ["-r ../requirements.txt", "-r ../requirements-lab.txt", "-c ../constraints.txt"]
    others = [ln for ln in _lines(BINDER / "requirements.txt")
              if not ln.startswith(("-r", "-c", "--extra-index-url"))]
    assert not others, f"binder/requirements.txt pins packages of its own: {others}"


def test_every_pin_agrees_with_constraints():
    constraints = _pins(ROOT / "constraints.txt")
    for name in ("requirements.txt", "requirements-dev.txt", "requirements-lab.txt"):
        for pkg, version in _pins(ROOT / name, seen={ROOT / "constraints.txt"}).items():
            assert constraints.get(pkg) == version, (
                f"{name} pins {pkg}=={version}, constraints.txt {constraints.get(pkg)}")
    binder = _pins(BINDER / "requirements.txt")
    assert binder["torch"] == constraints["torch"] == "2.13.0"
    assert "jupyterlab" in binder and binder["jupyterlab"] == constraints["jupyterlab"]


def test_constraints_pin_each_package_once():
    names = [_norm(PIN.match(ln).group(1)) for ln in _lines(ROOT / "constraints.txt")]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_binder_python_is_the_books():
    runtime = (BINDER / "runtime.txt").read_text().strip()
    assert runtime == "python-3.11"
    assert 'requires-python = ">=3.11"' in (ROOT / "pyproject.toml").read_text()


def test_post_build_installs_normaxes_and_the_kernel_like_make_install():
    post = (BINDER / "postBuild").read_text()
    assert os.access(BINDER / "postBuild", os.X_OK) and post.startswith("#!/bin/bash")
    assert "pip install --no-deps -e ." in post
    assert "ipykernel install --sys-prefix --name python3" in post
    make = (ROOT / "Makefile").read_text()
    assert "--no-deps -e ." in make and "ipykernel install --sys-prefix --name python3" in make
    start = (BINDER / "start").read_text()
    assert os.access(BINDER / "start", os.X_OK) and 'exec "$@"' in start
    assert "KERAS_BACKEND=torch" in start


def test_binders_python_can_build_the_tensorflow_environment():
    """Binder does not build .venv-tf (the README says so and why); its Python is one that
    TensorFlow 2.15 and TF-Addons ship wheels for, so `make env-tf` can build it there."""
    from normaxes import envs

    post = (BINDER / "postBuild").read_text()
    assert "requirements-tf" not in post and ".venv-tf" not in post
    if not envs.available("tf"):
        import pytest
        pytest.skip("no .venv-tf to read the wheels' metadata from (make env-tf)")
    python = (BINDER / "runtime.txt").read_text().strip().removeprefix("python-")
    site = next(envs.folder_of("tf").glob("lib/python3*/site-packages"))
    for dist in ("tensorflow_cpu", "tensorflow_addons"):
        version = _pins(ROOT / "requirements-tf.txt")[dist.replace("_", "-")]
        meta = (site / f"{dist}-{version}.dist-info" / "METADATA").read_text()
        assert f"Programming Language :: Python :: {python}\n" in meta, (dist, python)


def test_the_install_cell_installs_normaxes_from_the_books_repository_and_nothing_else():
    """The chapters' first cell (Colab) installs normaxes from the repository the launch buttons
    name, and normaxes declares no dependencies: it never moves a pinned package."""
    import tomllib

    import yaml

    from normaxes.book import firstcell

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert firstcell.REPOSITORY == config["repository"]["url"]
    assert f'"normaxes @ git+{firstcell.REPOSITORY}"' in firstcell.SOURCE
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "dependencies" not in project and "optional-dependencies" not in project
