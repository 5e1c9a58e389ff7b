"""`ccmon ingest` as a process on the real broker: ready, accepts, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import aiohttp
import orjson
import pytest

from streams.testing.events import contact, yesterday_ms
from tests.integration.pipeline_helpers import read_records
from tests.servers import create_topics

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_the_command_serves_until_sigterm(kafka_bootstrap: str) -> None:
    topic = f"events-{uuid.uuid4().hex[:8]}"
    await create_topics(kafka_bootstrap, {topic: 4})
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CCMON_")}
    env = {
        **clean,
        "CCMON_BROKERS": kafka_bootstrap,
        "CCMON_EVENTS_TOPIC": topic,
        "CCMON_CREATE_TOPICS": "false",
        "CCMON_INGEST_HOST": "127.0.0.1",
        "CCMON_INGEST_TOKENS": "crm:tok-1,pbx:tok-2",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "streams.cli",
        "ingest",
        "--port",
        str(port),
        env=env,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    event = contact("contact.queued", yesterday_ms(), "c-9", event_id="c-9-q")
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    async with session.get(f"{base}/readyz") as probe:
                        if probe.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.2)
            headers = {"Authorization": "Bearer tok-2", "Content-Type": "application/json"}
            async with session.post(
                f"{base}/ingest/v1/events", data=orjson.dumps(event), headers=headers
            ) as response:
                assert (response.status, await response.json()) == (
                    200,
                    {"accepted": 1, "rejected": 0},
                )
            async with session.get(f"{base}/metrics") as response:
                metrics = await response.text()
        labels = 'code="200",route="/ingest/v1/events",token="pbx"'
        assert f"ccmon_ingest_requests_total{{{labels}}} 1.0" in metrics
    finally:
        process.send_signal(signal.SIGTERM)
        _, raw = await asyncio.wait_for(process.communicate(), 30)
    stderr = raw.decode()
    assert process.returncode == 0, stderr
    assert "ingest: tokens crm, pbx" in stderr
    assert f"ccmon ingest on http://127.0.0.1:{port}" in stderr
    [record] = await read_records(kafka_bootstrap, topic, 1)
    assert (record.key, orjson.loads(record.value)) == (b"c-9", event)
