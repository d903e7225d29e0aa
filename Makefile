# Two commands on a fresh machine: `make demo`, then `make test`.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
RUN := $(UV) run --frozen
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install demo ui stop test lint format bench clean

help:
	@echo "make demo   - run the whole pipeline on generated chat and build the report site"
	@echo "make test   - lint + the whole test suite (unit, integration, dbt, Dagster, browser)"
	@echo "make ui     - start the Dagster webserver and daemon on 127.0.0.1:3000"
	@echo "make stop   - stop the webserver, daemon and embedded PostgreSQL"
	@echo "make bench  - benchmarks (QUICK=1 for a short run)"

install:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen

demo: install
	$(RUN) twitch-warehouse demo

ui: install
	$(RUN) twitch-warehouse ui

stop:
	$(RUN) twitch-warehouse stop

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) basedpyright
	eval "$$($(RUN) twitch-warehouse db env)" && $(RUN) sqlfluff lint dbt_project/models dbt_project/tests --processes 2

format: install
	$(RUN) ruff check --fix .
	$(RUN) ruff format .
	eval "$$($(RUN) twitch-warehouse db env)" && $(RUN) sqlfluff fix dbt_project/models dbt_project/tests --processes 2

test: lint
	$(RUN) pytest -n 2 --dist loadgroup

bench: install
	$(RUN) twitch-warehouse bench $(if $(QUICK),--quick,)

clean: stop
	rm -rf .warehouse dbt_project/target
