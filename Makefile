# The two commands a fresh machine needs:
#   make run   - set up a virtualenv, install, migrate, serve on http://127.0.0.1:8000 (SQLite in the data
#                directory, ~/.local/share/rustok by default); make run HOST=0.0.0.0 PORT=9000 for another address
#   make test  - set up a virtualenv with the dev tools, lint, type-check, check imports, run every test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONSTRAINTS := requirements/constraints.txt
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet
PYTEST_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help run test lint format typecheck imports pytest lock clean

help:
	@echo "make run    serve RusToK on http://127.0.0.1:8000 (SQLite, no other service); HOST=... PORT=... to change"
	@echo "make test   lint, type-check and run the whole test suite"
	@echo "make format apply ruff's formatting and safe fixes"
	@echo "make lock   re-pin requirements/constraints.txt after a dependency change"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "RusToK needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -c $(CONSTRAINTS) pip

# One stamp per install flavour; each is redone when the dependencies or their pins change.
$(VENV)/.installed-run: $(BIN)/python pyproject.toml $(CONSTRAINTS)
	$(PIP) install -c $(CONSTRAINTS) -e ".[postgres,redis,nats]"
	@touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml $(CONSTRAINTS)
	$(PIP) install -c $(CONSTRAINTS) -e ".[postgres,redis,nats,dev]"
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/rustok serve --host $(HOST) --port $(PORT)

test: lint typecheck imports pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

imports: $(VENV)/.installed-dev
	$(BIN)/lint-imports

pytest: $(VENV)/.installed-dev
	$(BIN)/pytest $(PYTEST_ARGS)

# Resolves the newest versions the ranges in pyproject.toml allow, in a throw-away virtualenv.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -e ".[postgres,redis,nats,dev]"
	{ sed -n '1,2p' $(CONSTRAINTS); .lock-venv/bin/python -m pip freeze --exclude-editable --all | grep -v '^setuptools=='; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
