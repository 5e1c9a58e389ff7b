"""The wall board's routes, assets and colour thresholds (the browser tests are in tests/e2e)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from metrics.config.queues import QueueConfig, QueueDefaults, QueuesConfig
from metrics.store.memory import InMemoryStore
from metrics.web.api import make_app
from metrics.web.wallboard.thresholds import board_config, colour, limits, severity_key

QUEUES = QueuesConfig(
    defaults=QueueDefaults(sl_threshold_s=30, sl_target=0.75),
    queues=(QueueConfig(name="sales", sl_threshold_s=20, sl_target=0.8),),
)


@pytest.fixture
async def client() -> AsyncIterator[TestClient[Any, Any]]:
    app = make_app(InMemoryStore(), QUEUES, CollectorRegistry(), clock_ms=lambda: 0)
    async with TestClient(TestServer(app)) as client:
        yield client


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/wallboard", "text/html"),
        ("/wallboard/static/wallboard.css", "text/css"),
        ("/wallboard/static/wallboard.js", "text/javascript"),
        ("/wallboard/config.json", "application/json"),
    ],
)
async def test_routes(client: TestClient[Any, Any], path: str, content_type: str) -> None:
    response = await client.get(path)
    assert response.status == 200 and response.content_type == content_type


@pytest.mark.parametrize("path", ["/wallboard/static/nope.js", "/wallboard/static/wallboard.html"])
async def test_unknown_assets_are_404(client: TestClient[Any, Any], path: str) -> None:
    assert (await client.get(path)).status == 404


async def test_no_external_network_assets(client: TestClient[Any, Any]) -> None:
    for path in ("/wallboard", "/wallboard/static/wallboard.css", "/wallboard/static/wallboard.js"):
        text = await (await client.get(path)).text()
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text), path


async def test_config_carries_each_queues_thresholds(client: TestClient[Any, Any]) -> None:
    config = await (await client.get("/wallboard/config.json")).json()
    assert config["queues"]["sales"]["sl_target"] == 0.8
    assert config["queues"]["sales"]["wait_red_s"] == 40
    assert config["defaults"]["sl_threshold_s"] == 30
    assert config["refresh_ms"] <= 2000


SALES = limits(QUEUES.get("sales"))


@pytest.mark.parametrize(
    ("metric", "value", "expected"),
    [
        ("service_level", None, "none"),
        ("service_level", 0.8, "good"),  # at the target
        ("service_level", 0.95, "good"),
        ("service_level", 0.75, "warn"),
        ("service_level", 0.70, "warn"),  # 10 points below: still amber
        ("service_level", 0.69, "bad"),
        ("oldest_wait", None, "good"),  # nobody waiting
        ("oldest_wait", 0, "good"),
        ("oldest_wait", 20, "good"),  # T inclusive
        ("oldest_wait", 21, "warn"),
        ("oldest_wait", 40, "warn"),
        ("oldest_wait", 41, "bad"),
        ("abandonment", 0.0, "good"),
        ("abandonment", 0.049, "good"),
        ("abandonment", 0.05, "warn"),
        ("abandonment", 0.10, "bad"),
        ("service_level_today", None, "none"),
        ("service_level_today", 0.8, "good"),
        ("service_level_today", 0.69, "bad"),
        ("asa", None, "none"),  # nothing answered: no value, unlike the oldest wait
        ("asa", 20, "good"),
        ("asa", 22.5, "warn"),
        ("asa", 41, "bad"),
        ("ewt", None, "none"),
        ("ewt", 40, "warn"),
        ("ewt", 40.1, "bad"),
    ],
)
def test_colours(metric: str, value: float | None, expected: str) -> None:
    assert colour(metric, value, SALES) == expected


def test_board_config_lists_configured_queues_only() -> None:
    assert set(board_config(QUEUES)["queues"]) == {"sales"}


def test_board_config_carries_the_polling_and_staleness_periods() -> None:
    config = board_config(QUEUES)
    assert (config["agents_refresh_ms"], config["today_refresh_ms"]) == (2000, 10_000)
    assert (config["agents_page_ms"], config["stale_after_ms"]) == (8000, 5000)


def test_severity_puts_the_worst_card_first() -> None:
    cards = {
        ("a", "voice"): ({"oldest_wait": "good", "service_level": "good"}, 5.0),
        ("b", "voice"): ({"oldest_wait": "bad", "service_level": "good"}, 90.0),
        ("c", "voice"): ({"oldest_wait": "bad", "service_level": "bad"}, 30.0),  # two red
        ("d", "voice"): ({"oldest_wait": "warn", "service_level": "none"}, 25.0),
        ("e", "chat"): ({"oldest_wait": "bad", "service_level": "good"}, 120.0),  # longer wait
        ("e", "voice"): ({"oldest_wait": "good", "service_level": "none"}, None),
        ("f", "voice"): ({"oldest_wait": "good", "service_level": "none"}, None),
    }
    order = sorted(cards, key=lambda s: severity_key(s, cards[s][0], cards[s][1]))
    assert order == [
        ("c", "voice"),
        ("e", "chat"),
        ("b", "voice"),
        ("d", "voice"),
        ("a", "voice"),  # someone waiting sorts before nobody waiting
        ("e", "voice"),
        ("f", "voice"),
    ]
