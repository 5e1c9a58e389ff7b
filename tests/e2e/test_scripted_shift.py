"""A scripted shift of three agents on two queues, end to end on real servers.

Kafka -> batch consumer -> Redis -> exporter (/metrics and the read API over HTTP), against
per-agent and per-queue figures worked out by hand below. The shift runs 16:00-17:00 UTC of
yesterday (so that Redis expiry times lie in the future, as in test_scripted_day.py); the
exporter's clock is pinned to 17:00, the end of the shift, so "now" figures are exact.

The floor: Ada (a1) and Ben (a2), team-a, take sales voice calls; Cleo (a3), team-b, takes
up to three support chats at once. The script has offers and a missed and a rejected offer,
a hold, a blind transfer, not-ready with reasons (Ben's lunch still open at 17:00), chat
concurrency, two callbacks with one attempt each, and contacts ended by each side.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from metrics.config.queues import QueuesConfig, parse_queues_yaml
from metrics.store.redis import RedisStore
from streams.exporter import exporter_app
from streams.testing.events import envelope, iso, yesterday_ms
from tests.integration.pipeline_helpers import (
    create_topics,
    keyed,
    produce,
    settings_for,
    wait_until_applied,
)
from tests.integration.test_worker import worker
from tests.promtool import assert_promtool_accepts

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

DAY = yesterday_ms()
H, M, S = 3_600_000, 60_000, 1000
START = DAY + 16 * H
NOW = DAY + 17 * H

QUEUES_YAML = """\
reason_codes: [lunch, break, training]
wrapup_codes: [sale, no_sale]
teams: [team-a, team-b]
queues:
  - {name: sales, channels: [voice], sl_threshold_s: 20, short_abandon_s: 5, sl_target: 0.8}
  - {name: support, channels: [chat], sl_threshold_s: 60, sl_target: 0.9}
"""
AGENTS_YAML = """\
agents:
  a1: {name: Ada, team: team-a, queues: [sales], capacity: {voice: 1}}
  a2: {name: Ben, team: team-a, queues: [sales], capacity: {voice: 1}}
  a3: {name: Cleo, team: team-b, queues: [support], capacity: {chat: 3}}
"""


def at(minute: int, second: int = 0) -> int:
    """Minutes (and seconds) past 16:00, the start of the shift."""
    return START + minute * M + second * S


def event(type_: str, t: int, cid: str, queue: str, **data: Any) -> dict[str, Any]:
    """A contact.* event; data keys are the contract's (`kind` too, for transfers)."""
    channel = "voice" if queue == "sales" else "chat"
    return envelope(type_, t, {"contact_id": cid, "queue": queue, "channel": channel, **data})


def sales(type_: str, t: int, cid: str, /, **data: Any) -> dict[str, Any]:
    return event(type_, t, cid, "sales", **data)


def support(type_: str, t: int, cid: str, /, **data: Any) -> dict[str, Any]:
    return event(type_, t, cid, "support", **data)


def wrapup(
    queue: str, t: int, cid: str, agent: str, talk: int, hold: int, acw: int, code: str
) -> dict[str, Any]:
    return event(
        "contact.wrapup_completed",
        t,
        cid,
        queue,
        agent_id=agent,
        talk_s=talk,
        hold_s=hold,
        acw_s=acw,
        wrapup_code=code,
    )


def state(t: int, agent: str, new: str, reason: str | None = None) -> dict[str, Any]:
    """agent.state_changed for one of the three agents (queues, channel, capacity fixed)."""
    if agent == "a3":
        data: dict[str, Any] = {
            "queues": ["support"],
            "channels": ["chat"],
            "capacity": {"chat": 3},
        }
    else:
        data = {"queues": ["sales"], "channels": ["voice"], "capacity": {"voice": 1}}
    data |= {"agent_id": agent, "state": new}
    if reason is not None:
        data["reason"] = reason
    return envelope("agent.state_changed", t, data)


SCRIPT: list[dict[str, Any]] = [
    state(at(0), "a1", "available"),
    state(at(0), "a2", "available"),
    state(at(0), "a3", "available"),
    # --- support chats, all Cleo's (capacity 3) ---
    # s1: 10 s wait; the customer closes the chat; talk 16:05:10-16:15:00 = 590 s
    support("contact.queued", at(5), "s1"),
    support("contact.offered", at(5, 5), "s1", agent_id="a3"),
    support("contact.answered", at(5, 10), "s1", agent_id="a3"),
    state(at(5, 10), "a3", "on_contact"),
    # s2: rejected once, then taken; 40 s wait; two chats at once from 16:06:40
    support("contact.queued", at(6), "s2"),
    support("contact.offered", at(6, 2), "s2", agent_id="a3"),
    support("contact.offer_declined", at(6, 4), "s2", agent_id="a3", outcome="rejected"),
    support("contact.offered", at(6, 30), "s2", agent_id="a3"),
    support("contact.answered", at(6, 40), "s2", agent_id="a3"),
    support("contact.ended", at(15), "s1", disconnected_by="customer", agent_id="a3"),
    wrapup("support", at(16), "s1", "a3", talk=590, hold=0, acw=60, code="sale"),
    # s2: the system closes the idle chat; talk 16:06:40-16:20:00 = 800 s
    support("contact.ended", at(20), "s2", disconnected_by="system", agent_id="a3"),
    state(at(20), "a3", "after_contact_work"),
    wrapup("support", at(21), "s2", "a3", talk=800, hold=0, acw=60, code="no_sale"),
    state(at(21), "a3", "available"),
    # s3: 5 s wait, still being handled at 17:00 (595 s so far)
    support("contact.queued", at(50), "s3"),
    support("contact.offered", at(50, 1), "s3", agent_id="a3"),
    support("contact.answered", at(50, 5), "s3", agent_id="a3"),
    state(at(50, 5), "a3", "on_contact"),
    # --- sales voice ---
    # v1: Ben misses the offer (and goes on a break), Ada answers at 15 s (within 20 s),
    # holds 60 s, the customer hangs up; talk 16:10:15-16:15:00 = 285 s - 60 s hold = 225 s
    sales("contact.queued", at(10), "v1"),
    sales("contact.offered", at(10, 1), "v1", agent_id="a2"),
    sales("contact.offer_declined", at(10, 11), "v1", agent_id="a2", outcome="missed"),
    state(at(10, 11), "a2", "not_ready", reason="break"),
    sales("contact.offered", at(10, 12), "v1", agent_id="a1"),
    sales("contact.answered", at(10, 15), "v1", agent_id="a1"),
    state(at(10, 15), "a1", "on_contact"),
    sales("contact.held", at(12), "v1", agent_id="a1"),
    sales("contact.resumed", at(13), "v1", agent_id="a1"),
    sales("contact.ended", at(15), "v1", disconnected_by="customer", agent_id="a1"),
    state(at(15), "a1", "after_contact_work"),
    wrapup("sales", at(16), "v1", "a1", talk=225, hold=60, acw=60, code="sale"),
    state(at(16), "a1", "available"),
    state(at(20), "a2", "available"),
    # v5: a callback asked for at 16:20:40; the 16:25 attempt gets no answer: still waiting
    sales("contact.queued", at(20), "v5"),
    sales("contact.callback_requested", at(20, 40), "v5"),
    sales("contact.callback_attempted", at(25), "v5", outcome="no_answer", agent_id="a2"),
    # v2: Ben answers at 10 s, transfers it blind to an outside number and drops off
    sales("contact.queued", at(30), "v2"),
    sales("contact.offered", at(30, 5), "v2", agent_id="a2"),
    sales("contact.answered", at(30, 10), "v2", agent_id="a2"),
    state(at(30, 10), "a2", "on_contact"),
    sales(
        "contact.transferred",
        at(33),
        "v2",
        kind="blind",
        target="external",
        to="billing-line",
        agent_id="a2",
    ),
    sales("contact.ended", at(33), "v2", disconnected_by="agent", agent_id="a2"),
    state(at(33), "a2", "after_contact_work"),
    wrapup("sales", at(34), "v2", "a2", talk=170, hold=0, acw=60, code="no_sale"),
    state(at(34), "a2", "available"),
    # v6: a callback asked for at 16:35:30, connected at 16:45: no longer waiting
    sales("contact.queued", at(35), "v6"),
    sales("contact.callback_requested", at(35, 30), "v6"),
    sales("contact.callback_attempted", at(45), "v6", outcome="connected", agent_id="a1"),
    # v3: abandoned after 30 s (not short: 5 s; outside T)
    sales("contact.queued", at(40), "v3"),
    sales("contact.abandoned", at(40, 30), "v3"),
    state(at(50), "a2", "not_ready", reason="lunch"),  # still at lunch at 17:00: 600 s
    # v4: still waiting at 17:00 (120 s)
    sales("contact.queued", at(58), "v4"),
]

# Time in state, 16:00-17:00 (3,600 s each):
#   a1 available 16:00-16:10:15 (615) + 16:16-17:00 (2,640) = 3,255; on_contact
#      16:10:15-16:15 = 285; after_contact_work 16:15-16:16 = 60
#   a2 available 16:00-16:10:11 (611) + 16:20-16:30:10 (610) + 16:34-16:50 (960) = 2,181;
#      not_ready break 16:10:11-16:20 (589) + lunch 16:50-17:00 (600, open) = 1,189;
#      on_contact 16:30:10-16:33 = 170; after_contact_work 16:33-16:34 = 60
#   a3 available 16:00-16:05:10 (310) + 16:21-16:50:05 (1,745) = 2,055; on_contact
#      16:05:10-16:20 (890) + 16:50:05-17:00 (595, open) = 1,485; after_contact_work 60
STATE_SECONDS = {
    "a1": {"available": 3255, "on_contact": 285, "after_contact_work": 60},
    "a2": {"available": 2181, "on_contact": 170, "after_contact_work": 60, "not_ready": 1189},
    "a3": {"available": 2055, "on_contact": 1485, "after_contact_work": 60},
}
for _agent, _seconds in STATE_SECONDS.items():
    assert sum(_seconds.values()) == 3600, _agent


#: The worker's own counters once it has applied the script (filled by `exporter`).
WORKER_COUNTS: dict[str, float] = {}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def queues() -> QueuesConfig:
    return parse_queues_yaml(QUEUES_YAML, "scripted-shift queues")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def exporter(
    kafka_bootstrap: str,
    redis_url: str,
    queues: QueuesConfig,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[TestClient[Any, Any]]:
    agents_file = tmp_path_factory.mktemp("shift") / "agents.yaml"
    agents_file.write_text(AGENTS_YAML, encoding="utf-8")
    settings = settings_for(kafka_bootstrap, redis_url, agents_file=agents_file)
    await create_topics(settings)
    # Every event twice (at-least-once upstream): the second copies are duplicates.
    wanted = await produce(settings, keyed(SCRIPT) + keyed(SCRIPT))
    store = RedisStore.from_url(redis_url, prefix=settings.redis_prefix)
    async with worker(settings, queues) as worker_registry:
        await wait_until_applied(store, wanted)
        for name in ("ccmon_events_duplicate_total", "ccmon_events_rejected_total"):
            samples = [s for m in worker_registry.collect() for s in m.samples if s.name == name]
            WORKER_COUNTS[name] = sum(s.value for s in samples)
    # The whole exporter as `ccmon exporter` runs it (streams/exporter.py), clock pinned.
    app = exporter_app(store, queues, settings, clock_ms=lambda: NOW)
    async with TestClient(TestServer(app)) as client:
        yield client


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: TestClient[Any, Any]) -> tuple[str, Samples]:
    text = await (await client.get("/metrics")).text()
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    return text, samples


SALES = {"queue": "sales", "channel": "voice"}
SUPPORT = {"queue": "support", "channel": "chat"}
TODAY = {"window": "today"}

#: What ccmon exported before issue 11: queue figures and agents by state.
EXPECTED: list[tuple[str, dict[str, str], float]] = [
    # live at 17:00: v4 waits since 16:58; Ada available, Ben at lunch, Cleo on s3
    ("ccmon_queue_contacts_waiting", SALES, 1),
    ("ccmon_queue_oldest_wait_seconds", SALES, 120),
    ("ccmon_queue_agents", SALES | {"state": "available"}, 1),
    ("ccmon_queue_agents", SALES | {"state": "not_ready"}, 1),
    ("ccmon_queue_agents", SALES | {"state": "on_contact"}, 0),
    ("ccmon_queue_agents", SUPPORT | {"state": "on_contact"}, 1),
    ("ccmon_queue_agents", SUPPORT | {"state": "available"}, 0),
    ("ccmon_queue_contacts_waiting", SUPPORT, 0),
    # sales today: queued v1..v6 = 6; answered v1 (15 s), v2 (10 s), both within 20 s;
    # abandoned v3 (30 s, not short); callbacks v5, v6
    ("ccmon_queue_window_queued_contacts", SALES | TODAY, 6),
    ("ccmon_queue_window_answered_contacts", SALES | TODAY, 2),
    ("ccmon_queue_window_answered_within_threshold_contacts", SALES | TODAY, 2),
    ("ccmon_queue_window_abandoned_contacts", SALES | TODAY, 1),
    ("ccmon_queue_window_short_abandoned_contacts", SALES | TODAY, 0),
    ("ccmon_queue_window_callbacks_contacts", SALES | TODAY, 2),
    ("ccmon_queue_service_level_ratio", SALES | TODAY, 2 / 3),  # 2 / (2 + 1 - 0)
    ("ccmon_queue_asa_seconds", SALES | TODAY, 12.5),  # (15 + 10) / 2
    ("ccmon_queue_window_handled_contacts", SALES | TODAY, 2),
    ("ccmon_queue_aht_seconds", SALES | TODAY, 287.5),  # (225+60+60 + 170+0+60) / 2
    ("ccmon_queue_average_hold_seconds", SALES | TODAY, 30),  # (60 + 0) / 2
    # support today: s1 10 s, s2 40 s, s3 5 s, all within 60 s
    ("ccmon_queue_window_queued_contacts", SUPPORT | TODAY, 3),
    ("ccmon_queue_window_answered_contacts", SUPPORT | TODAY, 3),
    ("ccmon_queue_service_level_ratio", SUPPORT | TODAY, 1.0),  # 3 / (3 + 0 - 0)
    ("ccmon_queue_asa_seconds", SUPPORT | TODAY, 55 / 3),
    ("ccmon_queue_aht_seconds", SUPPORT | TODAY, 755),  # (590+60 + 800+60) / 2
]


@pytest.mark.parametrize(
    ("name", "labels", "value"), EXPECTED, ids=[f"{n}{lab}" for n, lab, _ in EXPECTED]
)
async def test_queue_figures_in_metrics(
    exporter: TestClient[Any, Any], name: str, labels: dict[str, str], value: float
) -> None:
    _, samples = await scrape(exporter)
    assert samples[(name, frozenset(labels.items()))] == pytest.approx(value, rel=1e-12)


async def test_every_event_is_applied_once_and_none_is_rejected(
    exporter: TestClient[Any, Any],
) -> None:
    """The script went in twice: each second copy is a counted duplicate, nothing is
    dead-lettered (every new field of the script is valid), and the figures above are
    those of one pass."""
    counts = dict(WORKER_COUNTS)
    assert counts == {"ccmon_events_duplicate_total": len(SCRIPT), "ccmon_events_rejected_total": 0}


async def test_promtool_accepts_the_exposition(exporter: TestClient[Any, Any]) -> None:
    text, _ = await scrape(exporter)
    await asyncio.to_thread(assert_promtool_accepts, text)


async def test_queue_figures_in_the_read_api(exporter: TestClient[Any, Any]) -> None:
    one = await (await exporter.get("/api/v1/queues/sales")).json()
    voice = one["channels"]["voice"]
    today = voice["windows"]["today"]
    assert (today["queued"], today["answered"], today["abandoned"]) == (6, 2, 1)
    assert today["service_level"] == pytest.approx(2 / 3)
    assert today["aht_seconds"] == 287.5
    assert voice["agents"] == {
        "available": 1,
        "on_contact": 0,
        "after_contact_work": 0,
        "not_ready": 1,
    }
    # the contact figures of issue 11, as in /metrics (EXPECTED_CONTACTS)
    assert {k: today[k] for k in CONTACT_KEYS} == {
        "offers": 3,
        "offers_declined": 1,
        "offers_declined_missed": 1,
        "offers_declined_rejected": 0,
        "holds": 1,
        "hold_abandons": 0,
        "transfers_out_blind": 1,
        "transfers_in": 0,
        "disconnect_customer": 1,
        "disconnect_agent": 1,
        "disconnect_system": 0,
        "queued_inbound": 6,
        "queued_callback": 0,
        "callback_attempts_connected": 1,
        "callback_attempts_no_answer": 1,
        "wrapup_codes": {"sale": 1, "no_sale": 1},
    }
    assert today["agent_non_response_rate"] == pytest.approx(1 / 3)
    assert {k: voice[k] for k in LIVE_KEYS} == {
        "contacts_in_progress": 0,
        "longest_in_progress_seconds": None,
        "callbacks_waiting": 1,
        "oldest_callback_wait_seconds": 2360,
    }
    chat = (await (await exporter.get("/api/v1/queues/support")).json())["channels"]["chat"]
    chat_today = chat["windows"]["today"]
    assert chat_today["aht_seconds"] == 755
    assert chat["agents"]["on_contact"] == 1
    assert {k: chat_today[k] for k in CONTACT_KEYS} == {
        "offers": 4,
        "offers_declined": 1,
        "offers_declined_missed": 0,
        "offers_declined_rejected": 1,
        "holds": 0,
        "hold_abandons": 0,
        "transfers_out_blind": 0,
        "transfers_in": 0,
        "disconnect_customer": 1,
        "disconnect_agent": 0,
        "disconnect_system": 1,
        "queued_inbound": 3,
        "queued_callback": 0,
        "callback_attempts_connected": 0,
        "callback_attempts_no_answer": 0,
        "wrapup_codes": {"sale": 1, "no_sale": 1},
    }
    assert chat_today["agent_non_response_rate"] == 0.25
    assert {k: chat[k] for k in LIVE_KEYS} == {
        "contacts_in_progress": 1,
        "longest_in_progress_seconds": 595,
        "callbacks_waiting": 0,
        "oldest_callback_wait_seconds": None,
    }


CONTACT_KEYS = (
    "offers",
    "offers_declined",
    "offers_declined_missed",
    "offers_declined_rejected",
    "holds",
    "hold_abandons",
    "transfers_out_blind",
    "transfers_in",
    "disconnect_customer",
    "disconnect_agent",
    "disconnect_system",
    "queued_inbound",
    "queued_callback",
    "callback_attempts_connected",
    "callback_attempts_no_answer",
    "wrapup_codes",
)
LIVE_KEYS = (
    "contacts_in_progress",
    "longest_in_progress_seconds",
    "callbacks_waiting",
    "oldest_callback_wait_seconds",
)


# ---------------------------------------------------------------------------------------
# Issue 11 figures: contacts (offers, holds, transfers, ends, callbacks), agents (reasons,
# slots, open states), teams, the per-agent read API and the routing snapshot's free slots.
# ---------------------------------------------------------------------------------------

#: Contact figures (offers, holds, transfers, disconnects, callbacks, in progress).
EXPECTED_CONTACTS: list[tuple[str, dict[str, str], float]] = [
    # sales offers: v1 to Ben (missed) and to Ada, v2 to Ben = 3; non-response 1 / 3
    ("ccmon_queue_offers_contacts", SALES | TODAY, 3),
    ("ccmon_queue_offers_declined_contacts", SALES | TODAY | {"outcome": "missed"}, 1),
    ("ccmon_queue_offers_declined_contacts", SALES | TODAY | {"outcome": "rejected"}, 0),
    ("ccmon_queue_agent_non_response_ratio", SALES | TODAY, 1 / 3),
    # support offers: s1, s2 (rejected), s2 again, s3 = 4; non-response 1 / 4
    ("ccmon_queue_offers_contacts", SUPPORT | TODAY, 4),
    ("ccmon_queue_offers_declined_contacts", SUPPORT | TODAY | {"outcome": "rejected"}, 1),
    ("ccmon_queue_agent_non_response_ratio", SUPPORT | TODAY, 0.25),
    # v1 held once (16:12-16:13) and resumed: no hold abandon
    ("ccmon_queue_holds_contacts", SALES | TODAY, 1),
    ("ccmon_queue_hold_abandons_contacts", SALES | TODAY, 0),
    # v2 transferred blind to an outside number
    (
        "ccmon_queue_transfers_contacts",
        SALES | TODAY | {"direction": "out", "kind": "blind"},
        1,
    ),
    (
        "ccmon_queue_transfers_contacts",
        SALES | TODAY | {"direction": "out", "kind": "consult"},
        0,
    ),
    # ends: v1 and s1 by the customer, v2 by the agent, s2 by the system
    ("ccmon_queue_disconnects_contacts", SALES | TODAY | {"side": "customer"}, 1),
    ("ccmon_queue_disconnects_contacts", SALES | TODAY | {"side": "agent"}, 1),
    ("ccmon_queue_disconnects_contacts", SALES | TODAY | {"side": "system"}, 0),
    ("ccmon_queue_disconnects_contacts", SUPPORT | TODAY | {"side": "customer"}, 1),
    ("ccmon_queue_disconnects_contacts", SUPPORT | TODAY | {"side": "system"}, 1),
    # every contact inbound (no direction given): 6 and 3
    ("ccmon_queue_contacts_by_direction_contacts", SALES | TODAY | {"direction": "inbound"}, 6),
    ("ccmon_queue_contacts_by_direction_contacts", SALES | TODAY | {"direction": "callback"}, 0),
    ("ccmon_queue_contacts_by_direction_contacts", SUPPORT | TODAY | {"direction": "inbound"}, 3),
    # callbacks: v5 still waiting since 16:20:40 (2,360 s at 17:00); v6 connected
    ("ccmon_queue_callbacks_waiting", SALES, 1),
    ("ccmon_queue_oldest_callback_wait_seconds", SALES, 2360),
    ("ccmon_queue_callback_attempts_contacts", SALES | TODAY | {"outcome": "no_answer"}, 1),
    ("ccmon_queue_callback_attempts_contacts", SALES | TODAY | {"outcome": "connected"}, 1),
    ("ccmon_queue_callback_attempts_contacts", SALES | TODAY | {"outcome": "failed"}, 0),
    ("ccmon_queue_callbacks_waiting", SUPPORT, 0),
    # wrap-up codes: sales v1 sale, v2 no_sale; support s1 sale, s2 no_sale
    ("ccmon_queue_wrapup_contacts", SALES | TODAY | {"code": "sale"}, 1),
    ("ccmon_queue_wrapup_contacts", SALES | TODAY | {"code": "no_sale"}, 1),
    ("ccmon_queue_wrapup_contacts", SUPPORT | TODAY | {"code": "sale"}, 1),
    ("ccmon_queue_wrapup_contacts", SALES | TODAY | {"code": "other"}, 0),
    # in progress at 17:00: s3, answered 16:50:05 (595 s); nothing on sales
    ("ccmon_queue_contacts_in_progress", SUPPORT, 1),
    ("ccmon_queue_longest_in_progress_seconds", SUPPORT, 595),
    ("ccmon_queue_contacts_in_progress", SALES, 0),
]

#: Agent figures per queue: reasons, slots, time in state (docs/metrics.md, "Agents").
EXPECTED_AGENTS: list[tuple[str, dict[str, str], float]] = [
    # live: Ben not ready for lunch
    ("ccmon_queue_agents_by_reason", SALES | {"reason": "lunch"}, 1),
    ("ccmon_queue_agents_by_reason", SALES | {"reason": "break"}, 0),
    # not-ready time by reason today: Ben's break 589 s, his lunch 600 s (open, up to now)
    ("ccmon_queue_agent_reason_seconds", SALES | TODAY | {"reason": "break"}, 589),
    ("ccmon_queue_agent_reason_seconds", SALES | TODAY | {"reason": "lunch"}, 600),
    # the all-time counters count closed spans only (they never go down): Ada's open
    # 16:16-17:00 is not in them yet: available 615 (Ada) + 2,181 (Ben) = 2,796; Ben's
    # break 589 (his lunch is open); Cleo on contact 890 (s3's 595 s are open)
    ("ccmon_queue_agent_state_seconds_total", SALES | {"state": "available"}, 615 + 2181),
    ("ccmon_queue_agent_state_seconds_total", SALES | {"state": "not_ready"}, 589),
    ("ccmon_queue_agent_state_seconds_total", SALES | {"state": "on_contact"}, 285 + 170),
    ("ccmon_queue_agent_state_seconds_total", SUPPORT | {"state": "on_contact"}, 890),
    # slots live: Ada available with voice 1, Ben not ready (no slots); Cleo 3 chat slots,
    # one of them busy with s3
    ("ccmon_queue_slots", SALES | {"kind": "total"}, 1),
    ("ccmon_queue_slots", SALES | {"kind": "busy"}, 0),
    ("ccmon_queue_slots", SUPPORT | {"kind": "total"}, 3),
    ("ccmon_queue_slots", SUPPORT | {"kind": "busy"}, 1),
]

#: Team figures: team-a = Ada + Ben (voice), team-b = Cleo (chat, 3 slots); open states
#: count up to 17:00 (table above).
EXPECTED_TEAMS: list[tuple[str, dict[str, str], float]] = [
    ("ccmon_team_agents", {"team": "team-a", "state": "available"}, 1),
    ("ccmon_team_agents", {"team": "team-a", "state": "not_ready"}, 1),
    ("ccmon_team_agents", {"team": "team-b", "state": "on_contact"}, 1),
    ("ccmon_team_agents_by_reason", {"team": "team-a", "reason": "lunch"}, 1),
    ("ccmon_team_agent_state_seconds", {"team": "team-a", "state": "available"} | TODAY, 5436),
    ("ccmon_team_agent_state_seconds", {"team": "team-a", "state": "not_ready"} | TODAY, 1189),
    ("ccmon_team_agent_state_seconds", {"team": "team-b", "state": "on_contact"} | TODAY, 1485),
    # team-a, voice (one slot): busy = on contact + ACW = 285 + 60 + 170 + 60 = 575;
    # staffed = that + available 3,255 + 2,181 = 6,011
    ("ccmon_team_occupancy_ratio", {"team": "team-a"} | TODAY, 575 / 6011),
    # team-b, chat: each handled contact holds one slot for its handle time (s1 590 + 60,
    # s2 800 + 60 = 1,510; s3 is not wrapped up); staffed = 3 slots x 3,600 s = 10,800
    ("ccmon_team_occupancy_ratio", {"team": "team-b"} | TODAY, 1510 / 10800),
]

#: Queue occupancy in /metrics with the open states up to 17:00, as the read API has it:
#: sales (575) / (575 + 3,255 + 2,181); support (1,485 + 60) / 3,600.
EXPECTED_OPEN_OCCUPANCY: list[tuple[str, dict[str, str], float]] = [
    ("ccmon_queue_occupancy_ratio", SALES | TODAY, 575 / 6011),
    ("ccmon_queue_occupancy_ratio", SUPPORT | TODAY, 1545 / 3600),
]


def _ids(rows: list[tuple[str, dict[str, str], float]]) -> list[str]:
    return [f"{n}{lab}" for n, lab, _ in rows]


@pytest.mark.parametrize(
    ("name", "labels", "value"), EXPECTED_CONTACTS, ids=_ids(EXPECTED_CONTACTS)
)
async def test_contact_figures_in_metrics(
    exporter: TestClient[Any, Any], name: str, labels: dict[str, str], value: float
) -> None:
    _, samples = await scrape(exporter)
    assert samples[(name, frozenset(labels.items()))] == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize(("name", "labels", "value"), EXPECTED_AGENTS, ids=_ids(EXPECTED_AGENTS))
async def test_agent_figures_in_metrics(
    exporter: TestClient[Any, Any], name: str, labels: dict[str, str], value: float
) -> None:
    _, samples = await scrape(exporter)
    assert samples[(name, frozenset(labels.items()))] == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize(("name", "labels", "value"), EXPECTED_TEAMS, ids=_ids(EXPECTED_TEAMS))
async def test_team_figures_in_metrics(
    exporter: TestClient[Any, Any], name: str, labels: dict[str, str], value: float
) -> None:
    _, samples = await scrape(exporter)
    assert samples[(name, frozenset(labels.items()))] == pytest.approx(value, rel=1e-12)


async def test_every_agent_is_in_its_directory_team(exporter: TestClient[Any, Any]) -> None:
    """All three agents have a team in the agents directory: no series for team none."""
    _, samples = await scrape(exporter)
    teams = {dict(labels)["team"] for name, labels in samples if name.startswith("ccmon_team_")}
    assert teams == {"team-a", "team-b"}


@pytest.mark.parametrize(
    ("name", "labels", "value"), EXPECTED_OPEN_OCCUPANCY, ids=_ids(EXPECTED_OPEN_OCCUPANCY)
)
async def test_open_states_in_metrics_occupancy(
    exporter: TestClient[Any, Any], name: str, labels: dict[str, str], value: float
) -> None:
    _, samples = await scrape(exporter)
    assert samples[(name, frozenset(labels.items()))] == pytest.approx(value, rel=1e-12)


async def test_open_states_in_the_read_apis_occupancy(exporter: TestClient[Any, Any]) -> None:
    sales = (await (await exporter.get("/api/v1/queues/sales")).json())["channels"]["voice"]
    support = (await (await exporter.get("/api/v1/queues/support")).json())["channels"]["chat"]
    got = (sales["windows"]["today"]["occupancy"], support["windows"]["today"]["occupancy"])
    assert got == pytest.approx((575 / 6011, 1545 / 3600), rel=1e-12)


STATES = ("available", "on_contact", "after_contact_work", "not_ready")
REASONS = ("lunch", "break", "training", "other", "none")


def api_time(ms: int) -> str:
    """A time as the read API writes it: RFC 3339 UTC to the second."""
    return iso(ms).replace(".000Z", "Z")


def states(**seconds: int) -> dict[str, float]:
    """Seconds per state, every counted state listed (0 when none)."""
    return {s: seconds.get(s, 0) for s in STATES}


def reasons(**seconds: int) -> dict[str, float]:
    """Not-ready seconds per reason: the configured codes, other and none."""
    return {r: seconds.get(r, 0) for r in REASONS}


#: GET /api/v1/agents at 17:00, sorted by agent id; `contacts` is checked on its own.
LIVE_AGENTS: list[dict[str, Any]] = [
    {
        "agent_id": "a1",
        "name": "Ada",
        "team": "team-a",
        "state": "available",
        "reason": None,
        "state_seconds": 2640,  # since 16:16
        "state_since": api_time(at(16)),
        "queues": ["sales"],
        "capacity": {"voice": 1},
    },
    {
        "agent_id": "a2",
        "name": "Ben",
        "team": "team-a",
        "state": "not_ready",
        "reason": "lunch",
        "state_seconds": 600,  # since 16:50
        "state_since": api_time(at(50)),
        "queues": ["sales"],
        "capacity": {"voice": 1},
    },
    {
        "agent_id": "a3",
        "name": "Cleo",
        "team": "team-b",
        "state": "on_contact",
        "reason": None,
        "state_seconds": 595,  # since 16:50:05
        "state_since": api_time(at(50, 5)),
        "queues": ["support"],
        "capacity": {"chat": 3},
    },
]
#: Each agent's current contacts at 17:00: only Cleo's s3, answered at 16:50:05.
CONTACTS = {
    "a1": [],
    "a2": [],
    "a3": [{"contact_id": "s3", "queue": "support", "channel": "chat", "seconds": 595}],
}

#: The `today` figures of GET /api/v1/agents/{id}, from the script and the table above.
TODAY_FIGURES: dict[str, dict[str, Any]] = {
    # Ada: v1, handle 225 + 60 + 60 = 345; offered v1 once
    "a1": {
        "handled": 1,
        "talk_seconds": 225,
        "hold_seconds": 60,
        "acw_seconds": 60,
        "aht_seconds": 345,
        "state_seconds": states(**STATE_SECONDS["a1"]),
        "reason_seconds": reasons(),
        "occupancy": 345 / 3600,  # (285 + 60) / (285 + 60 + 3,255)
        "offers": 1,
        "offers_declined": 0,
        "transfers": 0,
    },
    # Ben: v2, handle 170 + 0 + 60 = 230; offered v1 (missed) and v2; transferred v2
    "a2": {
        "handled": 1,
        "talk_seconds": 170,
        "hold_seconds": 0,
        "acw_seconds": 60,
        "aht_seconds": 230,
        "state_seconds": states(**STATE_SECONDS["a2"]),
        "reason_seconds": reasons(**{"break": 589, "lunch": 600}),
        "occupancy": 230 / 2411,  # (170 + 60) / (170 + 60 + 2,181); not ready is outside
        "offers": 2,
        "offers_declined": 1,
        "transfers": 1,
    },
    # Cleo: s1 and s2, handle (590 + 60) + (800 + 60) = 1,510; four offers, one rejected
    "a3": {
        "handled": 2,
        "talk_seconds": 1390,
        "hold_seconds": 0,
        "acw_seconds": 120,
        "aht_seconds": 755,
        "state_seconds": states(**STATE_SECONDS["a3"]),
        "reason_seconds": reasons(),
        # chat slots: busy = the handle time of her wrapped-up chats, 1,510 s (s3 is not
        # wrapped up yet); staffed = 3 slots x 3,600 s
        "occupancy": 1510 / 10800,
        "offers": 4,
        "offers_declined": 1,
        "transfers": 0,
    },
}


def without_contacts(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != "contacts"}


async def test_live_agents_in_the_api(exporter: TestClient[Any, Any]) -> None:
    response = await exporter.get("/api/v1/agents")
    assert response.status == 200
    body = await response.json()
    assert [without_contacts(a) for a in body["agents"]] == LIVE_AGENTS
    assert body["generated_at"] == api_time(NOW)
    ids = {}
    for params in ({"team": "team-a"}, {"state": "not_ready"}, {"queue": "support"}):
        got = await (await exporter.get("/api/v1/agents", params=params)).json()
        ids[next(iter(params.values()))] = [a["agent_id"] for a in got["agents"]]
    assert ids == {"team-a": ["a1", "a2"], "not_ready": ["a2"], "support": ["a3"]}


async def test_current_contacts_in_the_api(exporter: TestClient[Any, Any]) -> None:
    body = await (await exporter.get("/api/v1/agents")).json()
    assert {a["agent_id"]: a["contacts"] for a in body["agents"]} == CONTACTS


@pytest.mark.parametrize("agent_id", sorted(TODAY_FIGURES))
async def test_one_agents_day_in_the_api(exporter: TestClient[Any, Any], agent_id: str) -> None:
    body = await (await exporter.get(f"/api/v1/agents/{agent_id}")).json()
    live = {k: body[k] for k in LIVE_AGENTS[0]}
    assert live == next(a for a in LIVE_AGENTS if a["agent_id"] == agent_id)
    today = body["today"]
    wanted = dict(TODAY_FIGURES[agent_id])
    assert today.pop("occupancy") == pytest.approx(wanted.pop("occupancy"), rel=1e-12)
    assert {k: today[k] for k in wanted} == wanted


async def test_one_agents_intervals_in_the_api(exporter: TestClient[Any, Any]) -> None:
    """Ben's four 15-minute intervals of the shift (each 900 s of state time)."""
    body = await (await exporter.get("/api/v1/agents/a2", params={"interval": "15m"})).json()
    rows = {row["start"]: row for row in body["intervals"]}
    shift = [rows[api_time(at(m))] for m in (0, 15, 30, 45)]
    assert [r["end"] for r in shift] == [api_time(at(m)) for m in (15, 30, 45, 60)]
    assert [r["state_seconds"] for r in shift] == [
        states(available=611, not_ready=289),  # break from 16:10:11
        states(not_ready=300, available=600),  # back at 16:20; on v2 from 16:30:10
        states(available=10 + 660, on_contact=170, after_contact_work=60),
        states(available=300, not_ready=600),  # lunch from 16:50, open at 17:00
    ]
    assert [r["reason_seconds"] for r in shift] == [
        reasons(**{"break": 289}),
        reasons(**{"break": 300}),
        reasons(),
        reasons(lunch=600),
    ]
    assert [(r["offers"], r["offers_declined"], r["handled"], r["transfers"]) for r in shift] == [
        (1, 1, 0, 0),
        (0, 0, 0, 0),
        (1, 0, 1, 1),
        (0, 0, 0, 0),
    ]


async def test_routing_snapshot_has_free_slots(exporter: TestClient[Any, Any]) -> None:
    """Free slots now: sales voice 1 (Ada available, Ben's slot is not staffed while he is
    not ready); support chat 3 - 1 = 2 (Cleo's three slots, s3 in one of them)."""
    free = {}
    for queue, channel in (("sales", "voice"), ("support", "chat")):
        body = await (await exporter.get(f"/api/v1/routing/queues/{queue}")).json()
        row = body["channels"][channel]
        free[queue] = (row["agents_available"], row["free_slots"])
    assert free == {"sales": (1, 1), "support": (0, 2)}


async def test_unknown_agent_is_a_json_404(exporter: TestClient[Any, Any]) -> None:
    response = await exporter.get("/api/v1/agents/nobody")
    assert (response.status, response.content_type) == (404, "application/json")
    assert set(await response.json()) == {"error"}
