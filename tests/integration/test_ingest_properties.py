"""Every operation of the ingest's OpenAPI document, property-tested with schemathesis.

The real ingest app on the real broker (a test vendor source registered), served by
``serving`` on loopback as in production. Schemathesis generates valid and invalid
requests; no answer may be a 5xx, and every answer must be one the document describes.
Bounded per operation for CI (MAX_EXAMPLES).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from prometheus_client import CollectorRegistry
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation.case import Case

from metrics.web.server import ServerOptions, serving
from streams.ingest.app import ingest_app
from streams.ingest.openapi import OPENAPI
from streams.ingest.producer import KafkaProducer
from streams.ingest.tokens import parse_tokens
from streams.settings import Settings
from streams.sources.base import Mapped, SourceMapper, Unmapped

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 60
SCHEMA = schemathesis.openapi.from_dict(OPENAPI)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@schemathesis.serializer("application/x-ndjson", "application/ndjson", "application/jsonl")
def _ndjson(ctx: object, value: object) -> bytes:
    """NDJSON bodies: the document describes them as a string (one JSON event a line)."""
    return value.encode() if isinstance(value, str) else str(value).encode()


class Anything:
    """A vendor that signs nothing and maps nothing: every body is one dead letter."""

    name = "anything"

    def verify(self, body: bytes, headers: Mapping[str, str], url: str) -> str | None:
        return None

    def map(self, body: bytes, headers: Mapping[str, str]) -> Mapped:
        return Mapped(unmapped=[Unmapped("unknown_event", "test vendor", body)])


@pytest.fixture(scope="module")
def base_url(kafka_bootstrap: str) -> Iterator[str]:
    """The ingest on a free loopback port, in its own thread and event loop."""
    tag = uuid.uuid4().hex[:8]
    config = Settings(
        brokers=kafka_bootstrap,
        events_topic=f"props-events-{tag}",
        deadletter_topic=f"props-dead-{tag}",
        ingest_max_body_bytes=64 * 1024,
    )
    port: Future[int] = Future()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def run() -> None:
        producer = KafkaProducer(config)
        await producer.start()
        for _ in range(600):  # connects in the background
            if producer.connected:
                break
            await asyncio.sleep(0.05)
        mapper: SourceMapper = Anything()
        tokens = parse_tokens("props:tok")
        app = ingest_app(config, producer, tokens, {"anything": mapper}, CollectorRegistry())
        try:
            async with serving(app, "127.0.0.1", 0, ServerOptions()) as bound:
                port.set_result(bound)
                await stop.wait()
        finally:
            await producer.stop()

    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port.result(timeout=60)}"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=30)


@SCHEMA.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the work tree
    suppress_health_check=list(HealthCheck),
)
def test_no_500_and_nothing_outside_the_document(case: Case[Any], base_url: str) -> None:
    case.call_and_validate(
        base_url=base_url, checks=CHECKS, headers={"Authorization": "Bearer tok"}
    )
