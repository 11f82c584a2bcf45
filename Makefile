# The README's two set-up commands, `make demo` and `make test`, and what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# Memory settings of every process the project starts, as the image sets them (Dockerfile says why).
export ARROW_DEFAULT_MEMORY_POOL := jemalloc
export JE_ARROW_MALLOC_CONF := oversize_threshold:0,dirty_decay_ms:0,muzzy_decay_ms:0
export MALLOC_ARENA_MAX := 2
export MALLOC_MMAP_THRESHOLD_ := 131072

.PHONY: demo test lint checkov dev clean

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

# Static analysis of terraform/ (docs/google-cloud.md). checkov gets a venv of its own:
# it brings some 60 libraries and would move the project's own (packaging back to 23.2, for one).
CHECKOV_VENV ?= .venv-checkov
$(CHECKOV_VENV)/.installed:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet 'checkov==3.3.30'
	@touch $@

# Every finding is fixed or skipped in the .tf file with its reason; --skip-download keeps checkov
# off Prisma Cloud's API (it only adds links to its guidelines).
checkov: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/checkov -d terraform --framework terraform --compact --quiet --skip-download

dev: $(VENV)/.installed  ## the Dagster UI on the demo's data
	$(BIN)/taxi-demo --ui

clean:
	rm -rf data
