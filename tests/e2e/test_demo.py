"""`ccmon demo` end to end: start it, use its URLs (wall board in a real browser), Ctrl-C it.

The demo is a subprocess exactly as a user runs it; SIGINT is what Ctrl-C sends. After
it, every process the demo started must be gone and its ports closed. It refuses ports
that are taken before starting anything, and names the process that ends first.
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
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.e2e.browser import board, board_and_last_poll, chromium, wait_for

pytestmark = [pytest.mark.e2e]

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


@pytest.mark.browser
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


def demo_env(**settings: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CCMON_")}
    return {**clean, **settings}


@pytest.fixture
def taken() -> Iterator[tuple[str, int]]:
    """A port another server listens on (every address), for the test's duration."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("0.0.0.0", 0))
        sock.listen(1)
        yield "0.0.0.0", sock.getsockname()[1]


@pytest.mark.parametrize(
    ("args", "variable", "where", "setting"),
    [
        ([], "CCMON_EXPORTER_PORT", "127.0.0.1", "CCMON_EXPORTER_PORT or --port (0: a free one)"),
        (
            ["--port", "0"],
            "CCMON_WORKER_METRICS_PORT",
            "0.0.0.0",
            "CCMON_WORKER_METRICS_PORT (0: off)",
        ),
    ],
)
def test_demo_refuses_a_taken_port_before_starting_anything(
    taken: tuple[str, int], tmp_path: Path, args: list[str], variable: str, where: str, setting: str
) -> None:
    port = taken[1]
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "demo", *args, "--log-dir", str(tmp_path)],
        env=demo_env(**{variable: str(port)}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "running" not in result.stdout
    what = (
        "the exporter (wall board, read API, /metrics)"
        if variable.endswith("R_PORT")
        else ("the worker's health metrics")
    )
    assert result.stderr == (
        f"ccmon demo: port {port} on {where} is already in use, and {what} needs it: "
        f"stop what listens there, or choose another port with {setting}\n"
    )
    assert list(tmp_path.iterdir()) == []  # no server was started, no log written


def test_demo_port_option_overrides_the_setting(taken: tuple[str, int], tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "demo", "--port", str(taken[1])],
        env=demo_env(CCMON_EXPORTER_PORT="0"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert f"port {taken[1]} on 127.0.0.1 is already in use" in result.stderr


def test_demo_names_the_process_that_ended_and_stops_the_rest(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-scenario.yaml"
    argv = [sys.executable, "-m", "streams.cli", "demo", "--port", "0", "--scenario", str(missing)]
    result = subprocess.run(
        [*argv, "--log-dir", str(tmp_path)],
        env=demo_env(CCMON_WORKER_METRICS_PORT="0"),
        capture_output=True,
        text=True,
        timeout=STARTUP_S,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "the simulator process stopped (simulator exited with code 2), so the demo stops; "
        f"its log {tmp_path / 'simulator.log'} ends with:" in result.stderr
    ), result.stderr
    assert str(missing) in result.stderr  # the simulator's own message, from its log
    assert result.stdout.rstrip().endswith("ccmon demo: stopped")
