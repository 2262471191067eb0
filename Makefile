# Quick start: `make demo` (set up, grade the bundled example submissions) and
# `make test` (set up, lint, type-check, run the tests). Both work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: setup demo test test-fast lint bench translations clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[run,dev]'
	touch $@

# grade the bundled example submissions: execute each in the smoke profile on the
# synthetic CIFAR-like data (no network), then write reports, dashboard and gradebook
demo: setup
	$(BIN)/grader batch submissions/ --roster submissions/roster.csv --profile smoke \
		--workers 2 --out reports/demo
	@echo "Open reports/demo/index.html (the class dashboard) in a browser."

lint: setup
	$(BIN)/ruff check grader tests bench
	$(BIN)/ruff format --check grader tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: lint
	$(BIN)/pytest -m 'not slow' $(PYTEST_ARGS)

# after changing a message: extract the marked texts, merge them into the Czech catalog
# (translate what is new in grader/locale/cs/LC_MESSAGES/grader.po), compile it
translations: setup
	$(BIN)/pybabel --quiet extract -F grader/locale/babel.cfg -o grader/locale/grader.pot \
		--project hw-grader --no-wrap --sort-by-file .
	$(BIN)/pybabel --quiet update -i grader/locale/grader.pot -d grader/locale -D grader \
		--no-wrap --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile --statistics -d grader/locale -D grader
	rm grader/locale/grader.pot

bench: setup
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
