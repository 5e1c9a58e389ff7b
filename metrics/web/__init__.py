"""The HTTP side: the read API, the routing API, the OpenAPI document and the wall board.

Also ``/`` and ``/docs`` (docs), JSON errors everywhere (errors), and the bounded HTTP
server the exporter runs (server: idle and header timeouts, a connection cap).
"""

from metrics.web.api import make_app

__all__ = ["make_app"]
