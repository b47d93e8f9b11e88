# Entry points. `make demo` and `make test` work on a machine with only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo test screenshots browser lint format clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The embedded default: SQLite in the project folder, Celery tasks run eagerly.
demo: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	DEBUG=1 $(BIN)/python manage.py seed_demo
	@echo ""
	@echo "Serving on http://$(HOST):$(PORT)/  (citizen app: /app/, API docs: /api/docs/, admin: /admin/)"
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install browser
	$(BIN)/python -m pytest

# Debian's Chromium for the browser tests (installed with apt-get when missing).
browser:
	./scripts/ensure-chromium

# Run the app's browser tests and keep their phone-size screenshots in docs/screenshots/.
screenshots: install
	./scripts/ensure-chromium fonts-noto-cjk
	SCREENSHOTS_DIR=docs/screenshots $(BIN)/python -m pytest tests/client -m browser

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles .pytest_cache .ruff_cache .hypothesis
