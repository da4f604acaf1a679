# Two commands for a newcomer: `make run` and `make test`. Both build .venv from scratch if needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install op-install action-test run test lint format docs bench bench-smoke screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[server,test]'
	touch $(STAMP)

# The benchmark's extra (matplotlib, for its chart): never needed by the app.
BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

# The third-party OpenID Provider the login tests run against (reinstalled when its lock changes).
OP_DIR := tests/oidc_provider
OP_STAMP := $(OP_DIR)/node_modules/.installed

$(OP_STAMP): $(OP_DIR)/package-lock.json
	npm ci --prefix $(OP_DIR) --no-audit --no-fund
	touch $(OP_STAMP)

# Without npm (outside CI) the OpenID Provider tests skip, saying so; the rest of `make test` runs.
op-install:
	@if command -v npm >/dev/null 2>&1 || [ "$$CI" = true ]; then $(MAKE) --no-print-directory $(OP_STAMP); \
	else echo "npm not installed: the OpenID Provider tests will skip (install Node.js 20+ with npm)"; fi

install: $(STAMP)

## Serve http://127.0.0.1:5000 on the development tenant (or on AUTH0_DOMAIN when set).
run: $(STAMP)
	$(BIN)/python scripts/run_dev.py

## Lint, every phase of the benchmark for a moment (so a change that breaks it fails here), then
## every test: unit, integration over HTTP, and browser tests in Chromium.
test: $(STAMP) op-install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) bench-smoke
	$(MAKE) --no-print-directory action-test
	$(BIN)/pytest

# The post-login Action's unit tests (Node's own test runner). The files are named, not the
# directory: Node 21+ no longer searches a directory given to --test. Without node (outside CI)
# they skip, saying so; pytest runs them too (tests/test_action_unit.py).
action-test:
	@if command -v node >/dev/null 2>&1 || [ "$$CI" = true ]; then node --test tests/action/*.test.js; \
	else echo "node not installed: the Action's unit tests (tests/action) skip (install Node.js 18+)"; fi

lint: $(STAMP)
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## The documentation site (docs/*.md, Sphinx with MyST) in docs/_build/html; a warning fails it.
docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

## Regenerate the README's pictures (docs/screenshots/*.png) in Chromium.
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) instance test-results .pytest_cache .ruff_cache

## Load the app under gunicorn (Redis sessions) against the dev tenant, with floors from the same
## run; write the figures to docs/benchmark.json and draw docs/benchmark.png. Then one person
## hammering the page while others sign in, before the fix and after (docs/hammer.md).
bench: $(BENCH_STAMP)
	$(BIN)/python scripts/bench.py --redis --json docs/benchmark.json --chart docs/benchmark.png $(BENCH_ARGS)
	$(BIN)/python scripts/bench_hammer.py

## Every phase of the benchmark for a second, targets not enforced (part of `make test`). Without
## wrk or redis-server it says what to install and skips, unless CI=true.
bench-smoke: $(BENCH_STAMP)
	$(BIN)/python scripts/bench.py --redis --smoke

## Translations (gettext domain `linked_accounts`): extract the strings into the .pot, merge them
## into each locale's .po (then translate what is new or fuzzy), and compile the .mo files that ship.
TRANSLATIONS := linked_accounts/translations
POT := $(TRANSLATIONS)/linked_accounts.pot

.PHONY: translations-extract translations-update translations-compile

translations-extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k la_ -k la_n:1,2 \
		--project=linked-accounts --copyright-holder="the linked-accounts authors" \
		--sort-by-file -o $(POT) .

translations-update: translations-extract
	$(BIN)/pybabel update -i $(POT) -d $(TRANSLATIONS) -D linked_accounts --ignore-obsolete

translations-compile: $(STAMP)
	$(BIN)/pybabel compile -d $(TRANSLATIONS) -D linked_accounts --statistics
