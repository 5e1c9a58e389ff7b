"""The worker's health port: /healthz (alive), /readyz (ready), /metrics; 404 elsewhere.

It runs in threads of its own, off the worker's event loop, so a scrape or a probe never
delays a batch. Slow or idle clients are dropped after a timeout and connections are
capped, so a stuck client cannot exhaust the worker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

__all__ = ["HealthServer", "Readiness"]

log = logging.getLogger(__name__)

#: Seconds a client may take to send its request headers, or stay idle between requests.
CLIENT_TIMEOUT_S = 5.0
#: Connections served at once; more are closed at once (probes and one scraper need few).
MAX_CONNECTIONS = 16


@dataclass
class Readiness:
    """What /healthz and /readyz report; the worker sets the fields as things happen.

    Plain attribute writes from the event loop, read from the server's threads.
    """

    max_flush_age_s: float
    clock: Callable[[], float] = time.monotonic
    #: the consumer runs (False once it has ended: the process is about to exit)
    alive: bool = True
    #: the group gave this member its assignment (possibly empty: more workers than
    #: partitions must not stall a rollout)
    assigned: bool = False
    #: the last store call succeeded
    store_ok: bool = False
    #: when the last flush finished (clock seconds), None before the first
    last_flush: float | None = None

    def flushed(self) -> None:
        self.last_flush = self.clock()

    def problems(self) -> list[str]:
        """Why the worker is not ready; empty when it is."""
        out = []
        if not self.alive:
            out.append("consumer stopped")
        if not self.assigned:
            out.append("no partition assignment yet")
        if not self.store_ok:
            out.append("store unreachable")
        if self.last_flush is None:
            out.append("no flush yet")
        elif (age := self.clock() - self.last_flush) > self.max_flush_age_s:
            out.append(f"last flush {age:.0f} s ago")
        return out


class _Server(ThreadingHTTPServer):
    """A threading server that refuses connections beyond its cap."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], registry: CollectorRegistry, readiness: Readiness
    ) -> None:
        self.registry = registry
        self.readiness = readiness
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, _Handler)

    def verify_request(self, request: Any, client_address: Any) -> bool:
        return self._slots.acquire(blocking=False)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class _Handler(BaseHTTPRequestHandler):
    """Three routes; everything else is 404."""

    server: _Server
    # A socket timeout: covers slow request headers and idle keep-alive connections.
    timeout = CLIENT_TIMEOUT_S
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._respond(body=True)

    def do_HEAD(self) -> None:
        self._respond(body=False)

    def _respond(self, body: bool) -> None:
        path = self.path.split("?", 1)[0]
        readiness = self.server.readiness
        if path == "/healthz":
            ok = readiness.alive
            self._send(200 if ok else 503, b"ok\n" if ok else b"consumer stopped\n", body)
        elif path == "/readyz":
            problems = readiness.problems()
            text = "; ".join(problems) + "\n" if problems else "ready\n"
            self._send(503 if problems else 200, text.encode(), body)
        elif path == "/metrics":
            encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
            self._send(200, encoder(self.server.registry), body, content_type)
        else:
            self._send(404, b"not found: /healthz, /readyz, /metrics\n", body)

    def _send(
        self,
        status: int,
        payload: bytes,
        body: bool,
        content_type: str = "text/plain; charset=utf-8",
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if body:
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return None  # probes every few seconds would flood the log


class HealthServer:
    """Serves the health port in a daemon thread until `stop`."""

    def __init__(
        self, port: int, registry: CollectorRegistry, readiness: Readiness, host: str = ""
    ) -> None:
        self._server = _Server((host, port), registry, readiness)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="ccmon-health", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> HealthServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
