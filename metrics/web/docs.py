"""What the exporter serves, for people: ``/`` lists it, ``/docs`` shows the OpenAPI document.

    GET /                     every endpoint and page (from the OpenAPI document)
    GET /docs                 Swagger UI over /api/v1/openapi.json
    GET /docs/static/{file}   its JavaScript and CSS

Swagger UI's assets come from the swagger-ui-py wheel (Swagger UI 5, which reads
OpenAPI 3.1) and are served from disk: no CDN, so it works with no internet access.
Only our page and its script are ours (the token handling of the wall board).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import orjson
from aiohttp import web

from metrics.web.openapi import endpoints

__all__ = ["add_docs"]

_OURS = resources.files("metrics.web").joinpath("static")
_TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript"}


def _swagger_ui_dir() -> Path:
    return Path(str(resources.files("swagger_ui").joinpath("static")))


def add_docs(app: web.Application) -> None:
    """Register ``/``, ``/docs`` and the page's assets."""
    index = orjson.dumps({"endpoints": endpoints()})
    page = _OURS.joinpath("docs.html").read_bytes()
    assets = {
        "docs.js": _OURS.joinpath("docs.js").read_bytes(),
    }
    vendor = _swagger_ui_dir()
    vendored = {name: vendor / name for name in ("swagger-ui-bundle.js", "swagger-ui.css")}

    async def root(request: web.Request) -> web.Response:
        return web.Response(body=index, content_type="application/json")

    async def docs(request: web.Request) -> web.Response:
        return web.Response(body=page, content_type="text/html")

    async def static(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        suffix = name[name.rfind(".") :]
        if name in assets:
            return web.Response(body=assets[name], content_type=_TYPES[suffix])
        if name in vendored:
            return web.FileResponse(vendored[name], headers={"Content-Type": _TYPES[suffix]})
        raise web.HTTPNotFound()

    app.router.add_get("/", root)
    app.router.add_get("/docs", docs)
    app.router.add_get("/docs/static/{name}", static)
