# Two commands a newcomer needs: `make run` and `make test`. Nothing but Python 3.11+ is required.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PY_PACKAGES := config server miniprogram_api core audit accounts voting notices complaints wechat photos

.PHONY: run test lint migrate bench install typecheck contracts pytest clean

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

# One pytest process per backend: Tortoise cannot switch databases inside one process.
pytest: $(STAMP)
	env -u TEST_DATABASE_URL -u TEST_REDIS_URL $(BIN)/python -m pytest -q
	@if [ -n "$$TEST_DATABASE_URL" ] || [ -n "$$TEST_REDIS_URL" ]; then \
		echo "== again against $$TEST_DATABASE_URL / $$TEST_REDIS_URL =="; \
		$(BIN)/python -m pytest -q; \
	fi

test: lint pytest

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var/*.sqlite3* .pytest_cache .mypy_cache .ruff_cache
