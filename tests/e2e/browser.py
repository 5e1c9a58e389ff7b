"""A real headless Chromium (Debian's chromium + chromium-driver) driven by Selenium."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

T = TypeVar("T")

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
DRIVER = ("chromedriver",)


def _find(names: tuple[str, ...]) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError(
        f"none of {list(names)} on PATH: apt-get install chromium chromium-driver (see .ci/run)"
    )


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    """Headless Chromium at a TV-like 1920x1080; no network downloads (paths given)."""
    options = webdriver.ChromeOptions()
    options.binary_location = _find(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1920,1080",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(_find(DRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(check: Callable[[], T | None], timeout_s: float = 20, what: str = "") -> T:
    """Poll `check` until it returns something truthy; fail with `what` after the timeout."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; last value {last!r}")


_BOARD_JS = """
    const out = {};
    for (const card of document.querySelectorAll('[data-series]')) {
      const tiles = {};
      for (const t of card.querySelectorAll('[data-metric]')) {
        tiles[t.dataset.metric] = {value: t.dataset.value, colour: t.dataset.colour,
          text: t.querySelector('.value').textContent};
      }
      out[card.dataset.series] = tiles;
    }"""

Board = dict[str, dict[str, dict[str, str]]]


def board(driver: webdriver.Chrome) -> Board:
    """What the page shows: series -> metric -> {value (raw), text, colour}."""
    result: Board = driver.execute_script(_BOARD_JS + "return out;")
    return result


def board_and_last_poll(driver: webdriver.Chrome) -> tuple[Board, dict[str, Any]]:
    """What the page shows and the read-API answer it rendered, read in one go (one JS task,
    so no poll can come in between)."""
    both = driver.execute_script(_BOARD_JS + "return [out, window.ccmonWallboard.last];")
    return both[0], both[1]


def set_viewport(driver: webdriver.Chrome, width: int, height: int) -> None:
    """Make the page's viewport exactly width x height CSS pixels (a TV at scale 1)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


_GEOMETRY_JS = """
    const vw = window.innerWidth, vh = window.innerHeight, problems = [];
    const view = {left: 0, top: 0, right: vw, bottom: vh};
    const inside = (r, box, eps = 0.5) => r.left >= box.left - eps && r.top >= box.top - eps
      && r.right <= box.right + eps && r.bottom <= box.bottom + eps;
    const clipped = el => el.scrollWidth > el.clientWidth + 0.5
      || el.scrollHeight > el.clientHeight + 0.5;
    const textBox = el => { const r = document.createRange(); r.selectNodeContents(el);
      return r.getBoundingClientRect(); };
    const name = el => (el.closest('[data-series]') || {dataset: {}}).dataset.series + ' '
      + (el.dataset.metric || el.dataset.agentId || el.className || el.tagName);
    const fonts = {value: [], label: []};
    const doc = document.documentElement;
    if (doc.scrollWidth > vw || doc.scrollHeight > vh) problems.push('the page scrolls');
    // A box: on screen, inside its parent box, not clipping its content, and not covered
    // by anything else (the element at its centre is it or inside it).
    function box(el, parent) {
      const r = el.getBoundingClientRect();
      if (r.width < 1 || r.height < 1) { problems.push(name(el) + ': no size'); return r; }
      if (!inside(r, view)) problems.push(name(el) + ': off screen');
      if (parent && !inside(r, parent)) problems.push(name(el) + ': outside its box');
      if (clipped(el)) problems.push(name(el) + ': content clipped');
      const top = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
      if (!top || !(el === top || el.contains(top))) problems.push(name(el) + ': covered');
      return r;
    }
    // A text that may end in "..." (class clip, the agent grid's): its own box inside
    // `within` and the screen; cut only when its title holds the whole text.
    function clipText(el, within) {
      if (!el.textContent.trim()) return;
      const own = el.getBoundingClientRect();
      if (!inside(own, view)) problems.push(name(el) + ' "' + el.textContent + '": off screen');
      if (!inside(own, within)) problems.push(name(el) + ' "' + el.textContent + '": outside');
      if (clipped(el) && el.title !== el.textContent) {
        problems.push(name(el) + ' "' + el.textContent + '": cut without its title');
      }
    }
    // A text: its glyphs (a Range over it) inside its box and the screen, none clipped.
    function text(el, within) {
      if (!el.textContent.trim()) return;
      const r = textBox(el);
      if (!inside(r, view)) problems.push(name(el) + ' "' + el.textContent + '": off screen');
      if (!inside(r, within)) problems.push(name(el) + ' "' + el.textContent + '": outside');
      // Sub-pixel: a text even 0.1 px wider than its own box is cut (or ends in "…").
      const own = el.getBoundingClientRect();
      if (r.width > own.width + 0.05 || clipped(el)) {
        problems.push(name(el) + ' "' + el.textContent + '": clipped');
      }
    }
    let tiles = 0;
    for (const card of document.querySelectorAll('[data-series]')) {
      const c = box(card, view);
      for (const t of card.querySelectorAll('h2 .fit')) text(t, c);
      for (const tile of card.querySelectorAll('[data-metric]')) {
        tiles += 1;
        const r = box(tile, c);
        for (const part of ['value', 'label']) {
          const el = tile.querySelector('.' + part);
          text(el, r);
          fonts[part].push(parseFloat(getComputedStyle(el).fontSize));
        }
      }
    }
    const agents = document.getElementById('agents');
    const area = agents ? box(agents, view) : view;
    let cells = 0;
    for (const cell of document.querySelectorAll('.agent')) {
      cells += 1;
      const r = box(cell, area);
      for (const el of cell.querySelectorAll('.fit')) text(el, r);
      for (const el of cell.querySelectorAll('.clip')) clipText(el, r);
    }
    for (const el of document.querySelectorAll('header .fit, footer, #empty:not([hidden]),'
        + ' .agents-head .fit, #agents-note')) {
      if (el.offsetParent !== null) text(el, view);
    }
    return {problems, tiles, agent_cells: cells, viewport: [vw, vh],
      min_value_px: Math.min(...fonts.value), min_label_px: Math.min(...fonts.label)};
"""


def geometry(driver: webdriver.Chrome) -> dict[str, Any]:
    """Every queue tile, agent cell and text measured in the page (getBoundingClientRect,
    a Range over each text, scrollWidth/scrollHeight): the problems found, and counts."""
    result: dict[str, Any] = driver.execute_script(_GEOMETRY_JS)
    return result
