# One command per chore; CI (.ci/run) calls the same targets.
PYTHON ?= python3
KAFKA_PORT ?= 39092
KAFKA_DATA ?= $(or $(TMPDIR),/tmp)/ccmon-apache-kafka
KAFKA_SASL_PORT ?= 39094
KAFKA_SSL_PORT ?= 39095
KAFKA_SASL_PASSWORD ?= ccmon-test-password
TOOLS_DIR ?= $(or $(CCMON_TOOLS_DIR),$(HOME)/.cache/ccmon-tools)
K8S_MANIFESTS = $(filter-out deploy/k8s/kustomization.yaml,$(wildcard deploy/k8s/*.yaml deploy/k8s/generated/*.yaml))

.PHONY: help install lint format typecheck test test-unit test-apache-kafka bench freshness
.PHONY: deploy-tools deploy-generate dashboards deploy-check test-prometheus
.PHONY: demo test-browser sim-agreement bench-producers

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

install:  ## install ccmon with its test and dev tools (editable)
	$(PYTHON) -m pip install -e '.[dev]'

# lint also checks the rooms' import contracts (lint-imports; pyproject.toml [tool.importlinter]).
lint:  ## ruff lint and format check, mypy --strict on the packages
	ruff check .
	ruff format --check .
	mypy
	lint-imports

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
	scripts/kafka/apache-kafka.sh start --port $(KAFKA_PORT) --data-dir $(KAFKA_DATA) --fresh \
	  --sasl-ssl-port $(KAFKA_SASL_PORT) --sasl-user ccmon --sasl-password $(KAFKA_SASL_PASSWORD) \
	  --ssl-port $(KAFKA_SSL_PORT)
	CCMON_TEST_KAFKA_BOOTSTRAP=127.0.0.1:$(KAFKA_PORT) \
	CCMON_TEST_KAFKA_SASL_SSL_BOOTSTRAP=127.0.0.1:$(KAFKA_SASL_PORT) \
	CCMON_TEST_KAFKA_SASL_SSL_CA_FILE=$(KAFKA_DATA)/tls/ca.pem \
	CCMON_TEST_KAFKA_SASL_USERNAME=ccmon CCMON_TEST_KAFKA_SASL_PASSWORD=$(KAFKA_SASL_PASSWORD) \
	CCMON_TEST_KAFKA_MTLS_BOOTSTRAP=127.0.0.1:$(KAFKA_SSL_PORT) CCMON_TEST_KAFKA_TLS_DIR=$(KAFKA_DATA)/tls \
	  $(PYTHON) -m pytest tests/integration tests/e2e; \
	  status=$$?; scripts/kafka/apache-kafka.sh stop --data-dir $(KAFKA_DATA); exit $$status

.PHONY: bench-routing backtest-ewt
bench-routing:  ## routing read API: requests/s and latency p50/p90/p99 (closed and open loop)
	$(PYTHON) -m benchmarks.routing_api

SCENARIOS ?= small-team:1 bad-day:3 large-centre:2 small-team:101 bad-day:101 large-centre:101
backtest-ewt:  ## EWT accuracy vs the last-N-waits baseline on `ccmon simulate` traffic
	mkdir -p backtest-data
	for pair in $(SCENARIOS); do s=$${pair%%:*}; seed=$${pair##*:}; \
	  $(PYTHON) -m streams.cli simulate deploy/scenarios/$$s.yaml --seed $$seed \
	    --out backtest-data/$$s-seed$$seed.jsonl || exit 1; done
	$(PYTHON) -m benchmarks.ewt_backtest $(foreach p,$(SCENARIOS),backtest-data/$(subst :,-seed,$(p)).jsonl) \
	  --command "make backtest-ewt SCENARIOS='$(SCENARIOS)'"

bench:  ## throughput side by side (raw aiokafka, ccmon, bare Faust, Quix Streams)
	$(PYTHON) -m benchmarks.run

.PHONY: bench-profile
bench-profile:  ## where the ccmon runner spends its time (py-spy, every thread) -> benchmarks/results/throughput-profile.json
	$(PYTHON) -m benchmarks.throughput_profile

freshness:  ## produce -> visible in the read API, p50/p99 at 5,000 events/s
	$(PYTHON) -m benchmarks.freshness

deploy-tools:  ## build the offline validators (Compose plugin, crdcheck, dockerfilecheck) and toxiproxy-server from the Go module proxy, cached
	CCMON_TOOLS_DIR=$(TOOLS_DIR) scripts/deploy/tools.sh

deploy-generate:  ## regenerate Prometheus rules, Grafana dashboards and k8s objects (deploygen); commit them
	$(PYTHON) -m deploygen write

dashboards: deploy-generate  ## same as deploy-generate (the dashboards are part of it)

deploy-check:  ## generated files up to date; promtool, amtool, Kubernetes, compose and Dockerfile validation
	$(PYTHON) -m deploygen check
	promtool check config deploy/prometheus/prometheus.yml
	promtool check rules deploy/prometheus/rules/*.yml
	promtool test rules deploy/prometheus/tests/*.test.yml
	amtool check-config deploy/alertmanager/alertmanager.yml
	amtool config routes test --config.file=deploy/alertmanager/alertmanager.yml \
	  --verify.receivers=oncall-pager severity=page queue=sales alertname=CcmonContactWaitingTooLong
	kubernetes-validate --strict --quiet $(K8S_MANIFESTS)
	$(TOOLS_DIR)/bin/crdcheck deploy/k8s/monitoring.yaml deploy/k8s/generated/prometheusrule.yaml
	docker compose --profile traffic config --quiet
	$(TOOLS_DIR)/bin/dockerfilecheck Dockerfile
	$(PYTHON) -m pytest -q tests/deploy tests/unit/deploygen

test-prometheus:  ## a real Prometheus runs every dashboard and rule query against a real exporter
	$(PYTHON) -m pytest -q tests/integration/test_prometheus_reality.py

demo:  ## live demo: local Tansu + Valkey, worker, exporter, wall board, simulator (Ctrl-C stops)
	$(PYTHON) -m streams.cli demo

test-browser:  ## only the wall-board tests in headless Chromium (part of make test too)
	$(PYTHON) -m pytest -m browser

sim-agreement:  ## the simulator's Erlang C/A agreement over other seeds -> benchmarks/results/
	$(PYTHON) -m benchmarks.sim_agreement --seeds 8

bench-producers:  ## simulator and replay speeds (large-centre day) -> benchmarks/results/
	$(PYTHON) -m benchmarks.producers

.PHONY: bench-scrape
bench-scrape:  ## /metrics and GET /api/v1/queues at 100 and 1,000 queues, before/after, one queue under load -> benchmarks/results/
	$(PYTHON) -m benchmarks.scrape

.PHONY: bench-rollups
bench-rollups:  ## a year of hourly/daily rollups for one queue: month of 30-min intervals, year of days (median, p99), bytes -> benchmarks/results/rollups.json
	$(PYTHON) -m benchmarks.rollups

.PHONY: bench-ingest
bench-ingest:  ## HTTP ingest: events/s accepted, request -> broker ack p50/p99 -> benchmarks/results/ingest.json
	$(PYTHON) -m benchmarks.ingest

.PHONY: bench-scaleout bench-memory agent-rates
bench-scaleout:  ## events/s and per-worker CPU of 1, 2 and 4 real workers in one group -> benchmarks/results/scaleout.json
	$(PYTHON) -m benchmarks.scaleout

bench-memory:  ## worker and exporter RSS over 10 simulated days at speed, MB/day slope -> benchmarks/results/memory.json
	$(PYTHON) -m benchmarks.memory --days 10

agent-rates:  ## events/s per agent of each simulator scenario (docs/scaling.md) -> benchmarks/results/agent-rates.json
	$(PYTHON) -m benchmarks.agent_rates

.PHONY: soak-faults
soak-faults:  ## every fault of docs/reliability.md at full size (~15 min) -> benchmarks/results/faults.json and the doc's table
	$(PYTHON) -m benchmarks.faults
