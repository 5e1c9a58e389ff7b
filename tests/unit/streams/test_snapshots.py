"""The snapshot publisher: only changes, at most once per interval per queue."""

from __future__ import annotations

from typing import Any

import orjson

from metrics.routing.cache import Snapshots
from metrics.routing.snapshot import change_key
from streams.snapshots import SnapshotPublisher


def _doc(queue: str, waiting: int, oldest_wait: float = 1.0) -> dict[str, Any]:
    return {
        "queue": queue,
        "time": "t",
        "channels": {"voice": {"contacts_waiting": waiting, "oldest_wait_seconds": oldest_wait}},
    }


def _snapshots(time_ms: int, *docs: dict[str, Any]) -> Snapshots:
    bodies = {d["queue"]: orjson.dumps(d) for d in docs}
    return Snapshots(time_ms, bodies, b"", {d["queue"]: change_key(d) for d in docs})


async def test_publishes_changes_at_most_once_per_interval() -> None:
    sent: list[tuple[str, bytes, int]] = []

    async def send(topic: str, key: bytes, value: bytes) -> None:
        sent.append((topic, key, orjson.loads(value)["channels"]["voice"]["contacts_waiting"]))

    publisher = SnapshotPublisher(send, "snaps", min_interval_ms=1000)
    await publisher(_snapshots(0, _doc("a", 1), _doc("b", 0)))  # first: both
    await publisher(_snapshots(500, _doc("a", 1, 2.0), _doc("b", 0)))  # only the clock moved
    await publisher(_snapshots(600, _doc("a", 2), _doc("b", 0)))  # a changed, too soon
    await publisher(_snapshots(1000, _doc("a", 2), _doc("b", 5)))  # a's change goes out now
    await publisher(_snapshots(1200, _doc("a", 2), _doc("b", 6)))  # b too soon
    await publisher(_snapshots(1300, _doc("a", 2), _doc("b", 5)))  # b back to what was sent
    assert sent == [
        ("snaps", b"a", 1),
        ("snaps", b"b", 0),
        ("snaps", b"a", 2),
        ("snaps", b"b", 5),
    ]
    assert publisher.sent == 4


async def test_zero_interval_sends_every_change() -> None:
    sent: list[bytes] = []

    async def send(topic: str, key: bytes, value: bytes) -> None:
        sent.append(key)

    publisher = SnapshotPublisher(send, "snaps", min_interval_ms=0)
    for i in range(3):
        await publisher(_snapshots(i, _doc("a", i)))
    assert sent == [b"a", b"a", b"a"]


async def test_an_unreachable_broker_does_not_stop_the_api() -> None:
    """The exporter serves the routing API and /metrics while the broker is down."""
    from aiohttp.test_utils import TestClient, TestServer
    from prometheus_client import CollectorRegistry

    from metrics.config.queues import QueueConfig, QueuesConfig
    from metrics.store.memory import InMemoryStore
    from metrics.web.api import make_app
    from streams.exporter import install_routing_feed
    from streams.settings import Settings
    from tests.servers import free_port

    settings = Settings(brokers=f"127.0.0.1:{free_port()}", routing_refresh_ms=100)
    queues = QueuesConfig(queues=(QueueConfig(name="sales"),))
    store, registry = InMemoryStore(), CollectorRegistry()
    app = make_app(store, queues, registry, clock_ms=lambda: 1_794_787_200_000)
    cache = install_routing_feed(
        app, registry, store, queues, settings, clock_ms=lambda: 1_794_787_200_000
    )
    async with TestClient(TestServer(app)) as client:
        body = await (await client.get("/api/v1/routing/queues/sales")).json()
        assert body["channels"] == {}
        assert (await client.get("/metrics")).status == 200
        assert not any(isinstance(x, SnapshotPublisher) for x in cache.listeners)
