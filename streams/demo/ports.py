"""The demo's own ports, checked before anything starts: a port another server holds
would otherwise make the demo say "running" while that server answers in its place."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["DemoPort", "port_in_use", "taken_ports"]


@dataclass(frozen=True)
class DemoPort:
    """One port a demo process will listen on, and how the user changes it."""

    what: str  # e.g. "the exporter (wall board, read API, /metrics)"
    host: str
    port: int  # 0: the process does not listen, or the OS picks a free port
    setting: str  # e.g. "CCMON_EXPORTER_PORT or --port (0: a free one)"


def port_in_use(host: str, port: int) -> bool:
    """True if a TCP listener on (host, port) cannot be opened right now.

    SO_REUSEADDR as the servers set it: a port left in TIME_WAIT by a process that just
    stopped is free, one another process listens on is not (also across 0.0.0.0).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen(1)
        except OSError:
            return True
    return False


def taken_ports(ports: Iterable[DemoPort]) -> list[str]:
    """One message for each port that is already in use (port 0 is never checked)."""
    out = []
    for p in ports:
        if p.port and port_in_use(p.host, p.port):
            out.append(
                f"port {p.port} on {p.host} is already in use, and {p.what} needs it: "
                f"stop what listens there, or choose another port with {p.setting}"
            )
    return out
