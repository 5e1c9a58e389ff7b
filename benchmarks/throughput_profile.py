"""Where the ccmon runner spends its time: ``python -m benchmarks.throughput_profile``.

Starts a throwaway Tansu broker, produces the same deterministic events as
``benchmarks.run``, then runs the ccmon runner (``benchmarks.runners.ccmon``: the real
pipeline into a real Redis) under py-spy, which samples every thread (the flush runs in
one) without changing the code. The samples are folded into the functions that use the
most time, by own time and with what they call, and written to
``benchmarks/results/throughput-profile.json``. Start-up and import samples are counted
apart, so the tables cover the consuming part of the run.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import orjson

from benchmarks.broker import create_topic
from benchmarks.events import build_records, produce_records
from streams.localservers import LocalTansu

REPO_ROOT = Path(__file__).resolve().parent.parent
#: A stack whose innermost frames hold one of these is start-up, not consuming.
_STARTUP = ("_find_and_load", "<module>")
#: Innermost frames of a thread waiting for work (the event loop in select, a pool thread
#: on its queue, a thread in native code only: py-spy's ``thread (id)`` root): idle.
_IDLE = ("select (selectors.py", "_worker (concurrent/futures/thread.py", "thread (")


def fold(raw: str, top: int) -> dict[str, Any]:
    """Own-time and inclusive-time tables of py-spy's raw (collapsed) stacks."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    counted = startup = idle = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f.strip() for f in stack.split(";") if f.strip()]
        if any(f.startswith(_STARTUP) for f in frames[:4]) and "run_consumer" not in stack:
            startup += count
            continue
        if frames and frames[-1].startswith(_IDLE):
            idle += count
            continue
        counted += count
        own[_short(frames[-1])] += count
        for name in {_short(f) for f in frames}:
            total[name] += count

    def table(counts: collections.Counter[str]) -> list[dict[str, Any]]:
        return [
            {"function": name, "samples": n, "share": round(n / counted, 4)}
            for name, n in counts.most_common(top)
        ]

    return {
        "samples_counted": counted,
        "samples_startup": startup,
        "samples_idle": idle,
        "own": table(own),
        "inclusive": table(total),
    }


def _short(frame: str) -> str:
    """``func (path/to/file.py:123)`` -> ``func (file.py)``: one row per function."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    return f"{name} ({'/'.join(path.split('/')[-2:])})"


def main(argv: list[str] | None = None) -> int:
    """Produce, profile the ccmon runner, fold and write the tables; print the top rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "benchmarks/results/throughput-profile.json"
    )
    args = parser.parse_args(argv)
    spy = shutil.which("py-spy")
    if spy is None:
        raise SystemExit("py-spy is not installed: python3 -m pip install py-spy")
    log_dir = Path(tempfile.mkdtemp(prefix="ccmon-profile-"))
    topic = f"bench-events-{uuid.uuid4().hex[:8]}"
    records = build_records(args.n, args.seed)
    broker = LocalTansu(log_dir)
    bootstrap = broker.start()
    try:
        asyncio.run(create_topic(bootstrap, topic, 4))
        asyncio.run(produce_records(bootstrap, topic, records))
        del records
        raw_path = log_dir / "ccmon.raw"
        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
        cmd = [spy, "record", "-r", str(args.rate), "--threads", "--format", "raw"]
        cmd += ["-o", str(raw_path), "--", sys.executable, "-m", "benchmarks.runners.ccmon"]
        cmd += ["--bootstrap", bootstrap, "--topic", topic, "--n", str(args.n)]
        with (log_dir / "ccmon.log").open("wb") as log:
            proc = subprocess.run(cmd, cwd=log_dir, env=env, stdout=subprocess.PIPE, stderr=log)
    finally:
        broker.stop()
    lines = [ln for ln in proc.stdout.decode().splitlines() if ln.startswith("{")]
    run = orjson.loads(lines[-1]) if lines else {"error": f"exit {proc.returncode}"}
    folded = fold(raw_path.read_text() if raw_path.exists() else "", args.top)
    report = {
        "n": args.n,
        "seed": args.seed,
        "rate_hz": args.rate,
        "events_per_s_under_py_spy": run.get("events_per_s"),
        **folded,
        "log_dir": str(log_dir),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    print(f"ccmon under py-spy: {run.get('events_per_s')} events/s; logs {log_dir}")
    for kind in ("own", "inclusive"):
        print(f"\n{kind} time (share of {folded['samples_counted']} samples)")
        for row in folded[kind][:20]:
            print(f"  {row['share']:6.1%}  {row['function']}")
    print(f"\nreport: {args.out}")
    return 0 if "error" not in run else 1


if __name__ == "__main__":
    sys.exit(main())
