# SayPro Insights. `make demo` and `make test` work on a fresh machine with Python 3.11 and pip.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/tests -type f 2>/dev/null) dbt_project/dbt_project.yml dbt_project/profiles.yml
export SAYPRO_DATA_DIR ?= $(CURDIR)/data
export DAGSTER_HOME ?= $(SAYPRO_DATA_DIR)/dagster

.PHONY: install demo test lint dev bench lock clean manifest

install: $(INSTALLED) $(MANIFEST)

$(INSTALLED): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

# Dagster reads the dbt manifest at import time; re-parse only when dbt files change.
$(MANIFEST): $(INSTALLED) $(DBT_SOURCES)
	cd dbt_project && SAYPRO_PII_SALT=$${SAYPRO_PII_SALT:-parse-only} ../$(BIN)/dbt parse --profiles-dir . --quiet
	@touch $@

manifest: $(MANIFEST)

demo: install
	$(BIN)/saypro demo

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/dagster definitions validate -m orchestration.definitions

dev: install
	$(BIN)/saypro ui

BENCH_SCALES ?= 1,10
bench: install
	$(BIN)/python -m benchmarks.run --scales $(BENCH_SCALES)

# Regenerate the lock after changing dependencies in pyproject.toml.
lock:
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header -o requirements.lock

clean:
	rm -rf $(SAYPRO_DATA_DIR) dbt_project/target test-artefacts
