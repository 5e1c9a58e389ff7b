"""An agent's contacts now, through the real broker, worker and Redis: each contact being
handled shows under the agent who holds it (the answering agent, or the agent a consult
transfer moved it to), with its queue, channel and seconds so far; a wrapped-up or blind-
transferred one under nobody. The contact events are produced newest first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.store.redis import RedisStore
from metrics.web.api import make_app
from streams.testing.events import agent, contact, envelope, wrapup, yesterday_ms
from tests.integration.pipeline_helpers import (
    create_topics,
    keyed,
    produce,
    settings_for,
    wait_until_applied,
)
from tests.integration.test_worker import worker

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

S, M = 1000, 60_000
NOW = yesterday_ms() + 10 * 3_600_000
QUEUES = QueuesConfig(
    queues=(
        QueueConfig(name="sales", channels=("voice", "chat")),
        QueueConfig(name="support", channels=("chat",)),
    )
)


def transfer(t: int, cid: str, kind: str, target: str, to: str) -> dict[str, Any]:
    data = {"contact_id": cid, "queue": "sales", "channel": "chat", "kind": kind}
    return envelope("contact.transferred", t, data | {"target": target, "to": to})


AGENTS = [
    agent(NOW - 30 * M, "a1", "on_contact", ["sales"], ["voice", "chat"]),
    agent(NOW - 30 * M, "a2", "on_contact", ["sales", "support"], ["chat"]),
    agent(NOW - 30 * M, "a3", "available", ["sales"]),
]
CONTACTS = [
    # c1: a1 has it, 10 minutes so far
    contact("contact.queued", NOW - 11 * M, "c1"),
    contact("contact.answered", NOW - 10 * M, "c1", agent_id="a1"),
    # c2: a1 answered it, then a consult transfer moved it to a2 five minutes ago
    contact("contact.queued", NOW - 8 * M, "c2", "sales", "chat"),
    contact("contact.answered", NOW - 7 * M - 30 * S, "c2", "sales", "chat", agent_id="a1"),
    transfer(NOW - 5 * M, "c2", "consult", "agent", "a2"),
    # c3: a2's own, 4 minutes
    contact("contact.queued", NOW - 6 * M, "c3", "support", "chat"),
    contact("contact.answered", NOW - 4 * M, "c3", "support", "chat", agent_id="a2"),
    # c4 wrapped up, c5 blind-transferred: nobody holds them
    contact("contact.answered", NOW - 9 * M, "c4", agent_id="a1"),
    wrapup(NOW - 2 * M, "c4", 300, 0, 120),
    contact("contact.answered", NOW - 3 * M, "c5", "sales", "chat", agent_id="a3"),
    transfer(NOW - M, "c5", "blind", "agent", "a1"),
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(kafka_bootstrap: str, redis_url: str) -> AsyncIterator[TestClient[Any, Any]]:
    settings = settings_for(kafka_bootstrap, redis_url)
    await create_topics(settings)
    store = RedisStore.from_url(redis_url, prefix=settings.redis_prefix)
    async with worker(settings, QUEUES):
        events = [*AGENTS, *reversed(CONTACTS)]
        await wait_until_applied(store, await produce(settings, keyed(events)))
    app = make_app(store, QUEUES, CollectorRegistry(), clock_ms=lambda: NOW)
    async with TestClient(TestServer(app)) as found:
        yield found


async def get(client: TestClient[Any, Any], path: str) -> Any:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    return await response.json()


A1 = [{"contact_id": "c1", "queue": "sales", "channel": "voice", "seconds": 600.0}]
A2 = [
    {"contact_id": "c2", "queue": "sales", "channel": "chat", "seconds": 300.0},
    {"contact_id": "c3", "queue": "support", "channel": "chat", "seconds": 240.0},
]


async def test_the_live_list_shows_each_agents_contacts_exactly(
    client: TestClient[Any, Any],
) -> None:
    found = await get(client, "/api/v1/agents")
    contacts = {a["agent_id"]: a["contacts"] for a in found["agents"]}
    assert contacts == {"a1": A1, "a2": A2, "a3": []}


async def test_one_agent_shows_its_contacts(client: TestClient[Any, Any]) -> None:
    assert (await get(client, "/api/v1/agents/a2"))["contacts"] == A2
    assert (await get(client, "/api/v1/agents/a3"))["contacts"] == []


async def test_the_queue_still_counts_every_contact_in_progress(
    client: TestClient[Any, Any],
) -> None:
    """The per-agent lists are read beside the live set, never instead of it."""
    sales = (await get(client, "/api/v1/queues/sales"))["channels"]
    support = (await get(client, "/api/v1/queues/support"))["channels"]
    in_progress = {
        ("sales", "voice"): sales["voice"]["contacts_in_progress"],
        ("sales", "chat"): sales["chat"]["contacts_in_progress"],
        ("support", "chat"): support["chat"]["contacts_in_progress"],
    }
    assert in_progress == {("sales", "voice"): 1, ("sales", "chat"): 1, ("support", "chat"): 1}
