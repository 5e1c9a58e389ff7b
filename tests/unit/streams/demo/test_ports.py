"""The demo's port check: a listener anywhere on the port makes it taken; 0 is never checked."""

from __future__ import annotations

import socket

from streams.demo.ports import DemoPort, port_in_use, taken_ports


def test_a_port_another_socket_listens_on_is_in_use_on_every_address() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        assert port_in_use("127.0.0.1", port)
        assert port_in_use("0.0.0.0", port)
        [message] = taken_ports([DemoPort("the exporter", "127.0.0.1", port, "--port")])
    assert message == (
        f"port {port} on 127.0.0.1 is already in use, and the exporter needs it: "
        "stop what listens there, or choose another port with --port"
    )
    assert not port_in_use("127.0.0.1", port)  # closed again: free


def test_port_zero_is_not_checked() -> None:
    assert taken_ports([DemoPort("the worker's health metrics", "0.0.0.0", 0, "X")]) == []
