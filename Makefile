# Beffroi — the two commands a newcomer needs are `make demo` and `make test`.
# Each prepares everything it needs (virtual environment, dependencies, database) by itself.

PYTHON ?= python3
# make test spreads the suite over this many pytest workers (pytest-xdist).
TEST_WORKERS ?= 2
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help demo test test-fast lint format bench clean web generated

# The console and the public portal (TypeScript, Vite) build into the Python package, which
# serves them at / and /open/.
CONSOLE := src/beffroi/console/static/index.html
WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) web/index.html web/portal.html web/package.json \
	web/tsconfig.json web/vite.config.ts

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Beffroi needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

web/node_modules/.package-lock.json: web/package-lock.json
	@command -v npm >/dev/null || { echo "Beffroi's console needs Node.js 20+ and npm"; exit 1; }
	cd web && npm ci --no-audit --no-fund

$(CONSOLE): web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run build

web: $(CONSOLE) ## Build the operator console and the public portal (TypeScript type check, then Vite)

generated: $(STAMP) web/node_modules/.package-lock.json ## Write the console's generated types again (events, API)
	$(BIN)/python -m beffroi.events.typescript > web/src/generated/events.ts
	$(BIN)/python -m beffroi.web.openapi web/openapi.json
	cd web && npm run generate:api

demo: $(STAMP) $(CONSOLE) ## Run the whole control room on embedded defaults (SQLite, embedded broker)
	$(BIN)/beffroi demo

test: $(STAMP) $(CONSOLE) ## Run lint, type checks, the layer contracts and the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo
	$(BIN)/pytest -n $(TEST_WORKERS) --dist load --durations=25 $(PYTEST_ARGS)

test-fast: $(STAMP) $(CONSOLE) ## Run the quick tests: SQLite only, no browser, broker, faults or fuzzing
	$(BIN)/pytest -n $(TEST_WORKERS) --dist load -x -q \
		-m "not postgres and not browser and not mqtt and not faults and not slow" $(PYTEST_ARGS)

lint: $(STAMP) ## ruff, mypy and the layer contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

format: $(STAMP) ## Format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) ## Run the benchmarks (figures beside their raw baselines)
	$(BIN)/python -m bench.registry
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.commands
	$(BIN)/python -m bench.command_history
	$(BIN)/python -m bench.command_moves
	$(BIN)/python -m bench.event_hub
	$(BIN)/python -m bench.lighting
	$(BIN)/python -m bench.lighting_simulator
	$(BIN)/python -m bench.lighting_overrides
	$(BIN)/python -m bench.energy
	$(BIN)/python -m bench.alarms

clean: ## Remove the virtual environment and local state
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache var web/node_modules src/beffroi/console/static
