"""Every dashboard panel and every rule, run by a real Prometheus against a real ccmon.

Kafka (test broker) -> the real worker -> Redis -> `ccmon exporter` (a subprocess) and the
worker's health port, both scraped every second by Prometheus (Debian's binary) loaded
with deploy/prometheus/rules. The events are replayed in two phases around "now" so that
the counters grow while Prometheus watches (increase() needs two samples). Then each
query goes through /api/v1/query: it must parse and return data.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from prometheus_client import CollectorRegistry, start_http_server

from deploygen.promql import metric_names, selectors
from deploygen.queries import Query, all_queries, recorded_names, substitute
from metrics.store.redis import RedisStore
from streams.health import WorkerMetrics
from streams.kafka import run_consumer
from streams.localservers.process import ManagedProcess, free_port, poll_until
from streams.testing.events import (
    agent,
    contact,
    envelope,
    outcome,
    selfservice,
    survey,
    ticket,
    wrapup,
)
from tests.deploy.tools import tool
from tests.integration.pipeline_helpers import (
    create_topics,
    keyed,
    produce,
    settings_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

ROOT = Path(__file__).resolve().parents[2]
S, M = 1000, 60_000
QUEUES_YAML = """\
reason_codes: [lunch, break]
wrapup_codes: [sale, no_sale]
teams: [team-a, team-b]
defaults: {{sl_threshold_s: 20, sl_target: 0.8, short_abandon_s: 5, daily_reset: "{reset}"}}
queues:
  - {{name: sales, channels: [voice, chat]}}
  - name: support
    channels: [chat, email]
    sl_threshold_s: 30
    sl_target: 0.9
    ticket_sla: [{{tier: [enterprise], first_reply: 10m, resolution: 1h}}, {{resolution: 1d}}]
"""


def daily_reset(now_s: float) -> str:
    """A UTC reset time 2 to 2.25 hours ago, so "today" holds every replayed event
    whatever the hour the test runs (on a quarter hour, as the queues file wants)."""
    minutes = int(now_s // 60) - 120
    minutes -= minutes % 15
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


#: The agents directory: teams for two of the three agents (agent-2 counts as team "none").
AGENTS_YAML = """\
agents:
  agent-0: {name: Ada, team: team-a, capacity: {voice: 1, chat: 2}}
  agent-1: {name: Ben, team: team-b}
"""

RECORDED = recorded_names(ROOT)
QUERIES = all_queries(ROOT)


def _contacts(t0: int, n: int, prefix: str) -> list[dict[str, Any]]:
    """n contacts per (queue, channel) from t0, a minute apart: answered within and outside
    T, abandoned (short and long), flowed out, called back; wrap-ups for the answered."""
    out: list[dict[str, Any]] = []
    for queue, channel in (("sales", "voice"), ("sales", "chat"), ("support", "chat")):
        for i in range(n):
            cid = f"{prefix}-{queue}-{channel}-{i}"
            t = t0 + i * M
            out.append(contact("contact.queued", t, cid, queue, channel))
            kind = i % 6
            if kind in (0, 1, 2):
                wait = (10, 15, 45)[kind] * S
                out.append(contact("contact.answered", t + wait, cid, queue, channel))
                out.append(wrapup(t + wait + 90 * S, cid, 60, 10, 20, queue, channel))
            elif kind == 3:
                out.append(contact("contact.abandoned", t + 3 * S, cid, queue, channel))
            elif kind == 4:
                out.append(contact("contact.abandoned", t + 50 * S, cid, queue, channel))
            else:
                out.append(contact("contact.flowed_out", t + 30 * S, cid, queue, channel))
    return out


def _service(t0: int, n: int, prefix: str) -> list[dict[str, Any]]:
    """n tickets in support/email (replied, solved, some late, reopened, escalated,
    complaints), surveys, self-service sessions and sales contact outcomes naming
    customers (who come back: repeats), from t0, a minute apart."""
    out: list[dict[str, Any]] = []
    for i in range(n):
        tid, t = f"{prefix}-t{i}", t0 + i * M
        tier = "enterprise" if i % 2 else "free"
        tags = ["complaint"] if i % 4 == 0 else []
        priority = ("low", "normal", "high", "urgent")[i % 4]
        out.append(
            ticket(
                "ticket.created",
                t,
                tid,
                "support",
                "email",
                priority=priority,
                customer_tier=tier,
                tags=tags,
                customer_id=f"cust-{i % 3}",
            )
        )
        if i % 3 != 2:
            out.append(ticket("ticket.replied", t, tid, "support", "email", author="customer"))
            late = 20 if i % 5 == 0 else 4  # past the 10-minute enterprise target, or not
            out.append(ticket("ticket.replied", t + late * M, tid, "support", "email"))
        if i % 2 == 0:
            out.append(
                ticket("ticket.status_changed", t + 6 * M, tid, "support", "email", status="solved")
            )
        if i == 4:
            out.append(ticket("ticket.reopened", t + 7 * M, tid, "support", "email"))
            out.append(ticket("ticket.escalated", t + 7 * M, tid, "support", "email"))
        for kind, score in (("csat", 1 + i % 5), ("nps", i % 11), ("ces", 1 + i % 7)):
            out.append(survey(t + 30 * S, kind, score, "support", "email"))
        session = f"{prefix}-s{i}"
        out.append(selfservice(t, session, "started", "support", "chat"))
        stage = ("resolved", "escalated", "started")[i % 3]
        out.append(selfservice(t + 20 * S, session, stage, "support", "chat"))
        out.append(
            outcome(
                t + 40 * S,
                f"{prefix}-o{i}",
                i % 2 == 0,
                "sales",
                "voice",
                customer_id=f"cust-{i % 3}",
                upsell_offered=True,
                upsell_accepted=i % 3 == 0,
                cross_sell_offered=i % 2 == 0,
            )
        )
    return out


def _agents(t0: int) -> list[dict[str, Any]]:
    """Three agents through a contact; then agent-0 goes to lunch (not ready with a reason,
    still so when the phase ends) and agent-1 says its chat capacity."""
    states = ["available", "on_contact", "after_contact_work", "available"]
    out = [
        agent(
            t0 + step * 2 * M + a * S, f"agent-{a}", state, ["sales", "support"], ["voice", "chat"]
        )
        for a in range(3)
        for step, state in enumerate(states)
    ]
    for a, extra in ((0, {"state": "not_ready", "reason": "lunch"}), (1, {"state": "available"})):
        data = {
            "agent_id": f"agent-{a}",
            "queues": ["sales", "support"],
            "channels": ["voice", "chat"],
        }
        out.append(
            envelope("agent.state_changed", t0 + 8 * M, data | extra | {"capacity": {"chat": 2}})
        )
    return out


def _floor(t0: int, prefix: str) -> list[dict[str, Any]]:
    """Per (queue, channel) the contact facts of issue 11: an offer missed then taken, a
    hold, a blind transfer, ends by each side, an outbound contact still in progress, a
    callback attempted without answer (still waiting) and one connected."""
    a0, a1 = {"agent_id": "agent-0"}, {"agent_id": "agent-1"}
    script: list[tuple[str, int, str, dict[str, Any]]] = [
        ("contact.queued", 0, "f1", {}),
        ("contact.offered", 2 * S, "f1", a0),
        ("contact.offer_declined", 12 * S, "f1", {"outcome": "missed"} | a0),
        ("contact.offered", 13 * S, "f1", a1),
        ("contact.answered", 15 * S, "f1", a1),
        ("contact.held", M, "f1", a1),
        ("contact.resumed", 2 * M, "f1", a1),
        ("contact.transferred", 3 * M, "f1", {"kind": "blind", "target": "external"} | a1),
        ("contact.ended", 3 * M, "f1", {"disconnected_by": "agent"} | a1),
        (
            "contact.wrapup_completed",
            4 * M,
            "f1",
            {"talk_s": 105, "hold_s": 60, "acw_s": 60, "wrapup_code": "sale"} | a1,
        ),
        ("contact.queued", S, "f2", {"direction": "outbound"}),
        ("contact.answered", 5 * S, "f2", {"direction": "outbound", "agent_id": "agent-2"}),
        ("contact.queued", 0, "f3", {}),
        ("contact.answered", 5 * S, "f3", a0),
        ("contact.ended", M, "f3", {"disconnected_by": "customer"} | a0),
        ("contact.queued", 0, "f4", {}),
        ("contact.callback_requested", 20 * S, "f4", {}),
        ("contact.callback_attempted", M, "f4", {"outcome": "no_answer"}),
        ("contact.queued", 0, "f5", {}),
        ("contact.callback_requested", 20 * S, "f5", {}),
        ("contact.callback_attempted", M, "f5", {"outcome": "connected"}),
    ]
    return [
        envelope(
            kind,
            t0 + dt,
            {"contact_id": f"{prefix}-{cid}-{queue}-{channel}", "queue": queue, "channel": channel}
            | data,
        )
        for queue, channel in (("sales", "voice"), ("sales", "chat"), ("support", "chat"))
        for kind, dt, cid, data in script
    ]


def phases(now: int) -> tuple[list[tuple[bytes | None, bytes]], list[tuple[bytes | None, bytes]]]:
    first = _contacts(now - 70 * M, 12, "p1") + _agents(now - 60 * M)
    first += _service(now - 70 * M, 12, "p1") + _floor(now - 65 * M, "p1")
    second = (
        _contacts(now - 12 * M, 8, "p2")
        + _floor(now - 10 * M, "p2")
        + _service(now - 12 * M, 8, "p2")
        + _agents(now - 11 * M)
        + [contact("contact.queued", now - 200 * S, "still-waiting", "sales", "voice")]
        # behind the watermark but retained: applied as a correction (late, corrected)
        + [contact("contact.queued", now - 40 * M, "late-one", "support", "chat")]
    )
    bad = [(b"bad", b"{not json")]  # dead-lettered: ccmon_events_rejected_total{reason}
    return keyed(first) + bad, keyed(second)


async def _applied(store: RedisStore, wanted: dict[str, int]) -> None:
    """Applied up to `wanted`, and up to the customer contacts the worker forwards to the
    same topic (they land after the produced records)."""
    await asyncio.to_thread(
        poll_until,
        lambda: all(store.load_offsets().get(tp, -1) >= last for tp, last in wanted.items()),
        timeout_s=120,
        what=f"offsets {wanted} applied",
    )
    await asyncio.sleep(2)  # forwarded customer contacts: a couple of flushes later


def _get(url: str, path: str, **params: str) -> Any:
    query = urllib.parse.urlencode(params)
    with urllib.request.urlopen(f"{url}{path}?{query}", timeout=10) as resp:
        return json.load(resp)


def instant(url: str, expr: str, at: float | None = None) -> dict[str, Any]:
    """/api/v1/query; an error (parse or evaluation) comes back as status "error"."""
    params = {"query": expr}
    if at is not None:
        params["time"] = f"{at:.3f}"
    try:
        data: dict[str, Any] = _get(url, "/api/v1/query", **params)
    except urllib.error.HTTPError as exc:  # 400/422 carry the error as JSON
        data = json.load(exc)
    return data


def _scrapes(url: str, job: str) -> int:
    result = instant(url, f'count_over_time(up{{job="{job}"}}[5m])')["data"]["result"]
    return int(float(result[0]["value"][1])) if result else 0


async def _wait_scrapes(url: str, more: int) -> None:
    """Wait until both targets were scraped `more` more times."""
    start = {j: _scrapes(url, j) for j in ("ccmon-exporter", "ccmon-worker")}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if all(_scrapes(url, j) >= start[j] + more for j in start):
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"Prometheus did not scrape {more} more times: {start}")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def prometheus(
    kafka_bootstrap: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    prom_binary = tool("prometheus")
    work = tmp_path_factory.mktemp("prometheus")
    queues_file = work / "queues.yaml"
    queues_file.write_text(QUEUES_YAML.format(reset=daily_reset(time.time())), encoding="utf-8")
    agents_file = work / "agents.yaml"
    agents_file.write_text(AGENTS_YAML, encoding="utf-8")
    worker_port, exporter_port, prom_port = free_port(), free_port(), free_port()
    settings = settings_for(
        kafka_bootstrap,
        redis_url,
        queues_file=queues_file,
        agents_file=agents_file,
        customer_id_salt="reality-salt",
    )
    await create_topics(settings)

    registry = CollectorRegistry()
    health_server, health_thread = start_http_server(worker_port, "127.0.0.1", registry)
    exporter = ManagedProcess(
        "ccmon exporter",
        [sys.executable, "-m", "streams.cli", "exporter", "--port", str(exporter_port)],
        work / "exporter.log",
        env={
            "CCMON_REDIS_URL": redis_url,
            "CCMON_REDIS_PREFIX": settings.redis_prefix,
            "CCMON_QUEUES_FILE": str(queues_file),
            "CCMON_AGENTS_FILE": str(agents_file),
            "CCMON_EXPORTER_HOST": "127.0.0.1",
        },
        cwd=ROOT,
    )
    (work / "prometheus.yml").write_text(
        json.dumps(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [
                    str(p) for p in sorted((ROOT / "deploy/prometheus/rules").glob("*.yml"))
                ],
                "scrape_configs": [
                    {
                        "job_name": "ccmon-exporter",
                        "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"]}],
                    },
                    {
                        "job_name": "ccmon-worker",
                        "static_configs": [{"targets": [f"127.0.0.1:{worker_port}"]}],
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    prom = ManagedProcess(
        "prometheus",
        [
            prom_binary,
            f"--config.file={work / 'prometheus.yml'}",
            f"--storage.tsdb.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
        ],
        work / "prometheus.log",
    )
    url = f"http://127.0.0.1:{prom_port}"
    stop = asyncio.Event()
    store = RedisStore.from_url(redis_url, prefix=settings.redis_prefix)
    task = asyncio.create_task(
        run_consumer(settings, settings.queues(), store, WorkerMetrics.create(registry), stop)
    )
    try:
        exporter.start()
        exporter.wait_ready(
            lambda: (
                urllib.request.urlopen(
                    f"http://127.0.0.1:{exporter_port}/healthz", timeout=1
                ).status
                == 200
            ),
            timeout_s=60,
            what="ccmon exporter",
        )
        prom.start()
        prom.wait_ready(
            lambda: urllib.request.urlopen(f"{url}/-/ready", timeout=1).status == 200,
            timeout_s=60,
            what="prometheus",
        )
        first, second = phases(int(time.time() * 1000))
        await _applied(store, await produce(settings, first))
        await _wait_scrapes(url, 3)
        await _applied(store, await produce(settings, second))
        await _wait_scrapes(url, 5)
        await asyncio.to_thread(
            poll_until,
            lambda: bool(
                instant(url, "queue:ccmon_queue_service_level:ratio_rate5m")["data"]["result"]
            ),
            timeout_s=30,
            what="recording rules evaluated",
        )
        yield url
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
        prom.stop()
        exporter.stop()
        health_server.shutdown()
        health_thread.join(5)


DATA_QUERIES = [q for q in QUERIES if q.kind in ("panel", "variable", "record")]
ALERTS = [q for q in QUERIES if q.kind == "alert"]


@pytest.mark.parametrize("query", DATA_QUERIES, ids=[q.source for q in DATA_QUERIES])
async def test_panel_and_recording_queries_parse_and_return_data(
    prometheus: str, query: Query
) -> None:
    expr = substitute(query.expr)
    # "Same day last week" targets: Prometheus started seconds ago, so evaluate them a
    # week ahead, where `offset 1w` lands on the data just scraped.
    at = time.time() + 7 * 86400 if "offset 1w" in expr else None
    answer = instant(prometheus, expr, at)
    assert answer["status"] == "success", answer
    assert answer["data"]["result"], f"no data for {expr}"


@pytest.mark.parametrize("query", ALERTS, ids=[q.source for q in ALERTS])
async def test_alert_expressions_parse_and_read_series_that_exist(
    prometheus: str, query: Query
) -> None:
    """An alert's result is empty while all is well, so each selector in it must have data."""
    answer = instant(prometheus, query.expr)
    assert answer["status"] == "success", answer
    for selector in selectors(query.expr):
        assert instant(prometheus, selector)["data"]["result"], f"{selector}: no series"


async def test_prometheus_evaluates_every_rule_without_error(prometheus: str) -> None:
    groups = _get(prometheus, "/api/v1/rules")["data"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    assert len(rules) == len(RECORDED) + len(ALERTS)
    assert {r["name"]: r["health"] for r in rules if r["health"] != "ok"} == {}


async def test_no_query_names_a_metric_ccmon_does_not_export(prometheus: str) -> None:
    """Names come from what Prometheus actually scraped (plus recorded ones)."""
    scraped = set(_get(prometheus, "/api/v1/label/__name__/values")["data"])
    unknown = {
        q.source: sorted(metric_names(substitute(q.expr)) - scraped - RECORDED) for q in QUERIES
    }
    assert {k: v for k, v in unknown.items() if v} == {}


async def test_a_contact_waiting_now_fires_the_waiting_alert_while_it_waits(
    prometheus: str,
) -> None:
    """The replay leaves two contacts waiting: sales/voice since 200 s before it started,
    and support/chat (the late event) since 40 minutes before."""
    wanted = {("sales", "voice"): 200, ("support", "chat"): 2400}
    firing: dict[tuple[str, str], float] = {}
    deadline = time.monotonic() + 30
    while set(firing) != set(wanted) and time.monotonic() < deadline:
        alerts = _get(prometheus, "/api/v1/alerts")["data"]["alerts"]
        firing = {
            (a["labels"]["queue"], a["labels"]["channel"]): float(a["value"])
            for a in alerts
            if a["labels"]["alertname"] == "CcmonContactWaitingTooLong" and a["state"] == "firing"
        }
        await asyncio.sleep(0.5)
    assert set(firing) == set(wanted)
    for key, at_least in wanted.items():
        assert at_least <= firing[key] < at_least + 600, key
