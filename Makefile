# ikm-sync: `make demo` and `make test` set everything up themselves, in .venv/.
# Needs only Python 3.11+ and make.

SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR := var/demo
DEMO := $(BIN)/ikm-sync --config demo/ikm-sync.toml

.PHONY: install demo test check pytest browser test-postgres bench clean lock

$(STAMP): requirements.lock pyproject.toml
	@test -n "$(PYTHON)" || { echo "ikm-sync needs Python 3.11 or newer on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: install
	BIN=$(BIN) DEMO_DIR=$(DEMO_DIR) bash demo/run.sh

# The simulators, the daemon and the console on what `make demo` left (port 8000, or
# CONSOLE_PORT); in the foreground, Ctrl-C stops all three.
console: install
	BIN=$(BIN) DEMO_DIR=$(DEMO_DIR) bash demo/console.sh

check: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

pytest: install
	$(BIN)/pytest -m "not live and not browser" --cov --cov-report=term-missing:skip-covered

# The console in a real browser (Debian's Chromium driven by Playwright; see
# tests/browser/conftest.py); said plainly, not failed, when no Chromium is found.
# The JUnit report (var/browser-junit.xml) lets CI check that they ran.
browser: install
	@rm -f var/browser-junit.xml
	@chromium="$${IKMSYNC_CHROMIUM:-$$(command -v /usr/bin/chromium chromium 2>/dev/null | head -n1)}"; \
	if [ -z "$$chromium" ] || [ ! -x "$$chromium" ]; then \
	  echo "browser tests: skipped, no Chromium found (apt-get install chromium)"; \
	else \
	  started=$$SECONDS; mkdir -p var; \
	  IKMSYNC_CHROMIUM="$$chromium" $(BIN)/pytest tests/browser -m "browser and not live" \
	    --junitxml=var/browser-junit.xml || exit $$?; \
	  echo "browser tests: ran with $$chromium in $$((SECONDS - started)) s;" \
	    "screenshots in var/screenshots/"; \
	fi

test: check pytest browser

# The tests that use the database under test (marked `db`, see tests/conftest.py), again
# against PostgreSQL (127.0.0.1:5432, database test, trust auth). PYTEST_ARGS narrows
# them (CI runs the fleet of daemons apart, on an otherwise idle machine). The browser
# tests are left to `make browser` (with IKMSYNC_TEST_DATABASE_URL set, on PostgreSQL).
test-postgres: install
	IKMSYNC_TEST_DATABASE_URL=$${IKMSYNC_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
		$(BIN)/pytest -m "db and not live and not browser" $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench.import_catalogue
	$(BIN)/python -m bench.simulators
	$(BIN)/python -m bench.connectors
	$(BIN)/python -m bench.sync
	$(BIN)/python -m bench.cycle_cost
	$(BIN)/python -m bench.startup
	$(BIN)/python -m bench.fleet
	$(BIN)/python -m bench.audit_verify

# Re-pin requirements.lock from pyproject.toml (needs network).
lock:
	rm -rf /tmp/ikm-sync-lock && $(PYTHON) -m venv /tmp/ikm-sync-lock
	/tmp/ikm-sync-lock/bin/pip install --quiet --upgrade pip
	/tmp/ikm-sync-lock/bin/pip install --quiet -e '.[dev]'
	( echo "# Pinned runtime and development dependencies; regenerate with 'make lock'."; \
	  /tmp/ikm-sync-lock/bin/pip freeze --exclude-editable | grep -v '^ikm-sync' ) > requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .coverage
