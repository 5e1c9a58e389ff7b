"""One-queue read ``GET /api/v1/queues/{queue}`` under concurrent load (part of bench-scrape).

Over the queues ``benchmarks.scrape`` wrote, serves them as each layout in ``LAYOUTS``,
taking turns in the same run (snapshot topic off, routing snapshots refreshed every
500 ms; each layout runs every level once, then the next layout, for ``repeat`` rounds),
and measures the one-queue read the way ``benchmarks.routing_api`` measures the routing
read: closed loop (that many requests always in flight, a different queue each
time) and open loop (a fixed rate, latency from each request's scheduled send, so a stall
cannot hide). Meanwhile a background reader fetches ``GET /api/v1/queues`` every second
and ``/metrics`` every five (a wall board and a Prometheus pair), except in the ``quiet``
layout: the load a live exporter carries. Before measuring, the index, the scrape and
every queue are read once, so the cold first reads after start are not in the figures.
Latency is taken in this client, to the end of the body; client and exporter share the
cores.

* ``before``: the exporter wired as it was up to the split (one process, one store and
  mirror for every read; ``python -m benchmarks.queue_read --serve-before PORT``);
* ``before-quiet``: the same, without the background reader;
* ``all``: ``ccmon exporter`` (role ``all``, one process: the one-queue read on a mirror of
  its own);
* ``split``: ``ccmon exporter --role api`` (read API, routing) and ``--role metrics``
  (/metrics) as two processes; the background reader's /metrics goes to the second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.freshness import ccmon_process, wait_listening
from benchmarks.routing_api import _level, _open_level, combined
from streams.localservers import free_port
from streams.localservers.process import ManagedProcess

REPO_ROOT = Path(__file__).resolve().parent.parent
#: background reads while the one-queue load runs: (path, every seconds)
BACKGROUND = (("/api/v1/queues", 1.0), ("/metrics", 5.0))
#: the layouts measured, in this order
LAYOUTS = ("before", "before-quiet", "all", "split")


def _env(redis_url: str, prefix: str) -> dict[str, str]:
    return {
        "CCMON_REDIS_URL": redis_url,
        "CCMON_REDIS_PREFIX": prefix,
        "CCMON_PUBLISH_SNAPSHOTS": "false",
        "CCMON_EXPORTER_HOST": "127.0.0.1",
        "CCMON_ROUTING_REFRESH_MS": "500",
    }


@contextlib.contextmanager
def _before(redis_url: str, prefix: str, log_dir: Path) -> Iterator[int]:
    """The exporter as wired before the split, in a process of its own."""
    port = free_port()
    path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    proc = ManagedProcess(
        f"before-{port}",
        [sys.executable, "-m", "benchmarks.queue_read", "--serve-before", str(port)],
        log_dir / f"before-{port}.log",
        env={"PYTHONPATH": path, **_env(redis_url, prefix)},
        cwd=log_dir,
    )
    proc.start()
    try:
        wait_listening(proc, port, 30)
        yield port
    finally:
        proc.stop(timeout_s=15.0)


@contextlib.contextmanager
def _ccmon(redis_url: str, prefix: str, role: str, log_dir: Path) -> Iterator[int]:
    port = free_port()
    args = ["exporter", "--port", str(port), "--role", role]
    with ccmon_process(f"exporter-{role}-{port}", args, _env(redis_url, prefix), log_dir) as p:
        wait_listening(p, port, 30)
        yield port


@contextlib.contextmanager
def _layout(redis_url: str, prefix: str, name: str, log_dir: Path) -> Iterator[dict[str, str]]:
    """The base URL of each path the benchmark reads, for one layout."""
    if name.startswith("before"):
        with _before(redis_url, prefix, log_dir) as port:
            base = f"http://127.0.0.1:{port}"
            yield {"api": base, "/metrics": base}
    elif name == "all":
        with _ccmon(redis_url, prefix, "all", log_dir) as port:
            base = f"http://127.0.0.1:{port}"
            yield {"api": base, "/metrics": base}
    else:
        with (
            _ccmon(redis_url, prefix, "api", log_dir) as api,
            _ccmon(redis_url, prefix, "metrics", log_dir) as scrape,
        ):
            yield {"api": f"http://127.0.0.1:{api}", "/metrics": f"http://127.0.0.1:{scrape}"}


async def _background(bases: dict[str, str], counts: dict[str, int]) -> None:
    """Read the index and the scrape on their own schedules until cancelled."""
    async with aiohttp.ClientSession() as session:

        async def every(path: str, period: float) -> None:
            url = bases.get(path, bases["api"]) + path
            while True:
                async with session.get(url) as response:
                    await response.read()
                counts[path] = counts.get(path, 0) + 1
                await asyncio.sleep(period)

        await asyncio.gather(*(every(path, period) for path, period in BACKGROUND))


async def _warm(bases: dict[str, str], urls: list[str]) -> None:
    """One read of each background path and of each queue: the first reads after start
    read every key they need (a live exporter's mirror holds them)."""
    async with aiohttp.ClientSession() as session:
        for url in [bases.get(path, bases["api"]) + path for path, _ in BACKGROUND] + urls:
            async with session.get(url) as response:
                await response.read()
                assert response.status == 200, (url, response.status)


async def _measure_layout(
    bases: dict[str, str],
    background: bool,
    queue_of: Callable[[int], str],
    queues: int,
    seconds: float,
    levels: tuple[int, ...],
    rates: tuple[float, ...],
) -> dict[str, Any]:
    """One run of every level on one layout: closed loops, then open loops."""
    root = f"{bases['api']}/api/v1/queues"

    def url_of(i: int) -> str:
        return f"{root}/{queue_of((i * 7919) % queues)}"

    await asyncio.sleep(1.0)  # the first routing refresh
    await _warm(bases, [f"{root}/{queue_of(q)}" for q in range(queues)])
    probe = await _level(url_of, 1, 0.5, {})
    assert probe["errors"] == 0, "the one-queue read answered with errors"
    counts: dict[str, int] = {}
    out: dict[str, Any] = {}
    task = asyncio.create_task(_background(bases, counts)) if background else None
    try:
        out["closed"] = [await _level(url_of, c, seconds, {}) for c in levels]
        out["open"] = [await _open_level(url_of, r, 64, seconds, {}) for r in rates]
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    out["background_reads"] = counts
    for row in out["closed"] + out["open"]:
        print(row, file=sys.stderr)
    return out


async def measure(
    redis_url: str,
    prefix: str,
    queue_of: Callable[[int], str],
    queues: int,
    seconds: float,
    repeat: int,
    levels: tuple[int, ...] = (1, 8, 32),
    rates: tuple[float, ...] = (200.0, 500.0),
    layouts: tuple[str, ...] = LAYOUTS,
) -> dict[str, Any]:
    """Closed- and open-loop figures of the one-queue read over `queues` queues, by layout.

    The layouts take turns (each runs every level once, then the next layout; `repeat`
    rounds), so a change of the machine's load falls on all of them alike.
    """
    out: dict[str, Any] = {"queues": queues, "seconds_per_level": seconds, "repeat": repeat}
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in layouts}
    with tempfile.TemporaryDirectory() as tmp:
        for turn in range(repeat):
            for name in layouts:
                print(f"one-queue read, layout {name}, round {turn + 1}", file=sys.stderr)
                with _layout(redis_url, prefix, name, Path(tmp)) as bases:
                    quiet = name.endswith("quiet")
                    rounds[name].append(
                        await _measure_layout(
                            bases, not quiet, queue_of, queues, seconds, levels, rates
                        )
                    )
    for name, runs in rounds.items():
        out[name] = {
            kind: [combined([run[kind][i] for run in runs]) for i in range(len(runs[0][kind]))]
            for kind in ("closed", "open")
        } | {"background_reads": [run["background_reads"] for run in runs]}
    return out


def _serve_before(port: int) -> None:
    """Serve the exporter as it was wired before the split (from CCMON_* settings)."""
    from metrics.clock import wall_ms
    from metrics.core.agent_views import directory_infos
    from metrics.exposition.agents import AgentCollector
    from metrics.exposition.queues import AggregateCollector
    from metrics.exposition.runtime import register_runtime_metrics
    from metrics.exposition.text import ExpositionRegistry
    from metrics.web.api import make_app
    from metrics.web.server import serving
    from streams.exporter import install_routing_feed, server_options
    from streams.settings import Settings

    settings = Settings()
    queues = settings.queues()
    store = settings.redis_store()
    registry = ExpositionRegistry()
    register_runtime_metrics(registry)
    store.mirror_reads()
    windows = settings.exported_window_list()
    registry.register(AggregateCollector(store, queues, clock_ms=wall_ms, windows=windows))
    registry.register(AgentCollector(store, queues, clock_ms=wall_ms))
    app = make_app(store, queues, registry, wall_ms, directory_infos(settings.agents(queues)))
    install_routing_feed(app, registry, store, queues, settings, wall_ms)

    async def serve() -> None:
        async with serving(app, "127.0.0.1", port, server_options(settings)):
            await asyncio.Event().wait()

    asyncio.run(serve())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve-before", type=int, required=True, metavar="PORT")
    args = parser.parse_args(argv)
    _serve_before(args.serve_before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
