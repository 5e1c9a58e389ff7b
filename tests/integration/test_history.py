"""README "Load your history": its command lines, run as written on the real servers.

The lines are taken from README.md, so the section cannot drift from what works. Only the
servers change: the test's broker, Redis, topics and exporter port come in through the
environment (`localhost:9108` in the curl line becomes the test's exporter port).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.servers import free_port

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SECTION = "## Load your history"
HALF_HOUR_MS = 1_800_000


def readme_commands() -> list[str]:
    """The lines of the first code block of the section."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1]
    block = section.split("```", 2)[1]
    return [line for line in block.strip().splitlines() if line.strip()]


def expected_intervals(history: Path, queue: str) -> dict[int, dict[str, int]]:
    """queued and answered per half-hour, counted straight from the file."""
    out: dict[int, Counter[str]] = {}
    for line in history.read_bytes().splitlines():
        event = orjson.loads(line)
        kind = event["type"].removeprefix("contact.")
        if kind not in ("queued", "answered") or event["data"]["queue"] != queue:
            continue
        ms = int(dt.datetime.fromisoformat(event["time"]).timestamp() * 1000)
        out.setdefault(ms - ms % HALF_HOUR_MS, Counter())[kind] += 1
    return {start: dict(c) for start, c in sorted(out.items())}


def test_readme_history_commands_load_a_month_old_day(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    lines = readme_commands()
    assert any("CCMON_BACKFILL_S" in line for line in lines)
    tag = os.urandom(4).hex()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCMON_")}
    env |= {
        "PYTHONPATH": str(REPO),
        "CCMON_BROKERS": kafka_bootstrap,
        "CCMON_REDIS_URL": redis_url,
        "CCMON_REDIS_PREFIX": f"hist-{tag}",
        "CCMON_EVENTS_TOPIC": f"events-{tag}",
        "CCMON_DEADLETTER_TOPIC": f"dead-{tag}",
        "CCMON_SNAPSHOTS_TOPIC": f"snap-{tag}",
        "CCMON_GROUP_ID": f"group-{tag}",
        "CCMON_EXPORTER_PORT": str(port),
        "CCMON_WORKER_METRICS_PORT": "0",
        "CCMON_FLUSH_INTERVAL_MS": "100",
    }
    (tmp_path / "deploy").symlink_to(REPO / "deploy")
    background: list[subprocess.Popen[bytes]] = []
    log = (tmp_path / "servers.log").open("ab")
    reply: dict[str, Any] = {}
    try:
        for line in lines:
            command = line.replace("localhost:9108", f"localhost:{port}")
            export = re.match(r"export (\w+)=(\S+)", command)
            if export:
                env[export[1]] = export[2]
            elif command.rstrip().endswith("&"):
                run = ["bash", "-c", "exec " + command.rstrip().removesuffix("&")]
                background.append(
                    subprocess.Popen(run, env=env, cwd=tmp_path, stdout=log, stderr=log)
                )
            elif command.startswith("curl"):
                reply = poll_intervals(
                    command,
                    env,
                    tmp_path,
                    expected_intervals(tmp_path / "history.jsonl", "support"),
                )
            else:
                done = subprocess.run(
                    ["bash", "-c", command],
                    env=env,
                    cwd=tmp_path,
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
                if "# exits 2" in command:
                    assert done.returncode == 2, done.stderr
                    assert "ccmon worker" in done.stderr and "CCMON_BACKFILL_S=" in done.stderr
                else:
                    assert done.returncode == 0, done.stderr
    finally:
        for proc in background:
            proc.send_signal(signal.SIGTERM)
        for proc in background:
            proc.wait(60)
        log.close()
    assert reply, (tmp_path / "servers.log").read_text()[-3000:]


def got_intervals(reply: dict[str, Any]) -> dict[int, dict[str, int]]:
    rows = reply.get("channels", {}).get("voice", [])
    return {
        r["start_ms"]: {k: r[k] for k in ("queued", "answered") if r[k]}
        for r in rows
        if r["queued"] or r["answered"]
    }


def poll_intervals(
    command: str, env: dict[str, str], cwd: Path, expected: dict[int, dict[str, int]]
) -> dict[str, Any]:
    """Run the curl line until its intervals hold the file's figures (the worker catching up)."""
    assert len(expected) == 4 and all(e.get("answered") for e in expected.values())
    got: dict[int, dict[str, int]] = {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = subprocess.run(
            ["bash", "-c", command], env=env, cwd=cwd, capture_output=True, timeout=30
        )
        if done.returncode == 0 and done.stdout.startswith(b"{"):
            reply = orjson.loads(done.stdout)
            got = got_intervals(reply)
            if got == expected:
                return dict(reply)
        time.sleep(0.5)
    raise AssertionError(f"intervals {got} != the file's {expected}")
