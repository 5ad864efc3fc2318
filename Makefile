# tierwise: the two commands a new user needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export TIERWISE_HOME ?= $(CURDIR)/.tierwise

.PHONY: help prereqs install jars demo test test-faults test-fast lint audit ui dashboard bench down clean

help:
	@echo "make demo   - install, start the local Kafka broker, simulate a month of LLM traffic, land it, build the marts, print spend"
	@echo "make test   - install, lint (ruff, format, import layers), then the whole test suite (integration tests start their own broker)"
	@echo "make ui     - the Dagster UI on http://127.0.0.1:3000 for this TIERWISE_HOME"
	@echo "make dashboard - the FinOps dashboard on http://127.0.0.1:8050 (after make demo)"
	@echo "make down   - stop the local broker of this TIERWISE_HOME"

prereqs:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null || \
		{ echo "tierwise needs Python 3.11+ as '$(PYTHON)' (set PYTHON=/path/to/python3.11)"; exit 1; }
	@command -v java >/dev/null 2>&1 || \
		{ echo "tierwise needs Java 17+ for the local Kafka broker (e.g. apt-get install openjdk-17-jre-headless)"; exit 1; }
	@command -v mvn >/dev/null 2>&1 || \
		{ echo "tierwise needs Maven to fetch the Kafka jars from Maven Central (e.g. apt-get install maven)"; exit 1; }

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	@touch $@

install: prereqs $(BIN)/.installed

jars: install
	$(BIN)/tierwise kafka fetch

demo: jars
	$(BIN)/tierwise demo

test: jars lint
	$(BIN)/pytest -m "not faults"

# Fault injection (killed runs, broker and landing kills, a 3-broker cluster): about 10 minutes more; CI runs it too.
test-faults: jars
	$(BIN)/pytest -m faults

test-fast: install
	$(BIN)/pytest -m "not kafka and not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Known vulnerabilities with a fixed version in any installed dependency fail (pip-audit, PyPI advisories).
audit: install
	$(BIN)/python .ci/audit.py

ui: install
	$(BIN)/tierwise ui

dashboard: install
	$(BIN)/tierwise dashboard

bench: jars
	$(BIN)/python bench/emit.py
	$(BIN)/python bench/landing_throughput.py
	$(BIN)/python bench/decisions_build.py
	$(BIN)/python bench/dashboard_render.py

down: install
	$(BIN)/tierwise kafka down

clean:
	-$(BIN)/tierwise kafka down
	rm -rf .tierwise dbt_project/target dbt_project/logs
