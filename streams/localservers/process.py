"""Run a server binary as a child process: log file, readiness poll, clean shutdown."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from metrics.errors import CcmonError

__all__ = ["ManagedProcess", "ServerStartError", "free_port", "poll_until", "start_timeout_s"]

#: Overrides every local server start timeout (seconds), e.g. for slow CI machines.
START_TIMEOUT_ENV = "CCMON_TEST_SERVER_TIMEOUT"


class ServerStartError(CcmonError, RuntimeError):
    """A test server did not start or did not answer in time."""


def start_timeout_s(default: float) -> float:
    """The start timeout: $CCMON_TEST_SERVER_TIMEOUT if set, else ``default``."""
    raw = os.environ.get(START_TIMEOUT_ENV, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ValueError(f"{START_TIMEOUT_ENV} must be a number of seconds, got {raw!r}") from None


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free right now (the OS picks it; small reuse race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def poll_until(
    probe: Callable[[], bool],
    *,
    timeout_s: float,
    what: str,
    first_interval_s: float = 0.02,
    max_interval_s: float = 0.25,
    alive: Callable[[], str | None] | None = None,
) -> None:
    """Call ``probe`` with a growing back-off until it returns True.

    ``alive`` may return an error text (e.g. "process exited") to abort early.
    Raises ServerStartError on timeout; probe exceptions count as "not yet".
    """
    deadline = time.monotonic() + timeout_s
    interval = first_interval_s
    last_error = ""
    while True:
        if alive is not None and (dead := alive()) is not None:
            raise ServerStartError(f"{what}: {dead}")
        try:
            if probe():
                return
        except Exception as exc:  # any failure means "not ready yet"
            last_error = f" (last probe error: {type(exc).__name__}: {exc})"
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ServerStartError(f"{what}: not ready within {timeout_s:.0f}s{last_error}")
        time.sleep(min(interval, remaining))
        interval = min(interval * 2, max_interval_s)


def _die_with_parent() -> None:
    """In the child (Linux): get SIGTERM if pytest dies without running its teardown."""
    with contextlib.suppress(Exception):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class ManagedProcess:
    """A server child process whose stdout/stderr go to ``log_path``."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        stop_signal: int = signal.SIGTERM,
    ) -> None:
        self.stop_signal = stop_signal
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The child's pid, or None before start."""
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        """Spawn the process (own session, stdin closed, output appended to the log)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"$ {' '.join(self.argv)}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env} if self.env is not None else None,
                cwd=self.cwd,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )

    def exit_reason(self) -> str | None:
        """None while running; otherwise a text saying how the process ended."""
        if self._proc is None:
            return "process was never started"
        code = self._proc.poll()
        return None if code is None else f"{self.name} exited with code {code}"

    def wait_ready(self, probe: Callable[[], bool], *, timeout_s: float, what: str) -> None:
        """Poll ``probe`` until True; on failure stop the process and raise with the log tail."""
        try:
            poll_until(probe, timeout_s=timeout_s, what=what, alive=self.exit_reason)
        except ServerStartError as exc:
            self.stop()
            raise ServerStartError(
                f"{exc}\n--- last lines of {self.log_path} ---\n{self.log_tail()}"
            ) from None

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the log file (empty text if there is none)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout_s: float = 10.0) -> None:
        """The stop signal (SIGTERM), wait up to ``timeout_s``, then SIGKILL. Safe twice."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(self.stop_signal)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout_s)
