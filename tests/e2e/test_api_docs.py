"""/docs in a real headless browser: Swagger UI renders the OpenAPI 3.1 document, offline.

The exporter's app (read API, routing API, pages) with an API token set, on the
in-memory store; the page gets the token from the URL fragment as the wall board does.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from selenium.webdriver.common.by import By

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.routing.cache import RoutingCache
from metrics.store.memory import InMemoryStore
from metrics.web.api import make_app
from metrics.web.openapi import OPENAPI
from metrics.web.routing import add_routing
from tests.e2e.browser import chromium, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

TOKEN = "docs-token-for-tests"


def _operations(driver: Any) -> list[str]:
    """The 'METHOD path' of every operation Swagger UI shows."""
    shown = driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
    return sorted(e.get_attribute("data-path") for e in shown)


async def test_swagger_ui_shows_every_operation_with_the_token_from_the_fragment() -> None:
    store, queues = InMemoryStore(), QueuesConfig(queues=(QueueConfig(name="sales"),))
    app = make_app(store, queues, CollectorRegistry())
    add_routing(app, RoutingCache(store, queues, lambda: 0), SecretStr(TOKEN), run_cache=False)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base = f"http://127.0.0.1:{server.port}"
    try:
        with chromium() as driver:
            # Without the token the document is refused (401): Swagger UI says it failed.
            await asyncio.to_thread(driver.get, f"{base}/docs")
            refused = await asyncio.to_thread(
                wait_for,
                lambda: " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, ".errors")),
                20,
                "Swagger UI's fetch error",
            )
            assert "Unauthorized /api/v1/openapi.json" in refused
            await asyncio.to_thread(driver.get, f"{base}/docs#token={TOKEN}")
            await asyncio.to_thread(driver.refresh)
            paths = await asyncio.to_thread(
                wait_for, lambda: _operations(driver), 20, "the operations"
            )
            title = driver.find_element(By.CSS_SELECTOR, ".info .title").text
            fragment_left = driver.execute_script("return location.hash")
    finally:
        await server.close()
    assert paths == sorted(OPENAPI["paths"])
    assert title.startswith("ccmon read API")
    assert fragment_left == ""  # the token left the address bar
