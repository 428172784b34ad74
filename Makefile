# The two commands a fresh machine needs: `make demo` and `make test`.
# Both create (or refresh) the virtual environment in .venv and install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_STAMP := $(VENV)/.installed-demo-stamp

.PHONY: demo serve test test-install lint typecheck unit install clean bench system-deps

# Everything (tests, RL, benchmarks). The demo needs less: its own, faster install.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[forecast,rl,test]'
	touch $(STAMP) $(DEMO_STAMP)

$(DEMO_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[forecast]'
	touch $(DEMO_STAMP)

install: $(STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/echelon demo

# The workspace over the demo run (after `make demo`): http://127.0.0.1:8000/
serve: $(DEMO_STAMP)
	$(BIN)/echelon serve --demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# Chromium (report test) and PostgreSQL (storage tests) come from apt when missing.
system-deps:
	bash scripts/system_deps.sh

# The storage tests run against SQLite and a throwaway PostgreSQL server started here.
unit: $(STAMP) system-deps
	@set -e; url=$$(bash scripts/postgres.sh start); \
	trap 'bash scripts/postgres.sh stop >/dev/null 2>&1 || true' EXIT; \
	ECHELON_TEST_PG_URL="$$url" $(BIN)/python -m pytest -q -m "not install"

# A fresh venv with `pip install .` (no extras) from the registry runs `echelon plan` (minutes).
test-install: $(STAMP)
	$(BIN)/python -m pytest -q -m install tests/cli/test_install.py

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/simulate.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
