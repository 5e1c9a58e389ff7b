"""The wall board in a real headless browser, on a real worker and exporter.

Kafka -> worker -> Redis -> exporter (read API + /wallboard) -> Chromium. The exporter's
clock is pinned, so the read API's answers are exact; the page must show them, with the
colours of the queues' thresholds, and follow new events without being reloaded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.store.redis import RedisStore
from metrics.web.api import make_app
from metrics.web.routing import auth_middleware
from streams.settings import Settings
from streams.testing.events import agent, contact, yesterday_ms
from tests.e2e.browser import board, chromium, wait_for
from tests.integration.pipeline_helpers import (
    create_topics,
    keyed,
    produce,
    settings_for,
    wait_until_applied,
)
from tests.integration.test_worker import worker

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

S, M = 1000, 60_000
NOW = yesterday_ms() + 10 * 3_600_000
QUEUES = QueuesConfig(
    queues=(
        QueueConfig(name="sales", channels=("voice",), sl_threshold_s=20, sl_target=0.8),
        QueueConfig(name="support", channels=("chat",), sl_threshold_s=60, sl_target=0.9),
    )
)


def sales(kind: str, t: int, cid: str, **extra: Any) -> dict[str, Any]:
    return contact(kind, t, cid, "sales", "voice", **extra)


SCRIPT = [
    sales("contact.queued", NOW - 10 * M, "c1"),
    sales("contact.answered", NOW - 10 * M + 15 * S, "c1"),  # within 20 s
    sales("contact.queued", NOW - 9 * M, "c2"),
    sales("contact.answered", NOW - 9 * M + 30 * S, "c2"),  # 30 s: outside
    sales("contact.queued", NOW - 8 * M, "c3"),
    sales("contact.abandoned", NOW - 8 * M + 40 * S, "c3"),  # a real abandon
    sales("contact.queued", NOW - 90 * S, "c4"),  # waiting 1:30
    contact("contact.queued", NOW - 10 * S, "s1", "support", "chat"),  # waiting 0:10
    *(agent(NOW - 20 * M, f"a{i}", "available", ["sales"]) for i in range(3)),
    agent(NOW - 20 * M, "a3", "on_contact", ["sales"]),
]

#: What the page must show for that script (SL = 1 / (2 answered + 1 abandoned)).
EXPECTED = {
    "sales|voice": {
        "contacts_waiting": ("1", "1", "plain"),
        "oldest_wait": ("90", "1:30", "bad"),  # over 2 x 20 s
        "service_level": ("0.3333333333333333", "33%", "bad"),
        "abandonment": ("0.25", "25%", "bad"),
        "agents_available": ("3", "3", "plain"),
    },
    "support|chat": {
        "contacts_waiting": ("1", "1", "plain"),
        "oldest_wait": ("10", "0:10", "good"),
        "service_level": ("", "–", "none"),  # nothing answered or abandoned yet
        "abandonment": ("0", "0%", "good"),
        "agents_available": ("0", "0", "plain"),
    },
}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def live(kafka_bootstrap: str, redis_url: str) -> AsyncIterator[tuple[Settings, str]]:
    """A running worker and exporter holding the script; yields settings and the base URL."""
    settings = settings_for(kafka_bootstrap, redis_url)
    await create_topics(settings)
    store = RedisStore.from_url(redis_url, prefix=settings.redis_prefix)
    async with worker(settings, QUEUES):
        await wait_until_applied(store, await produce(settings, keyed(SCRIPT)))
        app = make_app(store, QUEUES, CollectorRegistry(), clock_ms=lambda: NOW)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            yield settings, f"http://127.0.0.1:{server.port}"
        finally:
            await server.close()


def shown(driver: Any) -> dict[str, dict[str, tuple[str, str, str]]]:
    return {
        series: {m: (t["value"], t["text"], t["colour"]) for m, t in tiles.items()}
        for series, tiles in board(driver).items()
    }


async def test_the_page_shows_what_the_read_api_says_and_follows_new_events(
    live: tuple[Settings, str],
) -> None:
    settings, base = live
    async with aiohttp.ClientSession() as http:
        api = await (await http.get(f"{base}/api/v1/queues")).json()
    rows = {f"{r['queue']}|{r['channel']}": r for r in api["queues"]}
    # The read API itself says what EXPECTED says.
    assert rows["sales|voice"]["contacts_waiting"] == 1
    assert rows["sales|voice"]["service_level_15m"] == pytest.approx(1 / 3)
    assert rows["support|chat"]["service_level_15m"] is None

    with chromium() as driver:
        await asyncio.to_thread(driver.get, f"{base}/wallboard")
        page = await asyncio.to_thread(
            wait_for, lambda: shown(driver) if len(board(driver)) == 2 else None, 20, "2 queues"
        )
        assert page == EXPECTED
        status = driver.find_element("id", "status")
        assert status.get_attribute("data-state") == "ok"
        loaded = driver.execute_script("return window.ccmonWallboard.loadedAt")

        # A new contact waits in sales: the page follows without a reload, within 2 polls.
        await produce(settings, keyed([sales("contact.queued", NOW - 5 * S, "c5")]))
        after = await asyncio.to_thread(
            wait_for,
            lambda: shown(driver)["sales|voice"]["contacts_waiting"][0] == "2" and shown(driver),
            20,
            "2 waiting in sales",
        )
        assert after["sales|voice"]["oldest_wait"] == ("90", "1:30", "bad")
        assert driver.execute_script("return window.ccmonWallboard.loadedAt") == loaded
        assert driver.execute_script("return window.ccmonWallboard.polls") >= 2
        # Readable on a TV: the numbers are large at 1920x1080.
        size = driver.execute_script(
            "return parseFloat(getComputedStyle(document.querySelector('.tile .value')).fontSize)"
        )
        assert size >= 48


async def test_the_board_says_when_the_api_stops_answering(live: tuple[Settings, str]) -> None:
    _, base = live
    with chromium() as driver:
        await asyncio.to_thread(driver.get, f"{base}/wallboard")
        await asyncio.to_thread(wait_for, lambda: board(driver), 20, "the board")
        # Point the page's polling at a dead address: it must turn stale, not freeze silently.
        driver.execute_script("window.fetch = () => Promise.reject(new Error('down'));")
        await asyncio.to_thread(
            wait_for,
            lambda: driver.find_element("id", "status").get_attribute("data-state") == "stale",
            20,
            "the stale banner",
        )


async def test_with_an_api_token_the_board_takes_it_from_the_fragment(
    live: tuple[Settings, str], redis_url: str
) -> None:
    settings, _ = live
    store = RedisStore.from_url(redis_url, prefix=settings.redis_prefix)
    app = make_app(store, QUEUES, CollectorRegistry(), clock_ms=lambda: NOW)
    app.middlewares.insert(0, auth_middleware(SecretStr("s3cret-token")))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base = f"http://127.0.0.1:{server.port}"
    try:
        with chromium() as driver:
            await asyncio.to_thread(driver.get, f"{base}/wallboard")
            # reason: a one-line probe for wait_for to poll reads best as a lambda
            status = lambda: driver.find_element("id", "status").text  # noqa: E731
            await asyncio.to_thread(wait_for, lambda: "wants a token" in status(), 20, "401")
            await asyncio.to_thread(driver.get, f"{base}/wallboard#token=s3cret-token")
            await asyncio.to_thread(wait_for, lambda: board(driver), 20, "the board")
            assert set(shown(driver)) == {"sales|voice", "support|chat"}
            assert "token" not in driver.current_url  # gone from the address bar
    finally:
        await server.close()
