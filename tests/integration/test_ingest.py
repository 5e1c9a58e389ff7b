"""The HTTP ingest on a real broker and Redis: POSTed events reach the worker's figures."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson
import pytest
from prometheus_client import CollectorRegistry

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.web.server import ServerOptions, serving
from streams.health import WorkerMetrics
from streams.ingest.app import ingest_app
from streams.ingest.producer import KafkaProducer
from streams.ingest.tokens import parse_tokens
from streams.kafka import run_consumer
from streams.settings import Settings
from streams.sources.base import Mapped, SourceMapper, Unmapped
from streams.testing.events import contact, yesterday_ms
from tests.integration.pipeline_helpers import (
    create_topics,
    dump,
    read_dead_letters,
    read_records,
    settings_for,
)
from tests.servers.kafka_server import KafkaServer

pytestmark = pytest.mark.integration

T0 = yesterday_ms() + 10 * 3_600_000
QUEUES = QueuesConfig(queues=(QueueConfig(name="sales"), QueueConfig(name="support")))
AUTH = {"Authorization": "Bearer tok-crm"}


class CallsMapper:
    """A test vendor: {"calls": [[kind, contact, offset_s], ...], "junk": [...]}."""

    name = "calls"

    def verify(self, body: bytes, headers: Mapping[str, str], url: str) -> str | None:
        return None if headers.get("x-calls-signature") == "good" else "signature mismatch"

    def map(self, body: bytes, headers: Mapping[str, str]) -> Mapped:
        payload = orjson.loads(body)
        events = [
            contact(
                f"contact.{kind}", T0 + s * 1000, cid, queue="support", event_id=f"{cid}-{kind}"
            )
            for kind, cid, s in payload["calls"]
        ]
        unmapped = [
            Unmapped("unknown_event", f"event {j['event']}", orjson.dumps(j))
            for j in payload["junk"]
        ]
        return Mapped(events, unmapped)


@asynccontextmanager
async def ingest(settings: Settings, brokers: str | None = None) -> AsyncIterator[str]:
    """The ingest served on a free port (its producer on `brokers`); yields its base URL."""
    if brokers is not None:
        settings = settings.model_copy(update={"brokers": brokers})
    producer = KafkaProducer(settings)
    await producer.start()
    mapper: SourceMapper = CallsMapper()
    app = ingest_app(
        settings, producer, parse_tokens("crm:tok-crm"), {"calls": mapper}, CollectorRegistry()
    )
    try:
        async with serving(app, "127.0.0.1", 0, ServerOptions()) as port:
            yield f"http://127.0.0.1:{port}"
    finally:
        await producer.stop()


async def ready(base: str, timeout_s: float = 30) -> None:
    """Wait until /readyz says the producer is connected."""
    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            async with session.get(f"{base}/readyz") as response:
                if response.status == 200:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError("the ingest never became ready")


async def post(
    base: str, path: str, body: bytes, content_type: str = "application/json", **headers: str
) -> tuple[int, Any, Mapping[str, str]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{base}{path}", data=body, headers={"Content-Type": content_type, **headers}
        ) as response,
    ):
        return response.status, await response.json(), response.headers


@asynccontextmanager
async def worker(settings: Settings) -> AsyncIterator[None]:
    stop = asyncio.Event()
    store = settings.redis_store(QUEUES)
    metrics = WorkerMetrics.create(CollectorRegistry())
    task = asyncio.create_task(run_consumer(settings, QUEUES, store, metrics, stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def totals_when(
    settings: Settings, wanted: dict[tuple[str, str], dict[str, int]], timeout_s: float = 60
) -> dict[tuple[str, str], dict[str, int]]:
    """The store's totals per series once they equal `wanted` (or at the timeout)."""
    store = settings.redis_store(QUEUES)
    deadline = time.monotonic() + timeout_s
    got: dict[tuple[str, str], dict[str, int]] = {}
    while time.monotonic() < deadline:
        data = await asyncio.to_thread(dump, store, T0 - 60_000, T0 + 3_600_000)
        got = {
            s: {k: d["totals"][k] for k in ("queued", "answered", "abandoned") if k in d["totals"]}
            for s, d in data.items()
        }
        if got == wanted:
            break
        await asyncio.sleep(0.2)
    return got


def queued(cid: str, s: int, queue: str = "sales", channel: str = "voice") -> dict[str, Any]:
    return contact(
        "contact.queued", T0 + s * 1000, cid, queue=queue, channel=channel, event_id=f"{cid}-q"
    )


def answered(cid: str, s: int, queue: str = "sales", channel: str = "voice") -> dict[str, Any]:
    return contact(
        "contact.answered", T0 + s * 1000, cid, queue=queue, channel=channel, event_id=f"{cid}-a"
    )


def abandoned(cid: str, s: int) -> dict[str, Any]:
    return contact("contact.abandoned", T0 + s * 1000, cid, event_id=f"{cid}-x")


def cloud(event: dict[str, Any]) -> dict[str, Any]:
    return {**event, "datacontenttype": "application/json", "traceparent": "00-ab-cd-01"}


@pytest.fixture
def make_settings(kafka_bootstrap: str, redis_url: str) -> Callable[..., Settings]:
    return lambda **kw: settings_for(kafka_bootstrap, redis_url, **kw)


async def test_events_posted_in_every_format_reach_the_worker_figures(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    await create_topics(settings)
    bad = queued("c-bad", 1)
    del bad["data"]["queue"]
    async with ingest(settings) as base:
        await ready(base)
        # One event; an array with a bad one (207); NDJSON; CloudEvents, one and a batch.
        single = await post(base, "/ingest/v1/events", orjson.dumps(queued("c-1", 0)), **AUTH)
        mixed = await post(
            base,
            "/ingest/v1/events",
            orjson.dumps([queued("c-2", 5), bad, answered("c-1", 20)]),
            **AUTH,
        )
        lines = b"\n".join(orjson.dumps(e) for e in (queued("c-3", 7), abandoned("c-2", 40)))
        ndjson = await post(base, "/ingest/v1/events", lines, "application/x-ndjson", **AUTH)
        one = await post(
            base,
            "/ingest/v1/events",
            orjson.dumps(cloud(queued("m-1", 3, "support", "chat"))),
            "application/cloudevents+json",
            **AUTH,
        )
        batch = [
            cloud(answered("m-1", 9, "support", "chat")),
            cloud(queued("m-2", 11, "support", "chat")),
        ]
        many = await post(
            base,
            "/ingest/v1/events",
            orjson.dumps(batch),
            "application/cloudevents-batch+json",
            **AUTH,
        )
    assert [r[0] for r in (single, mixed, ndjson, one, many)] == [200, 207, 200, 200, 200]
    assert mixed[1]["errors"] == [
        {
            "index": 1,
            "reason": "missing_field",
            "field": "data.queue",
            "detail": "data.queue is required",
        }
    ]
    # Keyed by the contract: both events of c-1 share a partition (the worker needs that).
    records = await read_records(settings.brokers, settings.events_topic, 8)
    by_key: dict[bytes, set[int]] = {}
    for record in records:
        by_key.setdefault(record.key, set()).add(record.partition)
    assert sorted(by_key) == [b"c-1", b"c-2", b"c-3", b"m-1", b"m-2"]
    assert all(len(partitions) == 1 for partitions in by_key.values())
    wanted = {
        ("sales", "voice"): {"queued": 3, "answered": 1, "abandoned": 1},
        ("support", "chat"): {"queued": 2, "answered": 1},
    }
    async with worker(settings):
        assert await totals_when(settings, wanted) == wanted


async def test_a_vendor_source_gives_figures_and_a_dead_letter_per_unmapped_payload(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    await create_topics(settings)
    body = orjson.dumps(
        {
            "calls": [["queued", "v-1", 0], ["queued", "v-2", 2], ["answered", "v-1", 15]],
            "junk": [{"event": "hold_music", "n": 1}, {"event": "survey_skipped", "n": 2}],
        }
    )
    async with ingest(settings) as base:
        await ready(base)
        refused = await post(base, "/ingest/v1/sources/calls", body, **{"X-Calls-Signature": "bad"})
        status, answer, _ = await post(
            base, "/ingest/v1/sources/calls", body, **{"X-Calls-Signature": "good"}
        )
    assert refused[:2] == (401, {"error": "signature check failed: signature mismatch"})
    assert (status, answer) == (
        200,
        {"accepted": 3, "dead_lettered": 2, "reasons": ["unknown_event"] * 2},
    )
    letters = await read_dead_letters(settings, 2)
    got = sorted(
        ((orjson.loads(r.value), {k: v.decode() for k, v in r.headers}) for r in letters),
        key=lambda pair: str(pair[0]["n"]),
    )
    for _, headers in got:
        assert headers["ccmon.reason"] == "unknown_event"
        assert headers["ccmon.source.topic"] == "ingest:calls"
    assert [h["ccmon.detail"] for _, h in got] == ["event hold_music", "event survey_skipped"]
    wanted = {("support", "voice"): {"queued": 2, "answered": 1}}
    async with worker(settings):
        assert await totals_when(settings, wanted) == wanted


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_broker_is_503_with_retry_after_and_not_ready(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(ingest_produce_timeout_s=2.0)
    async with ingest(settings, brokers=f"127.0.0.1:{closed_port()}") as base:
        status, answer, headers = await post(
            base, "/ingest/v1/events", orjson.dumps(queued("c-1", 0)), **AUTH
        )
        async with aiohttp.ClientSession() as session, session.get(f"{base}/readyz") as probe:
            readiness = (probe.status, await probe.text())
    assert status == 503
    assert headers["Retry-After"] == "1"
    assert answer["error"].startswith("not connected to Kafka at 127.0.0.1:")
    assert readiness == (503, "kafka not connected\n")


async def test_a_body_over_the_limit_is_413_and_a_wrong_token_401_on_the_real_server(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(ingest_max_body_bytes=2048)
    await create_topics(settings)
    async with ingest(settings) as base:
        await ready(base)
        big = orjson.dumps([queued(f"c-{n}", n) for n in range(40)])
        too_large = await post(base, "/ingest/v1/events", big, **AUTH)
        wrong = await post(
            base,
            "/ingest/v1/events",
            orjson.dumps(queued("c-1", 0)),
            Authorization="Bearer tok-crn",
        )
        fine = await post(base, "/ingest/v1/events", orjson.dumps(queued("c-1", 0)), **AUTH)
    assert too_large[:2] == (413, {"error": "request entity too large"})
    assert wrong[:2] == (401, {"error": "missing or wrong bearer token"})
    assert fine[:2] == (200, {"accepted": 1, "rejected": 0})
    records = await read_records(settings.brokers, settings.events_topic, 1, grace_ms=500)
    assert [r.key for r in records] == [b"c-1"]


async def test_the_idempotent_producer_works_where_the_broker_grants_producer_ids(
    make_settings: Callable[..., Settings], kafka_server: KafkaServer
) -> None:
    settings = make_settings(ingest_idempotence=True, ingest_produce_timeout_s=2.0)
    await create_topics(settings)
    event = orjson.dumps(queued("c-1", 0))
    async with ingest(settings) as base:
        if kafka_server.is_tansu:
            # Tansu refuses InitProducerId: the ingest keeps retrying and answers 503.
            await asyncio.sleep(1.0)
            status, answer, _ = await post(base, "/ingest/v1/events", event, **AUTH)
            assert (status, answer["error"]) == (
                503,
                f"not connected to Kafka at {settings.brokers}",
            )
            return
        await ready(base)
        status, answer, _ = await post(base, "/ingest/v1/events", event, **AUTH)
    assert (status, answer) == (200, {"accepted": 1, "rejected": 0})
