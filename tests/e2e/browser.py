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
