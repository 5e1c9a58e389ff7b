"""Protocol-level readiness probes that need no client library or event loop."""

from __future__ import annotations

import socket
import struct

__all__ = ["kafka_api_versions", "parse_host_port", "redis_ping"]

_API_VERSIONS_KEY = 18


def parse_host_port(address: str) -> tuple[str, int]:
    """Split "host:port" (first entry of a comma list; IPv6 in brackets allowed)."""
    first = address.split(",")[0].strip()
    host, sep, port = first.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"expected host:port, got {address!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        chunk = sock.recv(size - len(buf))
        if not chunk:
            raise ConnectionError("connection closed by server")
        buf += chunk
    return bytes(buf)


def kafka_api_versions(host: str, port: int, timeout_s: float = 2.0) -> dict[int, tuple[int, int]]:
    """Send a Kafka ApiVersions v0 request; return {api_key: (min_version, max_version)}.

    Raises OSError/ConnectionError when the port does not answer the Kafka protocol.
    """
    client_id = b"ccmon-test-probe"
    correlation_id = 7
    body = struct.pack(">hhih", _API_VERSIONS_KEY, 0, correlation_id, len(client_id)) + client_id
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        sock.settimeout(timeout_s)
        sock.sendall(struct.pack(">i", len(body)) + body)
        (size,) = struct.unpack(">i", _recv_exact(sock, 4))
        data = _recv_exact(sock, size)
    got_id, error_code, count = struct.unpack_from(">ihi", data)
    if got_id != correlation_id:
        raise ConnectionError(f"ApiVersions: correlation id {got_id} != {correlation_id}")
    if error_code != 0:
        raise ConnectionError(f"ApiVersions: error code {error_code}")
    apis: dict[int, tuple[int, int]] = {}
    for i in range(count):
        key, lo, hi = struct.unpack_from(">hhh", data, 10 + 6 * i)
        apis[key] = (lo, hi)
    return apis


def redis_ping(host: str, port: int, timeout_s: float = 2.0) -> bool:
    """True when a RESP server on host:port answers PING with +PONG (not -LOADING)."""
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        sock.settimeout(timeout_s)
        sock.sendall(b"*1\r\n$4\r\nPING\r\n")
        reply = sock.recv(64)
    return reply.startswith(b"+PONG")
