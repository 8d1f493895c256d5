# normaxes: `make book` builds the HTML book, `make test` runs every check. Both start from nothing.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# TensorFlow 2.15 and TF-Addons need numpy < 2: their own environment (normaxes.envs runs code there)
VENV_TF ?= .venv-tf
TF_STAMP := $(VENV_TF)/.installed
NOTEBOOKS := $(sort $(wildcard chapters/*.ipynb))
# Keras 3 runs on PyTorch in this book; the helper package sets this too.
export KERAS_BACKEND := torch
export PYTHONHASHSEED := 0
# nbval must pass with 1 and with 2 threads and on PyTorch's non-vectorised CPU path
# (ATEN_CPU_CAPABILITY=default, as on an older CPU): `make test` runs THREADS and the default
# path, `make test-threads` all three.
THREADS ?= 2
# The browser test needs Debian's chromium (.ci/run installs it). Without it, `make test` skips the
# browser test and says so, unless BROWSER_REQUIRED=1; `make test-browser` always fails without it.
CHROMIUM ?= $(shell command -v chromium 2>/dev/null)
BROWSER_REQUIRED ?= 0
NO_CHROMIUM := no Chromium on this machine (install Debian's package: apt-get install chromium)

.PHONY: help install lint book book-single test test-unit test-notebooks test-notebooks-default \
	test-threads build-strict test-browser execute clean env-tf pdf print-pdf lab bench

help:
	@echo "make book            build the HTML book into _build/html"
	@echo "make book-single     build the whole book as one HTML page into _build/singlehtml"
	@echo "make test            unit tests, nbval (strict) over every chapter, strict book build,"
	@echo "                     and the browser test over every page (when Chromium is installed)"
	@echo "make lint            ruff over src/, tests/ and bench/ (the first step of make test)"
	@echo "make test-browser    strict book build, then every page in headless Chromium"
	@echo "make pdf             the single-page book printed by headless Chromium: _build/pdf/normaxes.pdf"
	@echo "make test-threads    nbval with OMP_NUM_THREADS=1, with =2, and with ATEN_CPU_CAPABILITY=default"
	@echo "make execute         re-execute every chapter in place (for authors)"
	@echo "make lab             open the chapters in JupyterLab (pinned, in .venv, kernel python3;"
	@echo "                     builds .venv and .venv-tf first if they are not there)"
	@echo "make bench           the benchmark: ratios to the native kernels, nbval, page bytes,"
	@echo "                     and the browser test's wall time (BENCH_ARGS=--only browser)"
	@echo "make env-tf          build .venv-tf (TensorFlow 2.15, TF-Addons; lab, test and execute build it)"
	@echo "make clean           remove _build (keeps .venv)"

$(STAMP): requirements.txt requirements-dev.txt requirements-lab.txt constraints.txt pyproject.toml
	@echo "make: installing the book's environment $(VENV) (PyTorch, Keras, JAX and Flax, JupyterLab,"
	@echo "      the test tools; exact pins): a few minutes the first time, pip prints nothing meanwhile"
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@# the kernel the notebooks name (python3), as this .venv's Python, for `make lab`
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null
	@# build matplotlib's font cache now, so that no notebook prints the notice to stderr
	$(PY) -c "import matplotlib.pyplot"
	@touch $(STAMP)
	@echo "make: $(VENV) is ready"

install: $(STAMP)

# every package of the tree is pinned in requirements-tf.txt: pip installs exactly those, resolves
# nothing, and `pip check` confirms that the tree is complete
$(TF_STAMP): requirements-tf.txt
	@echo "make: building the TensorFlow environment $(VENV_TF) (TensorFlow 2.15 and TF-Addons 0.23, for"
	@echo "      the claims that run them): about 1.3 GB and 4 to 5 minutes on two cores, most of it"
	@echo "      unpacking; pip prints nothing meanwhile"
	@test -x $(VENV_TF)/bin/python || python3 -m venv $(VENV_TF)
	$(VENV_TF)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
	  -r requirements-tf.txt
	$(VENV_TF)/bin/python -m pip check
	@touch $(TF_STAMP)
	@echo "make: $(VENV_TF) is ready"

env-tf: $(TF_STAMP)

book: install
	$(VENV)/bin/jupyter-book build . --all
	@echo "The book: $(abspath _build/html/index.html)"

book-single: install
	$(VENV)/bin/jupyter-book build . --builder singlehtml --all
	@echo "The single-page book: $(abspath _build/singlehtml/intro.html)"

lint: install
	$(VENV)/bin/ruff check src tests bench

test-unit: install env-tf
	MPLBACKEND=Agg $(PY) -m pytest -q tests --ignore=tests/browser
	@# the ledger again on PyTorch's non-vectorised CPU path: every claim holds there too, with
	@# the same margin to the edge of what it prints; and standardize in slices gives the bits
	@# of the whole tensor there too
	ATEN_CPU_CAPABILITY=default $(PY) -m pytest -q tests/test_ledger.py tests/test_core.py -k "ledger or claim or slice"

test-notebooks: install env-tf
	OMP_NUM_THREADS=$(THREADS) $(PY) -m pytest -q -n 2 --dist loadfile --nbval --nbval-current-env \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg $(NOTEBOOKS)

test-notebooks-default: install env-tf
	ATEN_CPU_CAPABILITY=default $(MAKE) test-notebooks THREADS=1

test-threads: install env-tf
	$(MAKE) test-notebooks THREADS=1
	$(MAKE) test-notebooks THREADS=2
	$(MAKE) test-notebooks-default

build-strict: install
	$(VENV)/bin/jupyter-book build . --all -W -n --keep-going
	$(VENV)/bin/jupyter-book build . --builder singlehtml --all -W -n --keep-going

# the PDF is printed from the single-page build that is already there. make test and
# make test-browser build each builder once, and do not run this: the browser test opens the
# single page once, checks it and prints the PDF from that same page (normaxes.book.pdf)
print-pdf: install
	@if [ -z "$(CHROMIUM)" ]; then echo "make pdf: FAILED: $(NO_CHROMIUM)"; exit 1; fi
	$(PY) -m normaxes.book.pdf

pdf: book-single print-pdf

test-browser: build-strict
	@if [ -z "$(CHROMIUM)" ]; then echo "make test-browser: FAILED: $(NO_CHROMIUM)"; exit 1; fi
	$(PY) -m pytest -q tests/browser
	@echo "Screenshots and contact sheet: $(abspath _build/screenshots)"

test: lint test-unit test-notebooks test-notebooks-default build-strict
	@if [ -n "$(CHROMIUM)" ]; then \
	  $(PY) -m pytest -q tests/browser && \
	  echo "Screenshots and contact sheet: $(abspath _build/screenshots)"; \
	elif [ "$(BROWSER_REQUIRED)" = 1 ]; then \
	  echo "make test: FAILED: the browser test is required but $(NO_CHROMIUM)"; exit 1; \
	else \
	  echo "make test: SKIPPED the browser test (tests/browser): $(NO_CHROMIUM)"; \
	fi
	@echo "make test: all checks passed"

execute: install env-tf
	OMP_NUM_THREADS=1 $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.record_timing=False --ExecutePreprocessor.timeout=600 $(NOTEBOOKS)

clean:
	rm -rf _build

# JupyterLab on the book's notebooks, from the same .venv (requirements-lab.txt): each chapter
# runs in the kernel its metadata names (python3 = this .venv) and reproduces its stored outputs.
# It builds both environments first (each only once: a stamp newer than its requirements file
# skips it), so that 'Run all' measures every claim, those that need TensorFlow included.
LAB_PORT ?= 8888
lab: install env-tf
	@echo "make lab: JupyterLab at http://127.0.0.1:$(LAB_PORT)/lab (the URL with its token follows)"
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(LAB_PORT) \
	  --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/chapters \
	  $(if $(filter 0,$(shell id -u)),--allow-root)

# Not part of `make test`: timings need a quiet machine. Prints ratios measured side by side.
bench: install
	$(PY) bench/bench.py $(BENCH_ARGS)
