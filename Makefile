# SayPro Insights. `make demo` and `make test` work on a fresh machine with Python 3.11 and pip
# (`make test` also installs Debian's chromium and postgresql with apt-get when missing).
# VENV may be relative or absolute: `make install VENV=/opt/saypro-venv`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(abspath $(VENV))/bin
INSTALLED := $(abspath $(VENV))/.installed
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/tests -type f 2>/dev/null) dbt_project/dbt_project.yml dbt_project/profiles.yml
export SAYPRO_DATA_DIR ?= $(CURDIR)/data
export DAGSTER_HOME ?= $(abspath $(SAYPRO_DATA_DIR))/dagster

.PHONY: install demo test test-fast test-spark lint dev dashboard bench bench-engines lock clean manifest chromium java postgres dagster-home

install: $(INSTALLED) $(MANIFEST)

$(INSTALLED): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

# Dagster reads the dbt manifest at import time; re-parse only when dbt files change. The DuckDB
# target's (no engine), in the environment of every parse (orchestration/dbt_runner.py,
# parse_environment): no PII salt (dbt would store it in target/), the warehouse by its file
# name alone, so that this parse is where the first parse of any data dir starts.
$(MANIFEST): $(INSTALLED) $(DBT_SOURCES)
	cd dbt_project && env -u SAYPRO_PII_SALT -u SAYPRO_ENGINE \
	  SAYPRO_WAREHOUSE="$$(basename "$${SAYPRO_WAREHOUSE:-warehouse.duckdb}")" \
	  $(BIN)/dbt parse --profiles-dir . --quiet
	@touch $@

manifest: $(MANIFEST)

# Headless Chromium for the report and UI screenshot tests: Debian's package (DESIGN.md s.2).
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
	  sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  echo "Installing Debian's chromium for the browser tests: $${sudo:+$$sudo }apt-get install chromium"; \
	  $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
	  || { echo "Chromium is missing and could not be installed. Install it with:" \
	            "sudo apt-get update && sudo apt-get install -y chromium" >&2; exit 1; }; }

# Java 17 for the Spark engine (PySpark starts a JVM): Debian's package when missing.
java:
	@{ [ -n "$$JAVA_HOME" ] && [ -x "$$JAVA_HOME/bin/java" ]; } || command -v java >/dev/null || { \
	  sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  echo "Installing Java 17 for Spark: $${sudo:+$$sudo }apt-get install openjdk-17-jre-headless"; \
	  $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    openjdk-17-jre-headless >/dev/null \
	  || { echo "Java 17 is missing and could not be installed. Install it with:" \
	            "sudo apt-get update && sudo apt-get install -y openjdk-17-jre-headless," \
	            "or set JAVA_HOME to a Java 17 installation" >&2; exit 1; }; }

# PostgreSQL on loopback for the test of deploy/dagster.postgres.yaml (Debian's package, a
# cluster `saypro` of its own; idempotent). The test reads these variables; set them to use
# another server.
test test-fast postgres: export DAGSTER_PG_HOST ?= 127.0.0.1
test test-fast postgres: export DAGSTER_PG_PORT ?= 55432
test test-fast postgres: export DAGSTER_PG_USER ?= saypro
test test-fast postgres: export DAGSTER_PG_PASSWORD ?= saypro-local-test
test test-fast postgres: export DAGSTER_PG_DB ?= saypro_dagster
postgres:
	@bash deploy/local-postgres.sh

# $DAGSTER_HOME with the repo's dagster.yaml, prepared as `saypro` prepares it.
dagster-home: $(INSTALLED)
	@$(BIN)/python -c 'import pathlib, orchestration.runner as r; r.prepare_dagster_home(pathlib.Path("$(SAYPRO_DATA_DIR)"))'

demo: install
	$(BIN)/saypro demo

# Every test, spread over pytest-xdist workers, one more than the cores (TEST_WORKERS=0: in this
# process): the end-to-end tests spend part of their time waiting (the vendors' retry delays,
# emulator latency, the browser), and the extra worker uses it (benchmarks/README.md, "A new data
# dir starts from the project's parse"). The tests of one session build (the demo, the sample
# warehouse) stay on one worker, other tests go by module, slow groups first (tests/grouping.py).
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
test: install chromium postgres
	$(BIN)/pytest --ignore=tests/spark -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

# The inner loop: everything but the tests marked slow (whole pipeline runs, session builds).
test-fast: install postgres
	$(BIN)/pytest --ignore=tests/spark -m "not slow" -n $(TEST_WORKERS) --dist loadgroup \
	  --no-loadscope-reorder

# The Spark engine (SAYPRO_ENGINE=spark, docs/DEPLOYMENT.md): PySpark and dbt-spark from their
# own lock (the same versions of everything else), then tests/spark, which builds the sample on
# both engines and compares every mart. Java 17 from Debian when missing (target java).
SPARK_INSTALLED := $(abspath $(VENV))/.installed-spark
$(SPARK_INSTALLED): $(INSTALLED) requirements-spark.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-spark.lock
	@touch $@

test-spark: install java $(SPARK_INSTALLED)
	$(BIN)/pytest tests/spark

lint: install dagster-home
	$(BIN)/ruff check .
	$(BIN)/dagster definitions validate -m orchestration.definitions

# The Dagster UI (http://127.0.0.1:3000) in the foreground and the dashboard
# (http://127.0.0.1:8501) beside it; when the UI stops (Ctrl-C), the dashboard stops too.
dev: install
	@$(BIN)/saypro dashboard & dashboard=$$!; \
	trap 'kill $$dashboard 2>/dev/null; wait $$dashboard 2>/dev/null' EXIT; \
	$(BIN)/saypro ui

# The dashboard alone, reading $(SAYPRO_DATA_DIR)/exports (SAYPRO_DASHBOARD_HOST/PORT override).
dashboard: install
	$(BIN)/saypro dashboard

BENCH_SCALES ?= 1,10
bench: install
	$(BIN)/python -m benchmarks.run --scales $(BENCH_SCALES)

# The dbt transform on DuckDB and on Spark side by side (benchmarks/README.md, "Engines"): the
# sample is generated, pulled and built first; with that done by `make bench`, set
# BENCH_ENGINE_STAGES=dbt_transform,spark_transform to measure only the two.
BENCH_ENGINE_SCALES ?= 1,10
BENCH_ENGINE_STAGES ?= generate,pull,validate,dbt_full,dbt_transform,spark_transform
bench-engines: install java $(SPARK_INSTALLED)
	$(BIN)/python -m benchmarks.run --scales $(BENCH_ENGINE_SCALES) --stages $(BENCH_ENGINE_STAGES)

# Regenerate the lock after changing dependencies in pyproject.toml.
lock:
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra postgres --python-version 3.11 --no-header -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra spark -c requirements.lock --python-version 3.11 --no-header -o requirements-spark.lock

clean:
	rm -rf $(SAYPRO_DATA_DIR) dbt_project/target test-artefacts
