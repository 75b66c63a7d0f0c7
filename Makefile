# Beffroi — the two commands a newcomer needs are `make demo` and `make test`.
# Each prepares everything it needs (virtual environment, dependencies, database) by itself.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help demo test test-fast lint format bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Beffroi needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP) ## Run the whole control room on embedded defaults (SQLite, embedded broker)
	$(BIN)/beffroi demo

test: $(STAMP) ## Run lint, type checks and the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: $(STAMP) ## Run the test suite only
	$(BIN)/pytest -x -q $(PYTEST_ARGS)

lint: $(STAMP) ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP) ## Format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) ## Run the benchmarks (figures beside their raw baselines)
	$(BIN)/python -m bench.registry
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.commands
	$(BIN)/python -m bench.alarms

clean: ## Remove the virtual environment and local state
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache var
