"""Every operation of the OpenAPI document, property-tested with schemathesis.

The real exporter app (streams.exporter.exporter_app: read API, routing API, pages) on a
real Redis holding a small scenario, served by ``serving`` on loopback as in production.
Schemathesis generates valid and invalid requests from the document; no answer may be a
5xx, and every answer must be one the document describes (status, content type, headers,
body schema). Bounded per operation for CI (MAX_EXAMPLES).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Future

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from schemathesis.generation.case import Case

from metrics.clock import wall_ms
from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.core.aggregator import Aggregator
from metrics.web.openapi import OPENAPI
from metrics.web.server import ServerOptions, serving
from streams.decode import decode
from streams.exporter import exporter_app
from streams.settings import Settings
from streams.testing.events import raw
from streams.testing.routing_scenario import scenario

pytestmark = pytest.mark.integration

#: Examples per operation and phase: enough to find the 500s of issue 14 in seconds.
MAX_EXAMPLES = 200
QUEUES = QueuesConfig(queues=(QueueConfig(name="sales"), QueueConfig(name="quiet")))
SCHEMA = schemathesis.openapi.from_dict(OPENAPI)
# Invalid requests may also be refused by the /api bounds (body: 413, long query: 414).
_REJECTION = SCHEMA.config.checks.negative_data_rejection
_REJECTION.expected_statuses = [*_REJECTION.expected_statuses, "413", "414"]


#: An hour ago (within any Redis TTL): the scenario the store holds, and the app's "now".
EVENTS, NOW = scenario(wall_ms() // 60_000 * 60_000 - 60 * 60_000)


def _rfc3339(instant: tuple[int, dt.timezone]) -> str:
    moment = dt.datetime.fromtimestamp(instant[0] / 1000, instant[1])
    return moment.isoformat().replace("+00:00", "Z")


# date-time values: mostly instants in the two hours before NOW, in any offset (so that
# requests pass the span checks and reach the store), some anywhere in years 1-9999.
_OFFSETS = st.integers(-1439, 1439).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
_NEAR = st.tuples(st.integers(NOW - 2 * 3_600_000, NOW - 1), _OFFSETS).map(_rfc3339)
_ANY = st.datetimes(timezones=_OFFSETS).map(lambda d: d.isoformat().replace("+00:00", "Z"))
schemathesis.openapi.format("date-time", st.one_of(_NEAR, _NEAR, _ANY))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    unsupported_method,
]


@pytest.fixture(scope="module")
def base_url(redis_url: str) -> Iterator[str]:
    """The exporter on a free loopback port, in its own thread and event loop."""
    config = Settings(
        redis_url=redis_url, redis_prefix=f"props-{uuid.uuid4().hex[:8]}", publish_snapshots=False
    )
    store = config.redis_store()
    aggregator = Aggregator(QUEUES)
    for event in EVENTS:
        aggregator.apply(decode(raw(event), 1 << 16))
    store.flush(aggregator.drain(), NOW)
    port: Future[int] = Future()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def run() -> None:
        app = exporter_app(store, QUEUES, config, clock_ms=lambda: NOW)
        async with serving(app, "127.0.0.1", 0, ServerOptions()) as bound:
            port.set_result(bound)
            await stop.wait()

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
def test_no_500_and_nothing_outside_the_document(case: Case, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, checks=CHECKS)
