"""The fault soak: every fault of docs/reliability.md at full size, on real servers.

Runs each run of `tests/integration/faults_rig.py` (the bounded CI tests use the same
code with smaller sizes) on a local Tansu and Valkey started here, with Toxiproxy from
`make deploy-tools`. Writes the figures to benchmarks/results/faults.json and the table
between the soak markers of docs/reliability.md. Exits 1 when any run is not exact.

    python3 -m benchmarks.faults            # everything (about 15 minutes on 2 cores)
    python3 -m benchmarks.faults --only redis_stalled --scale 0.2   # smaller: no file written
    python3 -m benchmarks.faults --only catch_up   # full size: updates that row only
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from streams.localservers import LocalRedis, LocalTansu, find_redis_binary
from tests.integration import faults_rig as rig
from tests.servers.toxiproxy import Toxiproxy, find_toxiproxy_binary

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "faults.json"
DOC = ROOT / "docs" / "reliability.md"
START, END = "<!-- soak-faults:start -->", "<!-- soak-faults:end -->"


def runs(
    brokers: str, redis_url: str, work: Path, toxi: Toxiproxy | None, scale: float
) -> dict[str, Callable[[], Awaitable[rig.Figures]]]:
    """Each run at full size (times `scale`), by name, in the order they run."""

    def n(full: int) -> int:
        return max(1, int(full * scale))

    def sub(name: str) -> Path:
        path = work / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    out: dict[str, Callable[[], Awaitable[rig.Figures]]] = {
        "killed_during_backlog": lambda: rig.killed_during_backlog(
            brokers, redis_url, sub("kill"), contacts=n(20_000), kills=8
        ),
        "every_event_twice": lambda: rig.every_event_twice(brokers, redis_url, n(10_000)),
        "redis_stalled": lambda: rig.redis_stalled(
            brokers, sub("rstall"), stall_s=30, contacts=n(5_000), bad=n(20_000)
        ),
        "redis_restarted": lambda: rig.redis_restarted(
            brokers, sub("rlost"), aof=False, contacts=n(5_000)
        ),
        "redis_restarted_aof": lambda: rig.redis_restarted(
            brokers, sub("raof"), aof=True, contacts=n(5_000)
        ),
        "broker_stalled": lambda: rig.broker_stalled(
            redis_url, sub("bstall"), stall_s=30, contacts=n(5_000), bad=n(20_000)
        ),
        "fuzzed": lambda: rig.fuzzed(brokers, redis_url, n(82_400)),
        "catch_up": lambda: rig.catch_up(brokers, redis_url, days=12, contacts=n(30_000)),
    }
    if toxi is not None:
        out["toxiproxy"] = lambda: rig.through_toxiproxy(
            toxi, redis_url, sub("toxi"), contacts=n(3_000), bad=n(10_000)
        )
    return out


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| fault | records sent | applied | dead-lettered (bad records) | cells differing "
        "| worker exited | /readyz during → after | notes | s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        during = sorted(set(r["ready_during"]))
        ready = f"{'/'.join(map(str, during))} → {r['ready_after']}" if during else ""
        lost = f"; store lost {r['store_lost']}×" if r["store_lost"] else ""
        lines.append(
            f"| {r['fault']} | {r['sent']:,} | {r['applied']:,} | {r['dead_lettered']:,} "
            f"({r['bad']:,}; {r['letters_missing']} missing) | {r['differing']} "
            f"| {'yes' if r['worker_exited'] else 'no'} | {ready} | {r['note']}{lost} "
            f"| {r['seconds']:.0f} |"
        )
    return "\n".join(lines)


def write_doc(text: str) -> None:
    doc = DOC.read_text()
    if START in doc and END in doc:
        head, rest = doc.split(START, 1)
        DOC.write_text(head + START + "\n" + text + "\n" + END + rest.split(END, 1)[1])


async def soak(args: argparse.Namespace) -> int:
    found = find_redis_binary()
    assert found is not None, "no valkey-server/redis-server (the demo extra ships one)"
    binary = find_toxiproxy_binary()
    if binary is None:
        print("no toxiproxy-server: run `make deploy-tools`; the proxy run is left out")
    with tempfile.TemporaryDirectory(prefix="ccmon-soak-") as tmp:
        work = Path(tmp)
        tansu, redis = LocalTansu(work / "tansu"), LocalRedis(found[0], found[1], work)
        brokers, redis_url = tansu.start(), redis.start()
        toxi = Toxiproxy(binary, work).start() if binary else None
        rows: list[dict[str, Any]] = []
        try:
            for name, run in runs(brokers, redis_url, work, toxi, args.scale).items():
                if args.only and name not in args.only:
                    continue
                print(f"--- {name}", flush=True)
                try:
                    figures = await run()
                except Exception as exc:  # a run that fails is a figure too
                    figures = rig.Figures(name, 0, 0, 0, 0, 0, -1, note=f"failed: {exc!r}"[:300])
                row = dataclasses.asdict(figures)
                row["exact"] = figures.exact
                row["when"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
                rows.append(row)
                print(json.dumps(row), flush=True)
        finally:
            if toxi is not None:
                toxi.stop()
            tansu.stop()
            redis.stop()
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared), {platform.system()}",
        "scale": args.scale,
        "runs": rows,
    }
    text = table(rows)
    print(text)
    if args.scale == 1.0:  # full size: update these runs' rows, keep the others
        if args.only and RESULTS.exists():
            before = json.loads(RESULTS.read_text())
            kept = [{"when": before["when"], **r} for r in before["runs"]]
            fresh = {r["fault"]: r for r in rows}
            rows = [fresh.pop(r["fault"], r) for r in kept] + list(fresh.values())
            result["runs"], text = rows, table(rows)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
        whens = sorted({r.get("when", result["when"]) for r in rows})
        span = whens[0] if len(whens) == 1 else f"between {whens[0]} and {whens[-1]}"
        write_doc(f"Measured {span} on {result['machine']}:\n\n{text}")
    return 0 if all(r["exact"] for r in rows) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="run only these (names as printed)")
    parser.add_argument("--scale", type=float, default=1.0, help="size factor (1 = full)")
    return asyncio.run(soak(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
