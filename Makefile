# Quick start: `make demo` (set up, grade the bundled example submissions) and
# `make test` (set up, lint, type-check, run the tests). Both work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: setup demo test test-fast lint bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[run,dev]'
	touch $@

demo: setup
	-$(BIN)/grader check submissions/

lint: setup
	$(BIN)/ruff check grader tests bench
	$(BIN)/ruff format --check grader tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: lint
	$(BIN)/pytest -m 'not slow' $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/bench_check.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
