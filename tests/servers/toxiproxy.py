"""Toxiproxy: a fault-injecting TCP proxy (latency, resets, stalls) driven by its HTTP API.

`scripts/deploy/tools.sh` (`make deploy-tools`) builds ``toxiproxy-server`` from the Go
module proxy into ``$CCMON_TOOLS_DIR/bin`` (default ``~/.cache/ccmon-tools/bin``).
``$CCMON_TOXIPROXY_BIN`` overrides, else PATH. The client is a few urllib calls: the
PyPI client (toxiproxy-python 0.1.1) has had no release since 2019.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from streams.localservers import ManagedProcess, free_port

__all__ = ["Toxiproxy", "find_toxiproxy_binary"]

BIN_ENV = "CCMON_TOXIPROXY_BIN"


def find_toxiproxy_binary() -> str | None:
    """$CCMON_TOXIPROXY_BIN, else the tools cache `make deploy-tools` fills, else PATH."""
    if given := os.environ.get(BIN_ENV):
        return given
    tools = Path(os.environ.get("CCMON_TOOLS_DIR") or Path.home() / ".cache" / "ccmon-tools")
    cached = tools / "bin" / "toxiproxy-server"
    if cached.is_file() and os.access(cached, os.X_OK):
        return str(cached)
    return shutil.which("toxiproxy-server")


class Toxiproxy:
    """A toxiproxy-server of its own on a free port; proxies and toxics through its API."""

    def __init__(self, binary: str, log_dir: Path) -> None:
        self.port = free_port()
        self.process = ManagedProcess(
            "toxiproxy",
            [binary, "-host", "127.0.0.1", "-port", str(self.port)],
            log_dir / "toxiproxy.log",
        )

    def start(self) -> Toxiproxy:
        self.process.start()
        self.process.wait_ready(
            lambda: self._call("GET", "/proxies") is not None, timeout_s=30, what="toxiproxy"
        )
        return self

    def stop(self) -> None:
        self.process.stop()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            text = reply.read()
        return json.loads(text) if text.strip() else {}

    def proxy(self, name: str, upstream: str, listen_port: int | None = None) -> int:
        """A proxy `name` from 127.0.0.1:<port> to `upstream` ("host:port"); its port."""
        port = listen_port or free_port()
        self._call(
            "POST",
            "/proxies",
            {"name": name, "listen": f"127.0.0.1:{port}", "upstream": upstream, "enabled": True},
        )
        return port

    def add(
        self,
        proxy: str,
        kind: str,
        stream: str = "downstream",
        name: str | None = None,
        **attributes: int,
    ) -> str:
        """Add a toxic (`latency`, `reset_peer`, `timeout`, ...) on one direction; its name.

        ``stream`` is "downstream" (server to client) or "upstream" (client to server).
        """
        toxic = name or f"{kind}_{stream}"
        self._call(
            "POST",
            f"/proxies/{proxy}/toxics",
            {
                "name": toxic,
                "type": kind,
                "stream": stream,
                "toxicity": 1.0,
                "attributes": attributes,
            },
        )
        return toxic

    def remove(self, proxy: str, toxic: str) -> None:
        self._call("DELETE", f"/proxies/{proxy}/toxics/{toxic}")

    def enable(self, proxy: str, enabled: bool) -> None:
        """Disabling a proxy closes its connections and refuses new ones until enabled."""
        self._call("POST", f"/proxies/{proxy}", {"enabled": enabled})

    def toxics(self, proxy: str) -> list[str]:
        return [t["name"] for t in self._call("GET", f"/proxies/{proxy}/toxics")]
