"""The broker stalls while the worker produces dead letters: it waits, retries and resumes.

A Tansu of the test's own advertises a Toxiproxy in front of it, so every connection the
worker makes goes through the proxy; the test drops the broker's answers (a `timeout`
toxic) for a few seconds, several times, while a malformed burst is being dead-lettered.
The producer's requests time out, the outbox sends them again after a pause, and the run
ends exact. Skips without toxiproxy-server (`make deploy-tools` builds it).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from streams.localservers import free_port
from tests.integration.faults_rig import direct_port, own_tansu
from tests.integration.pipeline_helpers import dump, keyed, read_records, settings_for
from tests.integration.test_worker import QUEUES, worker
from tests.integration.test_worker_faults import (
    DAY,
    T0,
    clean_pass,
    malformed,
    produce_all,
    sample,
    wait_until_count,
)
from tests.servers import create_topics
from tests.servers.toxiproxy import Toxiproxy
from tests.traffic import messy_stream

pytestmark = pytest.mark.integration

#: How long each stall lasts, and how many there are.
STALL_S = 3.0
STALLS = 3


async def stall_while_dead_lettering(registry: CollectorRegistry, proxy: Toxiproxy) -> int:
    """Stall the broker STALLS times once dead letters are flowing; return how many."""
    stalls = 0
    deadline = time.monotonic() + 60
    while stalls < STALLS and time.monotonic() < deadline:
        rejected = sample(registry, "ccmon_events_rejected_total", reason="malformed_json")
        if rejected > 1000 * (stalls + 1):
            toxic = proxy.add("kafka", "timeout", "downstream", timeout=0)
            await asyncio.sleep(STALL_S)
            proxy.remove("kafka", toxic)  # closes the connections it held
            stalls += 1
        await asyncio.sleep(0.05)
    return stalls


async def test_a_broker_that_stalls_during_a_burst_of_dead_letters_is_waited_out(
    toxiproxy: Toxiproxy, redis_url: str, tmp_path: Path
) -> None:
    port = free_port()
    with own_tansu(tmp_path, advertised_port=port) as tansu:
        toxiproxy.proxy("kafka", f"127.0.0.1:{direct_port(tansu)}", listen_port=port)
        front = f"127.0.0.1:{port}"
        settings = settings_for(
            front,
            redis_url,
            outbox_max_records=500,
            max_batch=500,
            producer_request_timeout_ms=1000,
            delivery_max_backoff_s=0.5,
            session_timeout_ms=10_000,
        )
        await create_topics(front, {settings.events_topic: 4, settings.deadletter_topic: 4})
        bad = malformed(12_000, seed=12)
        values = bad + keyed(messy_stream(T0, contacts=1000, seed=13))
        await produce_all(settings, values)
        store = settings.redis_store(QUEUES)
        async with worker(settings) as registry:
            stalls = await stall_while_dead_lettering(registry, toxiproxy)
            await wait_until_count(store, len(values), timeout_s=180)
        letters = await read_records(front, settings.deadletter_topic, len(bad), grace_ms=2000)
    expected, _ = await clean_pass(settings, values)
    assert stalls == STALLS
    assert dump(store, T0, T0 + DAY) == dump(expected, T0, T0 + DAY)
    # Every bad record is in the dead-letter topic; a request the broker wrote but whose
    # answer the stall held back is sent again, so a few may be there twice.
    assert {r.value for r in letters} == {v for _, v in bad}
    assert sample(registry, "ccmon_outbox_retries_total") > 0
    assert sample(registry, "ccmon_events_rejected_total", reason="malformed_json") == 12_000
