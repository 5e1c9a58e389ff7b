"""The snapshot publisher: only changes, at most once per interval per queue."""

from __future__ import annotations

from typing import Any

import orjson

from metrics.routing import change_key
from metrics.routing_cache import Snapshots
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
