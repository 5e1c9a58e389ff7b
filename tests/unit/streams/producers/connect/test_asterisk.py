"""The AMI client against the recorded session played by a local test server.

No Asterisk runs here: `ami_server.AmiServer` plays tests/fixtures/asterisk/ami-session.txt
over real TCP. The sinks are the in-memory twins.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from streams import deadletter
from streams.producers.connect import deadletters
from streams.producers.connect.asterisk import AmiConnector, AmiLoginError, AmiOptions
from streams.producers.connect.deadletters import MemoryDeadLetters
from streams.producers.keys import event_key
from streams.producers.sinks import MemorySink
from streams.sources.asterisk_ami import AmiFramer, AmiMapper
from tests.unit.streams.producers.connect.ami_server import SECRET, AmiServer, recording

T = 1_794_816_000_000


def expected_events() -> list[dict[str, Any]]:
    """The recording mapped in one pass, received at T (the pure mapper's answer)."""
    banner, messages = recording()
    mapper = AmiMapper()
    return [
        e for m in AmiFramer().feed(banner + b"".join(messages)) for e in mapper.map(m, T).events
    ]


def options(port: int, secret: str = SECRET) -> AmiOptions:
    return AmiOptions("127.0.0.1", port, "ccmon", secret, max_backoff_s=0.2)


async def run_until(
    server: AmiServer, connector: AmiConnector, sink: MemorySink, count: int
) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(connector.run(stop))
    for _ in range(300):
        if len(sink.sent) >= count or task.done():
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 10)
    await server.close()


async def test_the_session_is_produced_keyed_with_its_dead_letters() -> None:
    banner, messages = recording()
    server = AmiServer(banner, messages, chunk=7)  # partial reads all the way
    port = await server.start()
    sink, dead = MemorySink(), MemoryDeadLetters()
    connector = AmiConnector(options(port), sink, dead, clock=lambda: T)
    expected = expected_events()
    await run_until(server, connector, sink, len(expected))

    assert [event for _, event in sink.sent] == expected
    assert [key for key, _ in sink.sent] == [event_key(e) for e in expected]
    assert connector.sessions == 1
    assert dead.counts == Counter(unknown_event=1, invalid_value=1)
    first = dead.sent[0]
    assert first[0].payload.startswith(b"Event: AgentLogin\r\nPrivilege: agent,all\r\n")
    assert first[1] == [
        ("ccmon.reason", b"unknown_event"),
        ("ccmon.detail", b"AgentLogin: not an event ccmon maps"),
        ("ccmon.source.size", str(len(first[0].payload)).encode()),
        ("ccmon.source.origin", f"asterisk-ami://127.0.0.1:{port}".encode()),
    ]
    login, status = server.actions[0][:2]
    assert login == (
        b"Action: Login\r\nActionID: ccmon-login\r\nUsername: ccmon\r\n"
        b"Secret: s3cret\r\nEvents: agent\r\n\r\n"
    )
    assert status == b"Action: QueueStatus\r\n\r\n"


async def test_a_reconnect_resumes_without_duplicates() -> None:
    banner, messages = recording()
    # The first line drops after 20 messages; the second session repeats 8 of them.
    server = AmiServer(banner, messages, plays=[(0, 20), (12, None)], drop_first=1)
    port = await server.start()
    sink, dead = MemorySink(), MemoryDeadLetters()
    connector = AmiConnector(options(port), sink, dead, clock=lambda: T)
    expected = expected_events()
    await run_until(server, connector, sink, len(expected))

    assert connector.sessions == 2
    assert len(server.actions) == 2  # the dropped connect never got to the login
    ids = [event["id"] for _, event in sink.sent]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(e["id"] for e in expected)
    assert [event for _, event in sink.sent] == expected
    # Played twice: two offers, an abandon, a join, a miss and an answer (6 events).
    assert connector.repeats == 6
    assert dead.counts == Counter(unknown_event=1, invalid_value=1)


async def test_a_refused_login_is_not_retried_and_names_the_settings() -> None:
    banner, messages = recording()
    server = AmiServer(banner, messages)
    port = await server.start()
    connector = AmiConnector(options(port, "wrong"), MemorySink(), MemoryDeadLetters())
    with pytest.raises(AmiLoginError, match="Authentication failed.*CCMON_AMI_SECRET"):
        await asyncio.wait_for(connector.run(asyncio.Event()), 10)
    await server.close()
    assert len(server.actions) == 1


def test_dead_letter_headers_are_the_workers() -> None:
    assert deadletters.HEADER_REASON == deadletter.HEADER_REASON
    assert deadletters.HEADER_DETAIL == deadletter.HEADER_DETAIL
    assert deadletters.HEADER_SIZE == deadletter.HEADER_SIZE
    assert deadletters.DETAIL_LIMIT == deadletter.DETAIL_LIMIT
