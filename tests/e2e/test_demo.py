"""`ccmon demo` end to end: start it, use its URLs (wall board in a real browser), Ctrl-C it.

The demo is a subprocess exactly as a user runs it; SIGINT is what Ctrl-C sends. After
it, every process the demo started must be gone and its ports closed.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import orjson
import pytest

from tests.e2e.browser import board, board_and_last_poll, chromium, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

STARTUP_S = 120


def children_of(pid: int) -> set[int]:
    """Direct children of `pid`, from /proc (Linux)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited: it only waits for its parent to collect it.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def port_open(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def test_demo_starts_everything_serves_the_wallboard_and_stops_cleanly_on_ctrl_c(
    tmp_path: Path,
) -> None:
    demo = subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "demo", "--port", "0", "--log-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        assert demo.stdout is not None
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            output.append(line)
            if line.strip().startswith("logs"):
                break
        text = "".join(output)
        urls = dict(re.findall(r"^\s+(wall board|read API|Prometheus)\s+(\S+)", text, re.M))
        assert set(urls) == {"wall board", "read API", "Prometheus"}, text
        kafka = re.search(r"Kafka\s+(\S+)", text)
        redis = re.search(r"redis://(\S+)/0", text)
        assert kafka and redis, text
        started = children_of(demo.pid)
        assert len(started) == 5, started  # tansu, valkey, worker, exporter, simulator

        status, body = get(urls["Prometheus"])
        assert status == 200 and b"ccmon_" in body
        # The simulator's events reach the read API through Kafka, the worker and Redis.
        queues = wait_for(
            lambda: orjson.loads(get(urls["read API"])[1])["queues"], 90, "simulated queues"
        )
        names = {(q["queue"], q["channel"]) for q in queues}
        assert names <= {("sales", "voice"), ("support", "voice"), ("chat", "chat")}

        with chromium() as driver:
            driver.get(urls["wall board"])
            wait_for(lambda: board(driver), 30, "queues on the wall board")
            # It shows exactly what its last poll of the read API returned ...
            shown, last = board_and_last_poll(driver)
            rows = {f"{r['queue']}|{r['channel']}": r for r in last["queues"]}
            assert set(shown) == set(rows)
            for series, tiles in shown.items():
                assert tiles["contacts_waiting"]["text"] == str(rows[series]["contacts_waiting"])
                assert tiles["agents_available"]["text"] == str(rows[series]["agents"]["available"])
            # ... and keeps polling without a reload (at least every 2 s).
            polls = driver.execute_script("return window.ccmonWallboard.polls")
            time.sleep(4.5)
            assert driver.execute_script("return window.ccmonWallboard.polls") >= polls + 2
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            rest, _ = demo.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            demo.kill()
            rest, _ = demo.communicate()
        output.append(rest or "")
    text = "".join(output)
    assert demo.returncode == 0, text
    assert "ccmon demo: stopped" in text
    assert not [pid for pid in started if alive(pid)], text
    assert not port_open(kafka.group(1)) and not port_open(redis.group(1))
    assert not port_open(urls["read API"].split("/")[2])
