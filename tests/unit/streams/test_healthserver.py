"""The worker's health port: three routes, 404 elsewhere, readiness reasons, a connection cap."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, Counter

from streams import healthserver
from streams.healthserver import HealthServer, Readiness


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def readiness(clock: Clock) -> Readiness:
    return Readiness(max_flush_age_s=60, clock=clock)


@pytest.fixture
def server(readiness: Readiness) -> Iterator[HealthServer]:
    registry = CollectorRegistry()
    Counter("ccmon_events_applied", "Events applied.", registry=registry).inc(3)
    health = HealthServer(0, registry, readiness, host="127.0.0.1").start()
    yield health
    health.stop()


def get(server: HealthServer, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_readiness_lists_what_is_missing_until_assigned_reachable_and_flushed(
    readiness: Readiness, clock: Clock
) -> None:
    assert readiness.problems() == [
        "no partition assignment yet",
        "store unreachable",
        "no flush yet",
    ]
    readiness.assigned, readiness.store_ok = True, True
    readiness.flushed()
    assert readiness.problems() == []
    clock.now += 61
    assert readiness.problems() == ["last flush 61 s ago"]
    readiness.alive = False
    assert readiness.problems()[0] == "consumer stopped"


def test_routes_answer_and_anything_else_is_404(server: HealthServer, readiness: Readiness) -> None:
    assert get(server, "/healthz") == (200, "ok\n")
    assert get(server, "/readyz") == (
        503,
        "no partition assignment yet; store unreachable; no flush yet\n",
    )
    readiness.assigned, readiness.store_ok = True, True
    readiness.flushed()
    assert get(server, "/readyz") == (200, "ready\n")
    status, body = get(server, "/metrics")
    assert status == 200 and "ccmon_events_applied_total 3.0" in body
    assert get(server, "/")[0] == 404
    assert get(server, "/metrics/../healthz")[0] == 404
    readiness.alive = False
    assert get(server, "/healthz") == (503, "consumer stopped\n")


def test_connections_beyond_the_cap_are_closed_without_an_answer(server: HealthServer) -> None:
    idle = [
        socket.create_connection(("127.0.0.1", server.port))
        for _ in range(healthserver.MAX_CONNECTIONS)
    ]
    try:
        time.sleep(0.2)
        extra = socket.create_connection(("127.0.0.1", server.port))
        extra.settimeout(5)
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert extra.recv(100) == b""  # closed without an answer
        extra.close()
    finally:
        for conn in idle:
            conn.close()
    time.sleep(0.2)
    assert get(server, "/healthz") == (200, "ok\n")  # slots free again


def test_a_client_that_sends_nothing_is_dropped_after_the_timeout(
    server: HealthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(healthserver._Handler, "timeout", 0.3)
    silent = socket.create_connection(("127.0.0.1", server.port))
    silent.settimeout(5)
    try:
        assert silent.recv(100) == b""  # the server hung up (long before our 5 s)
    finally:
        silent.close()
