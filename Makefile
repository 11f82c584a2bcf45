# The README's two set-up commands, `make demo` and `make test`, and what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint dev clean

# One stamp per install, redone when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "taxi-assets needs Python 3.11+; set PYTHON=python3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

demo: $(VENV)/.installed  ## a synthetic month through every asset on the embedded defaults
	$(BIN)/taxi-demo

test: $(VENV)/.installed  ## the whole test suite
	$(BIN)/pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

dev: $(VENV)/.installed  ## the Dagster UI on the demo's data
	$(BIN)/taxi-demo --ui

clean:
	rm -rf data
