# One command per chore; CI (.ci/run) calls the same targets.
PYTHON ?= python3
KAFKA_PORT ?= 39092
KAFKA_DATA ?= $(or $(TMPDIR),/tmp)/ccmon-apache-kafka

.PHONY: help install lint format typecheck test test-unit test-apache-kafka bench freshness demo test-browser sim-agreement bench-producers

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

install:  ## install ccmon with its test and dev tools (editable)
	$(PYTHON) -m pip install -e '.[dev]'

lint:  ## ruff lint and format check, mypy --strict on the packages
	ruff check .
	ruff format --check .
	mypy

format:  ## apply ruff's fixes and formatting
	ruff check --fix .
	ruff format .

typecheck:  ## mypy --strict on streams/ and metrics/
	mypy

test:  ## every test: unit, then integration and end-to-end on real servers the fixtures start
	$(PYTHON) -m pytest

test-unit:  ## the pure core only: fast, no servers
	$(PYTHON) -m pytest tests/unit

test-apache-kafka:  ## integration and e2e tests against a real single-node Apache Kafka 4.x (KRaft)
	scripts/kafka/apache-kafka.sh start --port $(KAFKA_PORT) --data-dir $(KAFKA_DATA) --fresh
	CCMON_TEST_KAFKA_BOOTSTRAP=127.0.0.1:$(KAFKA_PORT) $(PYTHON) -m pytest tests/integration tests/e2e; \
	  status=$$?; scripts/kafka/apache-kafka.sh stop --data-dir $(KAFKA_DATA); exit $$status

bench:  ## throughput side by side (raw aiokafka, ccmon, bare Faust, Quix Streams)
	$(PYTHON) -m benchmarks.run

freshness:  ## produce -> visible in the read API, p50/p99 at 5,000 events/s
	$(PYTHON) -m benchmarks.freshness

demo:  ## live demo: local Tansu + Valkey, worker, exporter, wall board, simulator (Ctrl-C stops)
	$(PYTHON) -m streams.cli demo

test-browser:  ## only the wall-board tests in headless Chromium (part of make test too)
	$(PYTHON) -m pytest -m browser

sim-agreement:  ## the simulator's Erlang C/A agreement over other seeds -> benchmarks/results/
	$(PYTHON) -m benchmarks.sim_agreement --seeds 8

bench-producers:  ## simulator and replay speeds (large-centre day) -> benchmarks/results/
	$(PYTHON) -m benchmarks.producers
