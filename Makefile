# Two commands do everything on a fresh clone with ../shared beside it:
#   make run    set-up (venv, packages, model, corpus, index), then the web chat
#   make test   the same set-up, then every test tier (unit, pipeline, server, browser, load, eval)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
MODEL := models/multilingual-e5-small

# Nothing may call a model hub or phone home, at set-up or at run time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False
export TOKENIZERS_PARALLELISM := false

.PHONY: setup install model corpus index run test test-fast bench lint system-deps browser-deps clean

setup: install model corpus index

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first and pinned: a bare `torch` requirement would pull a multi-GB CUDA build.
	$(BIN)/pip install -q --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

model: install
	$(BIN)/assistant model prepare

corpus: install
	$(BIN)/assistant corpus fetch

index: model corpus
	$(BIN)/assistant index

run: setup
	$(BIN)/python app.py

# Debian packages the tests need: Chromium + ChromeDriver (browser tests) and the Kazakh and Russian
# hunspell word lists (the scan for ordinary words read as treaty names). Without them those tests skip
# loudly, or fail under CI=true.
SYSTEM_DEPS := chromium chromium-driver hunspell-kk hunspell-ru
system-deps:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null \
		&& [ -f /usr/share/hunspell/kk_KZ.dic ] && [ -f /usr/share/hunspell/ru_RU.dic ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_DEPS) >/dev/null) \
		|| echo "WARNING: could not install $(SYSTEM_DEPS); their tests will be skipped (and fail when CI=true)"; \
	else echo "WARNING: $(SYSTEM_DEPS) missing and not root; their tests will be skipped (and fail when CI=true)"; fi

browser-deps: system-deps

test: setup system-deps
	$(BIN)/pytest -q

test-fast: install
	$(BIN)/pytest -q tests/unit

bench: setup
	$(BIN)/python bench/run.py

lint: install
	$(BIN)/ruff check assistant tests bench app.py

clean:
	rm -rf index/gen-* index/current corpus/files
