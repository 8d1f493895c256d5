# normaxes: `make book` builds the HTML book, `make test` runs every check. Both start from nothing.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard chapters/*.ipynb))
# Keras 3 runs on PyTorch in this book; the helper package sets this too.
export KERAS_BACKEND := torch
export PYTHONHASHSEED := 0
# nbval must pass with 1 and with 2 threads; `make test` uses THREADS, `make test-threads` both.
THREADS ?= 2

.PHONY: help install book test test-unit test-notebooks test-threads build-strict execute clean

help:
	@echo "make book            build the HTML book into _build/html"
	@echo "make test            unit tests, nbval (strict) over every chapter, strict book build"
	@echo "make test-threads    nbval with OMP_NUM_THREADS=1 and with OMP_NUM_THREADS=2"
	@echo "make execute         re-execute every chapter in place (for authors)"
	@echo "make clean           remove _build (keeps .venv)"

$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@# build matplotlib's font cache now, so that no notebook prints the notice to stderr
	$(PY) -c "import matplotlib.pyplot"
	@touch $(STAMP)

install: $(STAMP)

book: install
	$(VENV)/bin/jupyter-book build . --all
	@echo "The book: $(abspath _build/html/index.html)"

test-unit: install
	MPLBACKEND=Agg $(PY) -m pytest -q tests

test-notebooks: install
	OMP_NUM_THREADS=$(THREADS) $(PY) -m pytest -q --nbval --nbval-current-env \
	  --nbval-sanitize-with tests/nbval_sanitize.cfg $(NOTEBOOKS)

test-threads: install
	$(MAKE) test-notebooks THREADS=1
	$(MAKE) test-notebooks THREADS=2

build-strict: install
	$(VENV)/bin/jupyter-book build . --all -W -n --keep-going

test: test-unit test-notebooks build-strict
	@echo "make test: all checks passed"

execute: install
	OMP_NUM_THREADS=1 $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.record_timing=False --ExecutePreprocessor.timeout=600 $(NOTEBOOKS)

clean:
	rm -rf _build
