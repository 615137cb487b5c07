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
.PHONY: help run test lint format typecheck imports pytest lock clean docs-assets

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

# The API docs' pages (/docs, /redoc) are served from files shipped in the package, never from a CDN: Swagger
# UI's dist files and ReDoc's standalone bundle, taken from their npm packages at these versions. Refreshing
# them (a new version here, then `make docs-assets`) rewrites the files and their SHA256SUMS, which a test
# checks the shipped files against; commit both.
SWAGGER_UI_VERSION := 5.36.0
REDOC_VERSION := 2.5.4
DOCS_ASSETS := src/rustok/api/static

docs-assets:
	rm -rf .docs-assets && mkdir -p .docs-assets
	cd .docs-assets && npm pack --silent swagger-ui-dist@$(SWAGGER_UI_VERSION) redoc@$(REDOC_VERSION) >/dev/null
	tar -xzf .docs-assets/swagger-ui-dist-$(SWAGGER_UI_VERSION).tgz -C .docs-assets && mv .docs-assets/package .docs-assets/swagger-ui
	tar -xzf .docs-assets/redoc-$(REDOC_VERSION).tgz -C .docs-assets && mv .docs-assets/package .docs-assets/redoc
	mkdir -p $(DOCS_ASSETS)/swagger-ui $(DOCS_ASSETS)/redoc
	cd .docs-assets/swagger-ui && cp swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css favicon-32x32.png LICENSE NOTICE ../../$(DOCS_ASSETS)/swagger-ui/
	cd .docs-assets/redoc && cp bundles/redoc.standalone.js bundles/redoc.standalone.js.LICENSE.txt LICENSE ../../$(DOCS_ASSETS)/redoc/
	echo "swagger-ui-dist $(SWAGGER_UI_VERSION)" > $(DOCS_ASSETS)/VERSIONS
	echo "redoc $(REDOC_VERSION)" >> $(DOCS_ASSETS)/VERSIONS
	cd $(DOCS_ASSETS) && sha256sum swagger-ui/* redoc/* > SHA256SUMS
	rm -rf .docs-assets

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
