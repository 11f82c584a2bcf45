# The README's two set-up commands, `make demo` and `make test`, and what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# Memory settings of every process the project starts, as the image sets them (Dockerfile says why).
export ARROW_DEFAULT_MEMORY_POOL := jemalloc
export JE_ARROW_MALLOC_CONF := oversize_threshold:0,dirty_decay_ms:0,muzzy_decay_ms:0
export MALLOC_ARENA_MAX := 2
export MALLOC_MMAP_THRESHOLD_ := 131072

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
