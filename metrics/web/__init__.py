"""The HTTP side: the read API, the routing API, the OpenAPI document and the wall board."""

from metrics.web.api import make_app

__all__ = ["make_app"]
