# Two commands for a newcomer: `make site` (set up and build) and `make test` (set up and run every test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: site test check lint serve bench audit calibrate schema fmt clean browser-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Compiled once here, where Python may be told not to write bytecode (PYTHONDONTWRITEBYTECODE): otherwise every
# build compiles the package again (a tenth of a second of a one-second rebuild). Redone when a source file changes.
COMPILED := $(VENV)/.compiled
$(COMPILED): $(STAMP) $(shell find site_builder -name '*.py')
	$(BIN)/python -m compileall -q site_builder
	touch $@

site: $(STAMP) $(COMPILED)
	$(BIN)/site-builder build --catalog catalog --out _site

check: $(STAMP) $(COMPILED)
	$(BIN)/site-builder check --strict

# Browser tests drive Debian's chromium through Playwright, and inject axe-core from the npm registry.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium) \
	  || echo "warning: could not install chromium; browser tests will be skipped"
	@test -f node_modules/axe-core/axe.min.js || npm install --no-save --silent axe-core@4 \
	  || echo "warning: could not install axe-core"

test: $(DEV_STAMP) browser-deps
	$(BIN)/python -m pytest -q

lint: $(DEV_STAMP)
	$(BIN)/ruff check site_builder tests
	$(BIN)/ruff format --check site_builder tests
	$(BIN)/mypy

serve: $(STAMP) $(COMPILED)
	$(BIN)/site-builder serve --catalog catalog --out _site

# A clean build of 2,000 synthetic models x 60 GPUs (engine cache empty), then the same catalog into a new folder with
# the engine's results cached: pages per second, peak memory and page weights of each.
bench: $(STAMP)
	$(BIN)/python -m site_builder.bench --warm

# Lighthouse (mobile) on both seed model pages, the index and a GPU page; fails below performance 95,
# accessibility, best practices and SEO 100. The pinned Lighthouse goes into node_modules (axe-core is
# installed alongside, since npm prunes packages a --no-save install does not name).
LIGHTHOUSE_VERSION := 12.8.2
audit: $(STAMP)
	@test "$$(node -p "require('./node_modules/lighthouse/package.json').version" 2>/dev/null)" = "$(LIGHTHOUSE_VERSION)" \
	  || npm install --no-save --no-audit --no-fund --silent lighthouse@$(LIGHTHOUSE_VERSION) axe-core@4
	CHROME_PATH=$${CHROME_PATH:-/usr/bin/chromium} $(BIN)/python -m site_builder.audit

calibrate: $(STAMP)
	$(BIN)/site-builder calibrate --catalog catalog

schema: $(STAMP)
	$(BIN)/site-builder schema --out catalog/schema

fmt: $(STAMP)
	$(BIN)/site-builder fmt --catalog catalog

clean:
	rm -rf _site .pytest_cache .mypy_cache .ruff_cache .cache
