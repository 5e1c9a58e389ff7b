"""GET /api/v1/agents and /api/v1/agents/{id} on a real Redis: a scripted morning's exact
figures, the open state counted up to now, filters, 404 and the bearer token."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from jsonschema import Draft202012Validator
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from metrics.config.queues import QueuesConfig
from metrics.core.agent_views import AgentInfo
from metrics.core.aggregator import Aggregator
from metrics.events import (
    AgentStateChanged,
    ContactOfferDeclined,
    ContactOffered,
    ContactTransferred,
    WrapupCompleted,
)
from metrics.store.redis import RedisStore
from metrics.web.api import make_app
from metrics.web.openapi import OPENAPI
from metrics.web.routing import auth_middleware
from streams.testing.events import yesterday_ms

pytestmark = pytest.mark.integration

S, MIN, HOUR = 1000, 60_000, 3_600_000
DAY = yesterday_ms()  # the scripted day: a real store keeps its panes (expiry in the future)
NOW = DAY + 10 * HOUR  # the API's clock: 10:00 UTC on that day
TOKEN = "agents-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Queues(QueuesConfig):
    reason_codes: tuple[str, ...] = ("lunch", "break")
    teams: tuple[str, ...] = ("team-a", "team-b")


QUEUES = Queues()
TEAMS = {"a1": "team-a", "a2": "team-b"}
DIRECTORY = {"a1": AgentInfo(name="Ann Lee", team="team-a"), "a2": AgentInfo(name="Bo Yu")}


def at(hours: int, minutes: int, seconds: int = 0) -> int:
    return DAY + hours * HOUR + minutes * MIN + seconds * S


def state(
    agent_id: str, t: int, name: str, queue: str = "sales", reason: str | None = None
) -> AgentStateChanged:
    channels = ("voice", "chat") if agent_id == "a1" else ("voice",)
    capacity = (("chat", 2), ("voice", 1)) if agent_id == "a1" else ()
    return AgentStateChanged(
        f"{agent_id}-{t}", t, agent_id, name, (queue,), channels, reason, capacity
    )


EVENTS: list[Any] = [
    state("a3", DAY - HOUR, "offline"),  # offline since the day before: not listed
    state("a1", at(9, 0), "available"),
    ContactOffered("o1", at(9, 4, 50), "c0", "sales", "voice", "a1"),
    ContactOfferDeclined("d1", at(9, 5), "c0", "sales", "voice", "a1", "missed"),
    ContactOffered("o2", at(9, 9, 50), "c1", "sales", "voice", "a1"),
    state("a1", at(9, 10), "on_contact"),
    state("a1", at(9, 20), "after_contact_work"),
    ContactTransferred(
        "t1", at(9, 19), "c1", "sales", "voice", "consult", "queue", "billing", "a1"
    ),
    WrapupCompleted("w1", at(9, 24), "c1", "sales", "voice", 480_000, 60_000, 300_000, "a1"),
    state("a1", at(9, 25), "not_ready", reason="lunch"),  # still open at 10:00
    state("a2", at(9, 30), "available", queue="billing"),
    state("a4", at(9, 40), "available"),
    state("a4", at(9, 50), "offline"),
]


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[TestClient[Any, Any]]:
    store = RedisStore.from_url(redis_url, prefix=f"agents-{uuid.uuid4().hex[:8]}")
    aggregator = Aggregator(QUEUES, lateness_ms=120 * S, agent_teams=TEAMS)
    for event in EVENTS:
        aggregator.apply(event)
    update = aggregator.drain()
    update.mark_offset("events:0", 0)
    update.mark_offset("events:0", len(EVENTS) - 1)
    store.flush(update, int(time.time() * 1000))
    app = make_app(store, QUEUES, CollectorRegistry(), lambda: NOW, DIRECTORY)
    app.middlewares.insert(0, auth_middleware(SecretStr(TOKEN)))
    async with TestClient(TestServer(app)) as found:
        yield found


async def get(client: TestClient[Any, Any], path: str, status: int = 200) -> Any:
    response = await client.get(path, headers=AUTH)
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


ANN = {
    "agent_id": "a1",
    "name": "Ann Lee",
    "team": "team-a",
    "state": "not_ready",
    "reason": "lunch",
    "state_seconds": 35 * 60.0,
    "state_since": None,  # filled in below
    "contacts": [],
    "queues": ["sales"],
    "capacity": {"voice": 1, "chat": 2},
}


def _iso(ms: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat().replace("+00:00", "Z")


ANN["state_since"] = _iso(at(9, 25))


async def test_the_live_list_shows_every_agent_with_its_state_and_reason(
    client: TestClient[Any, Any],
) -> None:
    found = await get(client, "/api/v1/agents")
    assert found["generated_at"] == _iso(NOW)
    assert [a["agent_id"] for a in found["agents"]] == ["a1", "a2", "a4"]  # a3: offline before
    assert found["agents"][0] == ANN
    assert found["agents"][1] | {"state_since": None} == {
        "agent_id": "a2",
        "name": "Bo Yu",
        "team": "team-b",
        "state": "available",
        "reason": None,
        "state_seconds": 30 * 60.0,
        "state_since": None,
        "contacts": [],
        "queues": ["billing"],
        "capacity": {"voice": 1},
    }
    assert found["agents"][2]["state"] == "offline"
    assert found["agents"][2]["team"] is None


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("team=team-a", ["a1"]),
        ("team=team-b", ["a2"]),
        ("queue=billing", ["a2"]),
        ("queue=sales", ["a1", "a4"]),
        ("state=offline", ["a4"]),
        ("state=not_ready&team=team-a&queue=sales", ["a1"]),
        ("team=nobody", []),
    ],
)
async def test_the_live_list_filters(
    client: TestClient[Any, Any], query: str, ids: list[str]
) -> None:
    found = await get(client, f"/api/v1/agents?{query}")
    assert [a["agent_id"] for a in found["agents"]] == ids


async def test_one_agents_today_counts_its_open_state_up_to_now(
    client: TestClient[Any, Any],
) -> None:
    found = await get(client, "/api/v1/agents/a1")
    assert {k: found[k] for k in ANN} == ANN
    assert found["interval_minutes"] == 15
    # 09:00-09:10 available, 09:10-09:20 on contact, 09:20-09:25 ACW, 09:25-10:00 lunch (open)
    assert found["today"] == {
        "start": _iso(DAY),
        "handled": 1,
        "talk_seconds": 480.0,
        "hold_seconds": 60.0,
        "acw_seconds": 300.0,
        "aht_seconds": 840.0,
        "state_seconds": {
            "available": 600.0,
            "on_contact": 600.0,
            "after_contact_work": 300.0,
            "not_ready": 2100.0,
        },
        "reason_seconds": {"lunch": 2100.0, "break": 0.0, "other": 0.0, "none": 0.0},
        # slots: (1 voice + 2 chat) x 1,500 s staffed; busy: the voice slot 900 s
        "occupancy": 900 / 4500,
        "offers": 2,
        "offers_declined": 1,
        "transfers": 1,
    }
    intervals = found["intervals"]
    assert len(intervals) == 40  # 00:00 to 10:00
    assert [i["start"] for i in intervals[36:]] == [_iso(at(9, m)) for m in (0, 15, 30, 45)]
    assert [i["state_seconds"] for i in intervals[36:]] == [
        {"available": 600.0, "on_contact": 300.0, "after_contact_work": 0.0, "not_ready": 0.0},
        {"available": 0.0, "on_contact": 300.0, "after_contact_work": 300.0, "not_ready": 300.0},
        {"available": 0.0, "on_contact": 0.0, "after_contact_work": 0.0, "not_ready": 900.0},
        {"available": 0.0, "on_contact": 0.0, "after_contact_work": 0.0, "not_ready": 900.0},
    ]
    assert [i["handled"] for i in intervals[36:]] == [0, 1, 0, 0]
    assert [i["occupancy"] for i in intervals[36:]] == [300 / 2700, 600 / 1800, None, None]
    assert intervals[0]["occupancy"] is None and intervals[0]["aht_seconds"] is None


async def test_thirty_minute_intervals_sum_their_two_quarters(
    client: TestClient[Any, Any],
) -> None:
    found = await get(client, "/api/v1/agents/a1?interval=30m")
    assert found["interval_minutes"] == 30
    nine = found["intervals"][18]
    assert (nine["start"], nine["end"]) == (_iso(at(9, 0)), _iso(at(9, 30)))
    assert nine["state_seconds"]["on_contact"] == 600.0
    assert nine["handled"] == 1


@pytest.mark.parametrize(
    ("path", "schema"),
    [("/api/v1/agents", "AgentsIndex"), ("/api/v1/agents/a1?interval=30m", "AgentDetail")],
)
async def test_the_answers_conform_to_the_openapi_document(
    client: TestClient[Any, Any], path: str, schema: str
) -> None:
    root = {"components": OPENAPI["components"], "$ref": f"#/components/schemas/{schema}"}
    errors = list(Draft202012Validator(root).iter_errors(await get(client, path)))
    assert not errors, [e.message for e in errors]


async def test_an_unknown_agent_is_a_json_404_and_bad_input_a_400(
    client: TestClient[Any, Any],
) -> None:
    assert "error" in await get(client, "/api/v1/agents/nobody", 404)
    assert "error" in await get(client, "/api/v1/agents/a1?interval=1h", 400)
    assert "error" in await get(client, "/api/v1/agents?state=asleep", 400)
    assert "error" in await get(client, "/api/v1/agents?queue=no%20such", 400)


async def test_the_agent_api_needs_the_token(client: TestClient[Any, Any]) -> None:
    assert (await client.get("/api/v1/agents")).status == 401
    assert (await client.get("/api/v1/agents/a1")).status == 401


async def test_the_queue_windows_count_open_agent_states_up_to_now(
    client: TestClient[Any, Any],
) -> None:
    sales = (await get(client, "/api/v1/queues/sales"))["channels"]["voice"]["windows"]
    # a1: on contact 600 s + ACW 300 s, available 600 s; a4 available 600 s (closed spans)
    assert sales["today"]["occupancy"] == 900 / 2100
    # a2 has been available on billing since 09:30: no change yet, 30 minutes counted
    billing = (await get(client, "/api/v1/queues/billing"))["channels"]["voice"]["windows"]
    assert billing["today"]["occupancy"] == 0.0
    assert billing["15m"]["occupancy"] == 0.0
