"""Real ``ccmon worker`` / ``ccmon exporter`` subprocesses for the multi-process benchmarks.

A ``ServiceProcess`` runs one ccmon command with the ``CCMON_*`` environment of a
``Settings``, logs to a file, and reads back what the process's own log says it owns
(``streams.kafka``'s ``assigned [...]`` line; aiokafka's revocation line empties it). CPU
time and RSS come from psutil (the kernel's /proc figures for that pid).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from streams.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
#: streams.kafka's "assigned [...]" line, and aiokafka's revocation line before a rebalance
OWNERSHIP = re.compile(r"streams\.kafka assigned \[(.*?)\]|(Revoking previously assigned)")


def env_of(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a ``ccmon`` subprocess needs to run with ``settings``."""
    env = dict(os.environ)
    for name, value in settings.as_dict(plaintext_secrets=True).items():
        if value is not None:
            env[f"CCMON_{name.upper()}"] = str(value)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def owned(log: str) -> set[int]:
    """The partitions a worker's log says it owns at its end (empty after a revocation)."""
    now: set[int] = set()
    for m in OWNERSHIP.finditer(log):
        if m.group(2):
            now = set()
            continue
        tps = (tp.strip(" '\"") for tp in m.group(1).split(","))
        now = {int(tp.rsplit(":", 1)[1]) for tp in tps if tp}
    return now


class ServiceProcess:
    """One ccmon command (``worker``, ``exporter``) as a subprocess, with its log file."""

    def __init__(self, command: str, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log = log_dir / f"{name}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", command, "--log-level", "info"],
            env=env,
            cwd=log_dir,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        self.ps = psutil.Process(self.proc.pid)

    def owns(self) -> set[int]:
        """The partitions it owns now, from its log (empty after a revocation)."""
        return owned(self.log.read_text(errors="replace") if self.log.exists() else "")

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{self.name} exited ({self.proc.returncode}): {tail}")

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the process so far (all its threads)."""
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def rss_bytes(self) -> int:
        return int(self.ps.memory_info().rss)

    def stop(self, timeout_s: float = 60) -> None:
        """SIGTERM (a clean flush and commit), SIGKILL if it does not exit in time."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def wait_for_split(
    workers: list[ServiceProcess], partitions: int, timeout_s: float, settle_s: float
) -> dict[str, list[int]]:
    """Until every worker owns at least one partition, together all of them, and the split
    held for ``settle_s`` (no rebalance still under way); return it."""
    deadline = time.monotonic() + timeout_s
    held: tuple[frozenset[int], ...] | None = None
    since = 0.0
    while time.monotonic() < deadline:
        for w in workers:
            w.check_alive()
        owned = tuple(frozenset(w.owns()) for w in workers)
        complete = all(owned) and frozenset().union(*owned) == frozenset(range(partitions))
        if complete and owned == held:
            if time.monotonic() - since >= settle_s:
                return {w.name: sorted(o) for w, o in zip(workers, owned, strict=True)}
        elif complete:
            held, since = owned, time.monotonic()
        else:
            held = None
        await asyncio.sleep(0.2)
    split = {w.name: sorted(w.owns()) for w in workers}
    raise RuntimeError(f"no stable split over {partitions} partitions in {timeout_s} s: {split}")
