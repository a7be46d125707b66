# Two commands a newcomer needs: `make run` and `make test`. Nothing but Python 3.11+ is required.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
FUZZ_EXAMPLES ?= 5
PY_PACKAGES := config server miniprogram_api core audit accounts voting notices complaints wechat photos payments notify bookings fund ratings supervision console

.PHONY: run test lint migrate bench install typecheck contracts pytest fuzz clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m server migrate
	$(BIN)/python -m server seed-demo --if-empty
	$(BIN)/python -m server serve

migrate: $(STAMP)
	$(BIN)/python -m server migrate

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(PY_PACKAGES)
	$(BIN)/lint-imports

# Both backends side by side, each spread over xdist workers (tools/run_suites.sh says how).
pytest: $(STAMP)
	BIN=$(BIN) tools/run_suites.sh

# Schemathesis over the OpenAPI document, logged in as committee and supervisor: no 5xx anywhere.
fuzz: $(STAMP)
	$(BIN)/python -m tools.fuzz_api --examples $(FUZZ_EXAMPLES)

test: lint pytest fuzz

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var/*.sqlite3* .pytest_cache .mypy_cache .ruff_cache
