"""The wall board in a real headless browser, on a real worker and exporter.

Kafka -> worker -> Redis -> exporter (read API, routing API + /wallboard) -> Chromium. The
exporter's clock is pinned, so the APIs' answers are exact; the page must show them, with
the colours of the queues' thresholds, ordered by severity, and follow new events without
being reloaded. At every TV size and with 3, 8 and 20 queues every tile and every text lies
inside the screen and inside its box (bounding boxes measured in the page).
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from selenium import webdriver

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.core.agent_views import AgentInfo
from metrics.routing.cache import RoutingCache
from metrics.store.redis import RedisStore
from metrics.web.api import make_app
from metrics.web.routing import add_routing, auth_middleware
from metrics.web.wallboard.thresholds import colour, limits, severity_key
from streams.settings import Settings
from streams.testing.events import agent, contact, wrapup, yesterday_ms
from tests.e2e.browser import board, chromium, geometry, set_viewport, wait_for
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
#: q01..q20: twenty more queues for the layout at 3, 8 and 20 queues.
MANY = [f"q{i:02d}" for i in range(1, 21)]
QUEUES = QueuesConfig(
    reason_codes=("lunch", "training"),
    teams=("team-a", "team-b"),
    queues=(
        QueueConfig(name="sales", channels=("voice",), sl_threshold_s=20, sl_target=0.8),
        QueueConfig(name="support", channels=("chat",), sl_threshold_s=60, sl_target=0.9),
        *(QueueConfig(name=q, channels=("voice",), sl_threshold_s=20) for q in MANY),
    ),
)


def sales(kind: str, t: int, cid: str, **extra: Any) -> dict[str, Any]:
    return contact(kind, t, cid, "sales", "voice", **extra)


FIRST = ("Ana", "Bruno", "Chidi", "Dagny", "Emeka", "Fatima", "Grzegorz", "Hiroko")
LAST = ("Lima", "Costa", "Okafor", "Wójcik-Szymańska", "Andersen")
#: The agents directory: names for all, b00..b07 (serving q01..q08) in team-a, the rest b.
DIRECTORY = {
    f"b{k:02d}": AgentInfo(
        name=f"{FIRST[k % 8]} {LAST[k % 5]}", team="team-a" if k < 8 else "team-b"
    )
    for k in range(40)
} | {f"a{i}": AgentInfo(name=f"{FIRST[i]} {LAST[i]}", team="team-b") for i in range(4)}
REASONS = ("lunch", "training", "smoking")  # the last one is not in the queues file


def not_ready(t: int, agent_id: str, queue: str, reason: str) -> dict[str, Any]:
    event = agent(t, agent_id, "not_ready", [queue])
    event["data"]["reason"] = reason
    return event


def waits_s(i: int) -> int:
    """Oldest wait of q<i>: 6..120 s, not in name order ((7 i) mod 20 is a permutation)."""
    return ((i * 7) % 20 + 1) * 6


SCRIPT = [
    sales("contact.queued", NOW - 10 * M, "c1"),
    sales("contact.answered", NOW - 10 * M + 15 * S, "c1"),  # within 20 s
    sales("contact.queued", NOW - 9 * M, "c2"),
    sales("contact.answered", NOW - 9 * M + 30 * S, "c2", agent_id="a3"),  # 30 s: outside
    sales("contact.queued", NOW - 8 * M, "c3"),
    sales("contact.abandoned", NOW - 8 * M + 40 * S, "c3"),  # a real abandon
    wrapup(NOW - 7 * M, "c1", 240, 0, 60),  # a handle time, so the EWT has an AHT
    sales("contact.queued", NOW - 90 * S, "c4"),  # waiting 1:30
    contact("contact.queued", NOW - 10 * S, "s1", "support", "chat"),  # waiting 0:10
    *(agent(NOW - 20 * M, f"a{i}", "available", ["sales"]) for i in range(3)),
    agent(NOW - 20 * M, "a3", "on_contact", ["sales"]),
    # One contact waiting in each of q01..q20; q05 also answered one late and lost one, so
    # its SL, SL today and abandonment are red: it leads the board on severity, not on wait.
    *(
        contact("contact.queued", NOW - waits_s(i) * S, f"m{i}", q, "voice")
        for i, q in enumerate(MANY, start=1)
    ),
    # q02 handled three (the EWT's minimum) and has nobody available (b01 and b21 are on a
    # contact): it gets an EWT from its handle time.
    *(
        event
        for j in range(3)
        for event in (
            contact("contact.queued", NOW - (14 + j) * M, f"m2{j}", "q02", "voice"),
            contact("contact.answered", NOW - (14 + j) * M + 10 * S, f"m2{j}", "q02", "voice"),
            wrapup(NOW - (9 + j) * M, f"m2{j}", 200, 20, 80, "q02", "voice"),
        )
    ),
    contact("contact.queued", NOW - 6 * M, "m5a", "q05", "voice"),
    contact("contact.answered", NOW - 6 * M + 50 * S, "m5a", "q05", "voice"),
    contact("contact.queued", NOW - 5 * M, "m5b", "q05", "voice"),
    contact("contact.abandoned", NOW - 5 * M + 45 * S, "m5b", "q05", "voice"),
    *(
        agent(
            NOW - (5 + k) * M,
            f"b{k:02d}",
            ("available", "on_contact", "after_contact_work")[k % 4],
            [MANY[k % 20]],
        )
        for k in range(40)
        if k % 4 != 3
    ),
    # Every fourth one is not ready, with a reason code (an unconfigured one counts as other).
    *(
        not_ready(NOW - (5 + k) * M, f"b{k:02d}", MANY[k % 20], REASONS[k % 3])
        for k in range(3, 40, 4)
    ),
]

#: What the page must show for sales and support (SL = 1 / (2 answered + 1 abandoned)):
#: metric -> (raw value, text, colour). EWT comes from the routing API (checked apart).
EXPECTED = {
    "sales|voice": {
        "contacts_waiting": ("1", "1", "plain"),
        "oldest_wait": ("90", "1:30", "bad"),  # over 2 x 20 s
        "service_level": ("0.3333333333333333", "33%", "bad"),
        "service_level_today": ("0.3333333333333333", "33%", "bad"),
        "abandonment": ("0.25", "25%", "bad"),
        "asa": ("22.5", "0:22", "warn"),  # (15 + 30) / 2, over T = 20 s, within 2 T
        "agents_available": ("3", "3", "plain"),
    },
    "support|chat": {
        "contacts_waiting": ("1", "1", "plain"),
        "oldest_wait": ("10", "0:10", "good"),
        "service_level": ("", "–", "none"),  # nothing answered or abandoned yet
        "service_level_today": ("", "–", "none"),
        "abandonment": ("0", "0%", "good"),
        "asa": ("", "–", "none"),
        "agents_available": ("0", "0", "plain"),
    },
}

SIZES = [(1280, 720), (1920, 1080), (2560, 1440), (3840, 2160)]
COUNTS = [3, 8, 20]
#: Screenshots go here when CCMON_WALLBOARD_SHOTS names a directory (docs/wallboard).
SHOTS = os.environ.get("CCMON_WALLBOARD_SHOTS")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def live(kafka_bootstrap: str, redis_url: str) -> AsyncIterator[tuple[Settings, str]]:
    """A running worker and exporter (read API, routing API, board) holding the script."""
    settings = settings_for(kafka_bootstrap, redis_url)
    await create_topics(settings)
    store = RedisStore.from_url(redis_url, prefix=settings.redis_prefix)
    async with worker(settings, QUEUES):
        await wait_until_applied(store, await produce(settings, keyed(SCRIPT)))
        app = make_app(store, QUEUES, CollectorRegistry(), clock_ms=lambda: NOW, agents=DIRECTORY)
        add_routing(app, RoutingCache(store, QUEUES, lambda: NOW, refresh_ms=200), None)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            yield settings, f"http://127.0.0.1:{server.port}"
        finally:
            await server.close()


@pytest.fixture(scope="module")
def driver() -> Iterator[webdriver.Chrome]:
    with chromium() as browser:
        yield browser


async def get_json(url: str) -> Any:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return await response.json() if response.status == 200 else None


def shown(driver: Any) -> dict[str, dict[str, tuple[str, str, str]]]:
    return {
        series: {m: (t["value"], t["text"], t["colour"]) for m, t in tiles.items()}
        for series, tiles in board(driver).items()
    }


def settled(driver: Any, count: int) -> bool:
    """The page orders `count` cards and shows its page of them with every source in:
    SL today, EWT, the agents."""
    return bool(
        driver.execute_script(
            """const b = window.ccmonWallboard, cards = document.querySelectorAll('.queue');
            return b.order.length === arguments[0] && b.layout && b.layout.n === arguments[0]
              && cards.length === Math.min(b.layout.perPage,
                   arguments[0] - b.queuePage * b.layout.perPage)
              && document.getElementById('agents').dataset.state !== 'loading'
              && Array.from(document.querySelectorAll('[data-metric="service_level_today"]'))
                   .every(t => t.dataset.stale === 'false')
              && Array.from(document.querySelectorAll('[data-metric="ewt"]'))
                   .every(t => t.dataset.stale === 'false');""",
            count,
        )
    )


def screenshot(driver: webdriver.Chrome, name: str) -> None:
    assert SHOTS is not None
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(Path(SHOTS) / name))


def ewt_text(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


async def test_the_page_shows_what_the_apis_say_and_follows_new_events(
    live: tuple[Settings, str], driver: webdriver.Chrome
) -> None:
    settings, base = live
    api = await get_json(f"{base}/api/v1/queues")
    rows = {f"{r['queue']}|{r['channel']}": r for r in api["queues"]}
    # The read API itself says what EXPECTED says.
    assert rows["sales|voice"]["contacts_waiting"] == 1
    assert rows["sales|voice"]["service_level_15m"] == pytest.approx(1 / 3)
    assert rows["sales|voice"]["asa_seconds_15m"] == 22.5
    assert rows["support|chat"]["service_level_15m"] is None
    detail = await get_json(f"{base}/api/v1/queues/sales")
    assert detail["channels"]["voice"]["windows"]["today"]["service_level"] == pytest.approx(1 / 3)
    routing = await get_json(f"{base}/api/v1/routing/queues")
    ewt = {
        f"{q['queue']}|{ch}": c["ewt_seconds"]
        for q in routing["queues"]
        for ch, c in q["channels"].items()
    }

    await asyncio.to_thread(set_viewport, driver, 1920, 1080)
    await asyncio.to_thread(driver.get, f"{base}/wallboard?queues=sales,support")
    await asyncio.to_thread(wait_for, lambda: settled(driver, 2), 20, "2 queues settled")
    page = shown(driver)
    for series, tiles in EXPECTED.items():
        got = dict(page[series])
        ewt_shown = got.pop("ewt")
        assert got == tiles, series
        raw = ewt[series]
        tone = colour("ewt", raw, limits(QUEUES.get(series.split("|")[0])))
        assert ewt_shown == ("" if raw is None else str(raw), ewt_text(raw), tone), series
    # Worst first: sales has four red tiles, support none.
    assert driver.execute_script("return window.ccmonWallboard.order") == [
        "sales|voice",
        "support|chat",
    ]
    assert driver.find_element("id", "status").get_attribute("data-state") == "ok"
    # Two queues fit at a readable size: one page, no page indicator.
    assert driver.execute_script("return window.ccmonWallboard.layout.pages") == 1
    assert driver.find_element("id", "queues-page").text == ""
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
    # Readable on a TV: with two queues the numbers are large at 1920x1080.
    size = driver.execute_script(
        "return parseFloat(getComputedStyle(document.querySelector('.tile .value')).fontSize)"
    )
    assert size >= 48


def severity_order(
    rows: list[dict[str, Any]], today: dict[str, Any], ewt: dict[str, Any]
) -> list[str]:
    """The order the board must show: thresholds.severity_key over the APIs' answers."""

    def key(r: dict[str, Any]) -> tuple[int, int, int, float, str, str]:
        series = f"{r['queue']}|{r['channel']}"
        lim = limits(QUEUES.get(r["queue"]))
        values = {
            "oldest_wait": r["oldest_wait_seconds"],
            "service_level": r["service_level_15m"],
            "service_level_today": today[series],
            "abandonment": r["abandonment_rate_15m"],
            "asa": r["asa_seconds_15m"],
            "ewt": ewt[series],
        }
        colours = {m: colour(m, v, lim) for m, v in values.items()}
        return severity_key((r["queue"], r["channel"]), colours, r["oldest_wait_seconds"])

    return [f"{r['queue']}|{r['channel']}" for r in sorted(rows, key=key)]


#: The readable floor at 1280x720, scaled with the screen (docs/producers.md#wall-board):
#: numbers (tile values) 24 px, every other text on a card or in the header and footer
#: 14 px. Cards that would be smaller take turns on pages.
VALUE_FLOOR_PX, TEXT_FLOOR_PX = 24, 14
#: How many pages 3, 8 and 20 queues take (the same at every 16:9 size: the floor scales).
PAGES = {3: 1, 8: 2, 20: 3}

_PAGE_JS = """
    const b = window.ccmonWallboard;
    b.showQueuePage(arguments[0]);
    const size = el => parseFloat(getComputedStyle(el).fontSize);
    const shown = el => el.offsetParent !== null && el.textContent.trim() !== '';
    const texts = Array.from(document.querySelectorAll(
      '.queue .fit, header .fit, footer')).filter(shown);
    const values = texts.filter(el => el.classList.contains('value'));
    const others = texts.filter(el => !el.classList.contains('value'));
    return {page: b.queuePage, cards: Array.from(document.querySelectorAll('.queue'))
              .map(c => c.dataset.series),
            indicator: document.getElementById('queues-page').textContent,
            indicator_px: size(document.getElementById('queues-page')),
            value_px: Math.min(...values.map(size)), text_px: Math.min(...others.map(size)),
            smallest: others.reduce((a, el) => size(el) < size(a) ? el : a).textContent};"""


@pytest.mark.parametrize("count", COUNTS)
@pytest.mark.parametrize(("width", "height"), SIZES)
async def test_every_tile_and_text_fits_the_screen(
    live: tuple[Settings, str], driver: webdriver.Chrome, width: int, height: int, count: int
) -> None:
    _, base = live
    chosen = MANY[:count]
    api = await get_json(f"{base}/api/v1/queues")
    rows = [r for r in api["queues"] if r["queue"] in chosen]
    today = {}
    for q in chosen:
        detail = await get_json(f"{base}/api/v1/queues/{q}")
        today[f"{q}|voice"] = detail["channels"]["voice"]["windows"]["today"]["service_level"]
    routing = await get_json(f"{base}/api/v1/routing/queues")
    ewt = {
        f"{q['queue']}|{ch}": c["ewt_seconds"]
        for q in routing["queues"]
        for ch, c in q["channels"].items()
    }

    await asyncio.to_thread(set_viewport, driver, width, height)
    # A page turn every 10 minutes: the test turns them itself (showQueuePage).
    url = f"{base}/wallboard?queues={','.join(chosen)}&page_s=600"
    await asyncio.to_thread(driver.get, url)
    await asyncio.to_thread(wait_for, lambda: settled(driver, count), 20, f"{count} queues")
    order = driver.execute_script("return window.ccmonWallboard.order")
    assert order == severity_order(rows, today, ewt)
    if count >= 5:
        assert order[0] == "q05|voice"  # three red ratios beat any single long wait
    pages = driver.execute_script("return window.ccmonWallboard.layout.pages")
    assert pages == PAGES[count]
    # Readable across a room: the floor grows with the screen (px at 1280x720 times scale).
    scale = min(width / 1280, height / 720)
    seen: list[str] = []
    for page in range(pages):
        shown_page = driver.execute_script(_PAGE_JS, page)
        if SHOTS and page == 0 and (count == 8 or (width, count) == (1280, 20)):
            await asyncio.to_thread(screenshot, driver, f"wallboard-{width}x{height}-{count}q.png")
        found = await asyncio.to_thread(geometry, driver)
        assert found["problems"] == [], (page, found["problems"][:10])
        assert found["viewport"] == [width, height]
        assert found["tiles"] == 8 * len(shown_page["cards"])
        assert shown_page["page"] == page
        assert shown_page["indicator"] == (f"page {page + 1}/{pages}" if pages > 1 else "")
        assert shown_page["value_px"] >= VALUE_FLOOR_PX * scale, repr(shown_page)
        assert shown_page["text_px"] >= TEXT_FLOOR_PX * scale, repr(shown_page)
        if pages > 1:
            assert shown_page["indicator_px"] >= TEXT_FLOOR_PX * scale
        seen += shown_page["cards"]
    # The pages together: every queue exactly once, in the severity order (the worst on
    # page 1), the cards shared evenly (20 in three pages: 7, 7, 6).
    assert seen == order
    per_page = -(-count // pages)
    assert driver.execute_script("return window.ccmonWallboard.layout.perPage") == per_page


async def test_the_queue_pages_turn_on_the_timer_of_the_url(
    live: tuple[Settings, str], driver: webdriver.Chrome
) -> None:
    _, base = live
    await asyncio.to_thread(set_viewport, driver, 1280, 720)
    await asyncio.to_thread(driver.get, f"{base}/wallboard?queues={','.join(MANY)}&page_s=2")
    await asyncio.to_thread(wait_for, lambda: settled(driver, 20), 20, "20 queues")
    order = driver.execute_script("return window.ccmonWallboard.order")
    cards = "return Array.from(document.querySelectorAll('.queue')).map(c => c.dataset.series)"

    def on(page: str) -> bool:
        return bool(driver.find_element("id", "queues-page").text == page)

    seen: dict[str, list[str]] = {}
    # Every page comes round by itself, then page 1 again (waited for, not timed).
    for want in ("page 2/3", "page 3/3", "page 1/3"):
        await asyncio.to_thread(wait_for, functools.partial(on, want), 20, want)
        seen[want] = driver.execute_script(cards)
    assert seen == {
        "page 1/3": order[:7],
        "page 2/3": order[7:14],
        "page 3/3": order[14:],
    }
    # A page time that is not a positive number is the default 10 s; under 2 s it is 2 s.
    for given, ms in (("abc", 10_000), ("-5", 10_000), ("", 10_000), ("1", 2000), ("30", 30_000)):
        await asyncio.to_thread(driver.get, f"{base}/wallboard?queues=sales&page_s={given}")
        assert driver.execute_script("return window.ccmonWallboard.queuePageMs") == ms, given


async def test_the_board_says_when_the_api_stops_answering_and_dims_every_tile(
    live: tuple[Settings, str], driver: webdriver.Chrome
) -> None:
    _, base = live
    await asyncio.to_thread(set_viewport, driver, 1920, 1080)
    await asyncio.to_thread(driver.get, f"{base}/wallboard?queues=sales,support")
    await asyncio.to_thread(wait_for, lambda: settled(driver, 2), 20, "the board")
    assert (
        driver.execute_script(
            "return Array.from(document.querySelectorAll('.tile')).map(t => t.dataset.stale)"
        )
        == ["false"] * 16
    )
    # Point the page's polling at a dead address: it must turn stale, not freeze silently,
    # and every number on it is dimmed, not only the banner.
    driver.execute_script("window.fetch = () => Promise.reject(new Error('down'));")
    await asyncio.to_thread(
        wait_for,
        lambda: driver.find_element("id", "status").get_attribute("data-state") == "stale",
        20,
        "the stale banner",
    )
    dimmed = await asyncio.to_thread(
        wait_for,
        lambda: driver.execute_script(
            """const t = Array.from(document.querySelectorAll('.tile'));
            return t.every(e => e.dataset.stale === 'true')
              && t.map(e => parseFloat(getComputedStyle(e).opacity));"""
        ),
        20,
        "every tile dimmed",
    )
    assert len(dimmed) == 16 and max(dimmed) <= 0.5
    # The agent cells too (a0..a3 serve sales).
    cells = await asyncio.to_thread(
        wait_for,
        lambda: driver.execute_script(
            """const c = Array.from(document.querySelectorAll('.agent'));
            return c.length && c.every(e => e.dataset.stale === 'true')
              && c.map(e => e.dataset.agentId);"""
        ),
        20,
        "every agent cell dimmed",
    )
    assert cells == ["a0", "a1", "a2", "a3"]


async def test_without_agent_data_the_grid_says_so(
    live: tuple[Settings, str], driver: webdriver.Chrome
) -> None:
    _, base = live
    await asyncio.to_thread(set_viewport, driver, 1280, 720)
    await asyncio.to_thread(driver.get, f"{base}/wallboard?queues={','.join(MANY[:8])}")
    await asyncio.to_thread(wait_for, lambda: settled(driver, 8), 20, "the board")
    # An exporter without the agents endpoint answers 404 there.
    driver.execute_script(
        """const real = window.fetch;
        window.fetch = (url, opts) => String(url).startsWith('/api/v1/agents')
          ? Promise.resolve(new Response('{"error": "no such path"}', {status: 404}))
          : real(url, opts);"""
    )
    note = await asyncio.to_thread(
        wait_for,
        lambda: (
            driver.find_element("id", "agents").get_attribute("data-state") == "missing"
            and driver.find_element("id", "agents-note").text
        ),
        20,
        "the no-agent-data note",
    )
    assert note == "no agent data: this ccmon does not serve GET /api/v1/agents"
    assert driver.find_elements("css selector", ".agent") == []
    # The cards take the room the grid gave up: eight wide cards of one row of eight tiles.
    layout = await asyncio.to_thread(
        wait_for,
        lambda: (
            driver.execute_script("return window.ccmonWallboard.layout.tiles") == "row"
            and driver.execute_script("return window.ccmonWallboard.layout")
        ),
        20,
        "the cards in rows",
    )
    assert (layout["cols"], layout["rows"]) == (1, 8)
    found = await asyncio.to_thread(geometry, driver)
    assert found["problems"] == []
    assert found["tiles"] == 64


async def test_with_an_api_token_the_board_takes_it_from_the_fragment(
    live: tuple[Settings, str], redis_url: str, driver: webdriver.Chrome
) -> None:
    settings, _ = live
    store = RedisStore.from_url(redis_url, prefix=settings.redis_prefix)
    app = make_app(store, QUEUES, CollectorRegistry(), clock_ms=lambda: NOW)
    app.middlewares.insert(0, auth_middleware(SecretStr("s3cret-token")))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base = f"http://127.0.0.1:{server.port}"
    try:
        await asyncio.to_thread(driver.get, f"{base}/wallboard?queues=sales,support")
        # reason: a one-line probe for wait_for to poll reads best as a lambda
        status = lambda: driver.find_element("id", "status").text  # noqa: E731
        await asyncio.to_thread(wait_for, lambda: "wants a token" in status(), 20, "401")
        await asyncio.to_thread(
            driver.get, f"{base}/wallboard?queues=sales,support#token=s3cret-token"
        )
        await asyncio.to_thread(wait_for, lambda: len(board(driver)) == 2, 20, "the board")
        assert set(shown(driver)) == {"sales|voice", "support|chat"}
        assert "token" not in driver.current_url  # gone from the address bar
    finally:
        await server.close()


STATE_WORDS = {
    "available": "available",
    "on_contact": "on contact",
    "after_contact_work": "wrap-up",
    "not_ready": "not ready",
    "offline": "offline",
}


def clock(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def agent_cell(a: dict[str, Any]) -> tuple[str, str, str, str, str]:
    """What one agent's cell must say: name, time in state, state and reason, current
    contact, and the state its colour comes from."""
    contacts = a["contacts"]
    current = ""
    if contacts:
        first = contacts[0]
        current = f"{first['queue']} {first['channel']} {clock(first['seconds'])}"
        current += f" +{len(contacts) - 1}" if len(contacts) > 1 else ""
    state = STATE_WORDS.get(a["state"], a["state"]) + (f" · {a['reason']}" if a["reason"] else "")
    return (a["name"] or a["agent_id"], clock(a["state_seconds"]), state, current, a["state"])


_CELLS_JS = """
    window.ccmonWallboard.showAgentPage(arguments[0]);
    const out = {};
    for (const c of document.querySelectorAll('.agent')) {
      const t = k => c.querySelector('.' + k).textContent;
      out[c.dataset.agentId] = [t('name'), t('time'), t('state'), t('contact'), c.dataset.state,
        getComputedStyle(c).borderLeftColor];
    }
    return out;"""


async def agents_or_skip(base: str) -> dict[str, Any]:
    data = await get_json(f"{base}/api/v1/agents")
    if data is None:
        pytest.skip("GET /api/v1/agents is not served yet (issue 11: the per-agent API)")
    result: dict[str, Any] = data
    return result


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (3840, 2160)])
async def test_the_agent_grid_shows_the_agents_api_exactly_page_by_page(
    live: tuple[Settings, str], driver: webdriver.Chrome, width: int, height: int
) -> None:
    _, base = live
    data = await agents_or_skip(base)
    by_id = {a["agent_id"]: a for a in data["agents"]}
    # The API itself: a0 available for the script's 20 minutes, b03 not ready for 8.
    assert (by_id["a0"]["state"], by_id["a0"]["state_seconds"]) == ("available", 1200)
    assert (by_id["b03"]["state"], by_id["b03"]["state_seconds"]) == ("not_ready", 480)
    assert len(by_id) == 44

    await asyncio.to_thread(set_viewport, driver, width, height)
    await asyncio.to_thread(driver.get, f"{base}/wallboard")
    await asyncio.to_thread(wait_for, lambda: settled(driver, 22), 20, "the whole board")
    pages = driver.execute_script("return window.ccmonWallboard.agentPages")
    assert pages >= 2  # 44 agents do not fit beside 22 queues: the grid pages
    seen: dict[str, list[str]] = {}
    colours: dict[str, set[str]] = {}
    for page in range(pages):
        cells = driver.execute_script(_CELLS_JS, page)
        found = await asyncio.to_thread(geometry, driver)
        assert found["problems"] == [], (page, found["problems"][:10])
        assert found["agent_cells"] == len(cells) > 0
        seen.update(cells)
        for cell in cells.values():
            colours.setdefault(cell[4], set()).add(cell[5])
    assert {k: tuple(v[:5]) for k, v in seen.items()} == {
        k: agent_cell(a) for k, a in by_id.items()
    }
    assert tuple(seen["a0"][:5]) == ("Ana Lima", "20:00", "available", "", "available")
    assert seen["a3"][3] == "sales voice 8:30"  # c2, answered by a3 8 min 30 s ago
    assert seen["b03"][0] == "Dagny Wójcik-Szymańska"  # a long name, whole
    assert seen["b03"][1:3] == ["8:00", "not ready · lunch"]
    assert seen["b11"][2] == "not ready · other"  # "smoking" is not a configured code
    # One colour per state, and a different one for each state.
    assert all(len(c) == 1 for c in colours.values())
    assert len({next(iter(c)) for c in colours.values()}) == len(colours)


#: Every agent-grid text: font size, its box, its glyphs (a Range), the cell it is in and
#: its title, on one agent page (the grid's header and page indicator as cell None).
_AGENT_TEXTS_JS = """
    window.ccmonWallboard.showAgentPage(arguments[0]);
    const rect = r => [r.left, r.top, r.right, r.bottom];
    const glyphs = el => { const r = document.createRange(); r.selectNodeContents(el);
      return rect(r.getBoundingClientRect()); };
    const texts = [];
    const add = (el, cell) => {
      if (el.offsetParent === null || !el.textContent.trim()) return;
      texts.push({cell: cell ? cell.dataset.agentId : null, part: el.className,
        text: el.textContent, title: el.title, px: parseFloat(getComputedStyle(el).fontSize),
        box: rect(el.getBoundingClientRect()), glyphs: glyphs(el),
        within: rect((cell || document.getElementById('agents')).getBoundingClientRect())});
    };
    for (const el of document.querySelectorAll('.agents-head .fit')) add(el, null);
    const ids = [];
    for (const c of document.querySelectorAll('.agent')) {
      ids.push(c.dataset.agentId);
      for (const el of c.querySelectorAll('.clip')) add(el, c);
    }
    return {ids, texts, pages: window.ccmonWallboard.agentPages,
            indicator: document.getElementById('agents-page').textContent,
            title: document.getElementById('agents-title').textContent,
            view: [window.innerWidth, window.innerHeight]};"""


def inside(inner: list[float], outer: list[float], eps: float = 0.5) -> bool:
    return bool(
        inner[0] >= outer[0] - eps
        and inner[1] >= outer[1] - eps
        and inner[2] <= outer[2] + eps
        and inner[3] <= outer[3] + eps
    )


#: How many pages the agents of 3, 8 and 20 queues take (6, 16 and 40 agents; 15 cells a
#: page at most beside 8 or 20 queues, at every 16:9 size: the floor scales).
AGENT_PAGES = {3: 1, 8: 2, 20: 3}
#: The directory's long names (they may end in "…" in a narrow cell, never shrink).
LONG_NAMES = {info.name for info in DIRECTORY.values() if info.name and "-" in info.name}


@pytest.mark.parametrize("count", COUNTS)
@pytest.mark.parametrize(("width", "height"), SIZES)
async def test_every_agent_grid_text_fits_its_cell_at_the_floor(
    live: tuple[Settings, str], driver: webdriver.Chrome, width: int, height: int, count: int
) -> None:
    _, base = live
    data = await agents_or_skip(base)
    chosen = MANY[:count]
    # The board shows the agents serving the chosen queues, in the API's order.
    want = [a for a in data["agents"] if set(a["queues"]) & set(chosen)]
    assert len(want) == 2 * count  # b<k> serves q<k mod 20 + 1>: two agents a queue

    await asyncio.to_thread(set_viewport, driver, width, height)
    await asyncio.to_thread(driver.get, f"{base}/wallboard?queues={','.join(chosen)}&page_s=600")
    await asyncio.to_thread(wait_for, lambda: settled(driver, count), 20, f"{count} queues")
    floor = TEXT_FLOOR_PX * min(width / 1280, height / 720)
    view = [0.0, 0.0, float(width), float(height)]
    seen: list[str] = []
    sizes: list[int] = []
    cells: dict[str, dict[str, str]] = {}
    pages = driver.execute_script("return window.ccmonWallboard.agentPages")
    assert pages == AGENT_PAGES[count]
    for page in range(pages):
        got = driver.execute_script(_AGENT_TEXTS_JS, page)
        if SHOTS and page == 0 and (width, count) == (1920, 3):
            await asyncio.to_thread(screenshot, driver, f"wallboard-{width}x{height}-{count}q.png")
        assert got["view"] == [width, height]
        assert got["pages"] == pages
        assert got["indicator"] == (f"page {page + 1}/{pages}" if pages > 1 else "")
        assert got["title"] == f"agents · {len(want)}"
        heads = [t for t in got["texts"] if t["cell"] is None]
        assert len(heads) == (2 if pages > 1 else 1)
        for t in got["texts"]:
            where = (page, t["cell"], t["part"], t["text"])
            assert t["px"] >= floor - 1e-6, where  # never under the floor
            assert inside(t["box"], t["within"]), where
            assert inside(t["box"], view), where
            # Cut: its glyphs are wider than its box. Only a long name may be, and then it
            # ends in "…" on screen with the full name in its title.
            cut = t["glyphs"][2] - t["glyphs"][0] > t["box"][2] - t["box"][0] + 0.05
            if cut:
                assert t["part"] == "name clip" and t["text"] in LONG_NAMES, where
                assert t["title"] == t["text"], where
            else:
                assert inside(t["glyphs"], t["within"]), where
            if t["cell"] is not None:
                assert t["title"] == t["text"], where  # the whole text, cut or not
                cells.setdefault(t["cell"], {})[t["part"].split()[0]] = t["text"]
        seen += got["ids"]
        sizes.append(len(got["ids"]))
        found = await asyncio.to_thread(geometry, driver)
        assert found["problems"] == [], (page, found["problems"][:10])
        assert found["agent_cells"] == len(got["ids"]) > 0
    # Every agent exactly once across the pages, in the API's order, saying what it says;
    # the pages shared evenly (16 in two pages: 8 and 8).
    assert seen == [a["agent_id"] for a in want]
    assert sizes == [-(-len(want) // pages)] * (pages - 1) + [sizes[-1]]
    assert sizes[-1] >= sizes[0] - pages + 1
    for a in want:
        name, time, state, current, _ = agent_cell(a)
        shown_texts = {"name": name, "time": time, "state": state} | (
            {"contact": current} if current else {}
        )
        assert cells[a["agent_id"]] == shown_texts, a["agent_id"]


async def test_a_team_in_the_url_shows_its_agents_and_the_queues_they_serve(
    live: tuple[Settings, str], driver: webdriver.Chrome
) -> None:
    _, base = live
    data = await agents_or_skip(base)
    team = "team-a"
    members = [a for a in data["agents"] if a["team"] == team]
    served = {q for a in members for q in a["queues"]}
    assert sorted(a["agent_id"] for a in members) == [f"b{k:02d}" for k in range(8)]
    assert served == set(MANY[:8])
    await asyncio.to_thread(set_viewport, driver, 1920, 1080)
    await asyncio.to_thread(driver.get, f"{base}/wallboard?team={team}&page_s=600")
    await asyncio.to_thread(
        wait_for, lambda: settled(driver, len(served)), 20, f"the queues of {team}"
    )
    order = driver.execute_script("return window.ccmonWallboard.order")
    assert {s.split("|")[0] for s in order} == served
    # Eight queues take two pages at a readable size; page 1 holds the worst four.
    page = driver.execute_script(
        "return Array.from(document.querySelectorAll('.queue')).map(c => c.dataset.series)"
    )
    assert page == order[:4]
    assert set(board(driver)) == set(page)
    indicator = driver.find_element("id", "queues-page").text
    assert indicator == "page 1/2"
    assert driver.find_element("id", "scope").text == "team team-a"
    cells = driver.execute_script(_CELLS_JS, 0)
    assert set(cells) == {a["agent_id"] for a in members}  # eight fit on one page
    found = await asyncio.to_thread(geometry, driver)
    assert found["problems"] == []
