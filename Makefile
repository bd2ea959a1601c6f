# The two set-up commands: `make run` and `make test`. Each creates .venv and
# installs what it needs first. `make demo` adds demo data that runs offline.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run demo test test-fast install lint bench clean stop

$(STAMP): pyproject.toml setup.py admin_ui/package.json
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,embedded,supervisor]'
	# axe-core for the browser tests' accessibility checks (a test dependency only)
	if command -v npm >/dev/null 2>&1; then cd admin_ui && npm ci --silent --no-audit --no-fund; \
	else echo "warning: npm not found: the accessibility checks will be skipped"; fi
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m cronkeeper.devrun

# Demo customer, brands, queries and jobs on the offline sample collector, in the
# database `make run` uses (DATABASE_URL, else the embedded one). Idempotent.
demo: $(STAMP)
	$(BIN)/cronkeeper demo

# Spread over the cores (pytest-xdist): each worker has its own databases and browser.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n auto $(PYTEST_ARGS)

# Everything but the end-to-end tests marked slow: the loop to run while working.
test-fast: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -m "not slow" -n auto $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	@for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

stop: $(STAMP)
	$(BIN)/cronkeeper db stop

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
