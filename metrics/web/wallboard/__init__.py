"""The built-in wall board: a page served by the exporter that polls the read API.

    GET /wallboard                 the page (HTML, CSS and JS shipped in this package)
    GET /wallboard/static/{file}   its CSS and JS
    GET /wallboard/config.json     colour thresholds per queue (see thresholds.py)

No external assets: it works on a TV with no internet access.
"""

from __future__ import annotations

from importlib import resources

import orjson
from aiohttp import web

from metrics.config.queues import QueuesConfig
from metrics.web.wallboard.thresholds import board_config

__all__ = ["add_wallboard"]

_TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript"}


def _asset(name: str) -> bytes:
    return resources.files("metrics.web.wallboard").joinpath("static", name).read_bytes()


def add_wallboard(app: web.Application, queues: QueuesConfig) -> None:
    """Register the wall board's routes on the exporter's application."""
    files = {name: _asset(name) for name in ("wallboard.html", "wallboard.css", "wallboard.js")}
    config = orjson.dumps(board_config(queues))

    async def page(request: web.Request) -> web.Response:
        return web.Response(body=files["wallboard.html"], content_type="text/html")

    async def static(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = files.get(name)
        if body is None or name == "wallboard.html":
            raise web.HTTPNotFound()
        suffix = name[name.rfind(".") :]
        return web.Response(body=body, content_type=_TYPES[suffix])

    async def thresholds(request: web.Request) -> web.Response:
        return web.Response(body=config, content_type="application/json")

    app.router.add_get("/wallboard", page)
    app.router.add_get("/wallboard/static/{name}", static)
    app.router.add_get("/wallboard/config.json", thresholds)
