"""The flush script touches only keys it declares: every key of every command the script ran
(as the server's MONITOR saw them) is one of the KEYS the call passed (Redis Cluster routes
a script by its KEYS and refuses keys of another slot)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import redis

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.store.redis import RedisStore
from streams.testing.events import agent, contact, wrapup, yesterday_ms
from streams.testing.measure import update_of

pytestmark = pytest.mark.integration

S, MIN = 1000, 60_000
T0 = yesterday_ms()
NOW = int(time.time() * 1000)
QUEUES = QueuesConfig(queues=(QueueConfig(name="sales"),))
EVENTS = [
    contact("contact.queued", T0 + 10 * S, "c1"),
    contact("contact.answered", T0 + 30 * S, "c1"),
    contact("contact.queued", T0 + 20 * S, "c2"),
    contact("contact.abandoned", T0 + 24 * S, "c2"),
    contact("contact.queued", T0 + 17 * MIN, "c4", channel="chat"),
    wrapup(T0 + 3 * MIN, "c1", talk=61.5, hold=0, acw=10),
    agent(T0, "a1", "available", ["sales"], ["voice", "chat"]),
    agent(T0 + 90 * S, "a1", "on_contact", ["sales"], ["voice", "chat"]),
]
#: every command the flush script runs names its one key first
SCRIPT_COMMANDS = {
    "GET",
    "HGET",
    "HSET",
    "HINCRBY",
    "PEXPIREAT",
    "ZADD",
    "ZREM",
    "ZREMRANGEBYSCORE",
    "SET",
    "SADD",
}


def test_every_key_the_flush_script_touches_is_declared(redis_url: str) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    store = RedisStore.from_url(redis_url, prefix=prefix)
    store.claim_generation()  # the generation check reads a key too
    declared: list[str] = []
    script = store._flush_script

    def recording(*, keys: list[str], args: list[Any]) -> Any:
        declared.extend(keys)
        return script(keys=keys, args=args)

    store._flush_script = recording  # type: ignore[assignment]
    update = update_of(EVENTS, QUEUES)
    update.new_queues.add("sales")
    update.seen.update({str(e["id"]): T0 for e in EVENTS})
    update.event_time["events:0"] = T0 + 17 * MIN  # the worker's part, as new_queues and seen
    marker = f"end-{prefix}"
    watcher = redis.Redis.from_url(redis_url, decode_responses=True)
    touched: list[tuple[str, str]] = []
    with watcher.monitor() as monitor:
        store.flush(update, NOW)
        store.client.echo(marker)
        while True:
            seen = monitor.next_command()
            if marker in seen["command"]:
                break
            if seen["client_type"] == "lua":
                name, key = seen["command"].split(" ")[:2]
                touched.append((name.upper(), key))
    watcher.close()
    assert {name for name, _ in touched} <= SCRIPT_COMMANDS
    assert {name for name, _ in touched} >= {"HINCRBY", "PEXPIREAT", "ZADD", "SET", "SADD"}
    assert len(declared) == len(set(declared))  # each key once
    assert {key for _, key in touched} <= set(declared)
    # and nothing is declared that the script does not write or read
    assert set(declared) == {key for _, key in touched}
    assert all(key.startswith(f"{prefix}:") for key in declared)
