# The two commands: `make run` (the whole stack on embedded defaults) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install bytecode run test lint pytest bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The worker's sandbox imports the workflow modules afresh for every workflow run; with
# PYTHONDONTWRITEBYTECODE set (as in the shared dev environment) nothing caches their bytecode,
# so each run compiled them from source: 10-15 ms of CPU per purchase workflow.
bytecode: install
	$(BIN)/python -m compileall -q workflows

run: bytecode
	$(BIN)/sms-addon dev

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

pytest: install
	$(BIN)/pytest

test: lint pytest

# Speed of every hot path beside its in-run reference (docs/performance.md);
# PostgreSQL too when BENCH_DATABASE_URL is set. Not part of `make test`.
bench: bytecode
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
