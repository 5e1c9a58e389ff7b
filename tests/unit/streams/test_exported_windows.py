"""CCMON_EXPORTED_WINDOWS: which windows /metrics exports, validated, wired into the exporter."""

from __future__ import annotations

import os
import re

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import ValidationError

from metrics.config.queues import QueuesConfig
from metrics.store.memory import InMemoryStore
from streams.exporter import exporter_app
from streams.settings import Settings
from streams.testing.events import T0, contact
from streams.testing.measure import update_of

NOW = T0 + 10 * 60_000


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CCMON_"):
            monkeypatch.delenv(name)


def test_every_window_by_default() -> None:
    assert Settings().exported_window_list() == ("5m", "15m", "60m", "today")


def test_a_list_is_trimmed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCMON_EXPORTED_WINDOWS", " today, 15m ")
    assert Settings().exported_window_list() == ("today", "15m")


@pytest.mark.parametrize("value", ["15m,2h", "", " , "])
def test_an_unknown_or_empty_list_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CCMON_EXPORTED_WINDOWS", value)
    with pytest.raises(ValidationError, match=r"choose among \['5m', '15m', '60m', 'today'\]"):
        Settings()


async def test_the_exporter_exports_only_the_chosen_windows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CCMON_EXPORTED_WINDOWS", "today")
    monkeypatch.setenv("CCMON_PUBLISH_SNAPSHOTS", "false")
    store = InMemoryStore()
    queues = QueuesConfig()
    store.flush(update_of([contact("contact.queued", NOW - 60_000, "c1")], queues), NOW)
    app = exporter_app(store, queues, Settings(), clock_ms=lambda: NOW)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/metrics")
        text = await response.text()
    assert response.status == 200
    assert set(re.findall(r'window="([^"]+)"', text)) == {"today"}
    line = 'ccmon_queue_window_queued_contacts{channel="voice",queue="sales",window="today"} 1.0'
    assert line in text.splitlines()
    assert 'ccmon_queue_contacts_waiting{channel="voice",queue="sales"} 1.0' in text
