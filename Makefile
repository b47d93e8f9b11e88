# Entry points. `make demo` and `make test` work on a machine with only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install lock demo production test screenshots browser lint typecheck format clean jsinstall jslint jstest

install: $(STAMP)

# Every package, pip and the build tools included, comes from requirements-dev.lock, each
# pinned with its hashes (pip refuses a file whose hash is not listed). The project itself
# is then installed editable, without dependencies, built with the locked setuptools.
$(STAMP): requirements-dev.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Resolve the locks again from pyproject.toml, against PyPI alone (a local pip
# configuration's extra indexes and find-links are set aside): requirements-dev.lock with
# the dev extra, then requirements.lock (what production installs) with the same versions.
# Pins that still satisfy pyproject.toml are kept; to move them, pass pip-compile's
# options, e.g. `make lock LOCK_ARGS=--upgrade` or `LOCK_ARGS="--upgrade-package django"`.
PIP_COMPILE := env -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_FIND_LINKS \
	PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND="make lock" \
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --all-build-deps
lock: install
	$(PIP_COMPILE) $(LOCK_ARGS) --extra dev --output-file requirements-dev.lock pyproject.toml
	$(PIP_COMPILE) --constraint requirements-dev.lock --output-file requirements.lock pyproject.toml

# The embedded default: SQLite in the project folder, Celery tasks run eagerly.
demo: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	DEBUG=1 $(BIN)/python manage.py seed_demo
	@echo ""
	@echo "Serving on http://$(HOST):$(PORT)/  (citizen app: /app/, API docs: /api/docs/, admin: /admin/)"
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

# Production-like, on this machine: DEBUG=0, web (gunicorn), worker and beat from the
# Procfile under honcho, against PostgreSQL and RabbitMQ (scripts/production says which
# variables it sets; any of them can be set in the environment instead). Ctrl-C stops all.
production: install
	./scripts/production

test: install browser
	$(BIN)/python -m pytest

# Debian's Chromium for the browser tests (installed with apt-get when missing).
browser:
	./scripts/ensure-chromium

# Run the browser tests of the citizen app, the merchant console and the transparency page
# and keep their screenshots in docs/screenshots/ (the console's in docs/screenshots/console/).
screenshots: install
	./scripts/ensure-chromium fonts-noto-cjk
	SCREENSHOTS_DIR=docs/screenshots $(BIN)/python -m pytest tests/client tests/merchants/console tests/governance/test_transparency_browser.py -m browser

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Every first-party package, the tests and the benchmarks (the files and settings are in
# pyproject.toml, [tool.mypy]).
typecheck: install
	$(BIN)/mypy

# The app's JavaScript: nothing is built or bundled; Node runs only the checks. `npm ci`
# installs the dev tools pinned in package-lock.json (ESLint and its plugins) into
# node_modules/. Node and npm: Debian's `nodejs` and `npm` packages (Node 18.18 or later).
NODE_STAMP := node_modules/.installed-stamp

jsinstall: $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci
	touch $(NODE_STAMP)

# ESLint (recommended + react-hooks) over the app's own files (eslint.config.js); any
# warning fails too.
jslint: jsinstall
	node_modules/.bin/eslint --max-warnings 0 .

# The app's pure modules (money, dates, ...) under Node's own test runner: no packages.
jstest:
	node --test tests/js/*.test.mjs

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) node_modules db.sqlite3 db.sqlite3-* staticfiles .run .pytest_cache .ruff_cache .mypy_cache .hypothesis
