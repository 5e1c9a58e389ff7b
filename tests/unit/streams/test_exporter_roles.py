"""CCMON_EXPORTER_ROLE / ``ccmon exporter --role``: which routes and families each role serves."""

from __future__ import annotations

import os

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer

from metrics.config.queues import QueuesConfig
from metrics.store.memory import InMemoryStore
from streams.cli import main
from streams.exporter import exporter_app
from streams.settings import Settings
from streams.testing.events import T0, contact
from streams.testing.measure import update_of

NOW = T0 + 10 * 60_000
WAITING = 'ccmon_queue_contacts_waiting{channel="voice",queue="sales"} 1.0'
ROUTING = 'ccmon_queue_agents_staffed{channel="voice",queue="sales"} 0.0'


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CCMON_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CCMON_PUBLISH_SNAPSHOTS", "false")


def _store() -> InMemoryStore:
    store = InMemoryStore()
    store.flush(update_of([contact("contact.queued", NOW - 60_000, "c1")], QueuesConfig()), NOW)
    return store


async def _get(role: str | None, paths: list[str]) -> dict[str, tuple[int, bytes]]:
    app = exporter_app(_store(), QueuesConfig(), Settings(), clock_ms=lambda: NOW, role=role)  # type: ignore[arg-type]
    out = {}
    async with TestClient(TestServer(app)) as client:
        for path in paths:
            response = await client.get(path)
            out[path] = (response.status, await response.read())
    return out


PATHS = [
    "/metrics",
    "/healthz",
    "/api/v1/queues",
    "/api/v1/queues/sales",
    "/api/v1/routing/queues/sales",
    "/wallboard",
]


def test_all_is_the_default() -> None:
    assert Settings().exporter_role == "all"


async def test_all_serves_everything() -> None:
    got = await _get(None, PATHS)
    assert {path: status for path, (status, _) in got.items()} == dict.fromkeys(PATHS, 200)
    lines = got["/metrics"][1].decode().splitlines()
    assert WAITING in lines
    assert ROUTING in lines


async def test_metrics_serves_the_scrape_and_health_only() -> None:
    got = await _get("metrics", PATHS)
    statuses = {path: status for path, (status, _) in got.items()}
    assert statuses == {
        "/metrics": 200,
        "/healthz": 200,
        "/api/v1/queues": 404,
        "/api/v1/queues/sales": 404,
        "/api/v1/routing/queues/sales": 404,
        "/wallboard": 404,
    }
    assert orjson.loads(got["/api/v1/queues"][1]) == {"error": "no such path: /api/v1/queues"}
    lines = got["/metrics"][1].decode().splitlines()
    assert WAITING in lines  # the queue families
    assert ROUTING in lines  # and the routing gauges, from its own refresh


async def test_api_serves_every_read_and_only_its_own_process_metrics() -> None:
    got = await _get("api", PATHS)
    assert {path: status for path, (status, _) in got.items()} == dict.fromkeys(PATHS, 200)
    text = got["/metrics"][1].decode()
    assert "ccmon_queue_" not in text
    assert "ccmon_routing_" not in text
    assert "process_cpu_seconds_total" in text
    queue = orjson.loads(got["/api/v1/queues/sales"][1])
    assert queue["channels"]["voice"]["contacts_waiting"] == 1


async def test_the_roles_answer_the_same_bytes() -> None:
    paths = ["/api/v1/queues", "/api/v1/queues/sales", "/api/v1/routing/queues/sales"]
    everything = await _get("all", [*paths, "/metrics"])
    api = await _get("api", paths)
    scrape = await _get("metrics", ["/metrics"])
    assert {p: everything[p] for p in paths} == api
    assert _queue_lines(scrape["/metrics"][1]) == _queue_lines(everything["/metrics"][1])


def _queue_lines(text: bytes) -> list[bytes]:
    """The queue and routing samples (process metrics move between two scrapes)."""
    return [line for line in text.splitlines() if line.startswith(b"ccmon_queue_")]


def test_the_cli_lists_the_roles(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["exporter", "--help"])
    assert exc.value.code == 0
    assert "--role {all,api,metrics}" in capsys.readouterr().out


def test_the_cli_refuses_an_unknown_role(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["exporter", "--role", "scrape"])
    assert exc.value.code == 2
    assert "invalid choice: 'scrape'" in capsys.readouterr().err
