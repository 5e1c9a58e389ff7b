"""EWT accuracy backtest over JSONL event files (one ccmon v1 envelope per line).

``python -m benchmarks.ewt_backtest day.jsonl [more.jsonl ...] [--queues-file q.yaml]``
replays each file (a scenario) through metrics/routing/backtest.py and writes, per file and
per method, the mean absolute error and the share within ±30 s of answered contacts'
actual waits to benchmarks/results/ewt_backtest.json, and a Markdown table to stdout.
Lines that do not decode are counted and reported by line number, never fatal.

The traffic comes from ``ccmon simulate`` (the scenario and command are recorded in the
results); see docs/routing.md#ewt-accuracy.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import orjson

from metrics.config.queues import QueuesConfig, parse_queues_yaml
from metrics.events import Event
from metrics.routing.backtest import BASELINE, replay, summarize
from metrics.routing.ewt import DEFAULT_METHOD, EwtMethod
from streams.decode import DecodeError, decode

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Methods compared; "ccmon" is the one the snapshot serves (metrics.routing.ewt.DEFAULT_METHOD).
METHODS: dict[str, EwtMethod] = {
    "ccmon": DEFAULT_METHOD,
    "line": EwtMethod(abandons="none", shared_agents=False, blend_by_share=False),
    "line_share": EwtMethod(abandons="share", shared_agents=False, blend_by_share=False),
    "line_patience": EwtMethod(abandons="patience", shared_agents=False, blend_by_share=False),
    "line_share_shared": EwtMethod(abandons="share", blend_by_share=False),
    "line_patience_shared": EwtMethod(abandons="patience", blend_by_share=False),
    "line_patience_blend25": EwtMethod(
        abandons="patience", shared_agents=False, blend_by_share=False, asa_weight=0.25
    ),
    "line_patience_blend50": EwtMethod(
        abandons="patience", shared_agents=False, blend_by_share=False, asa_weight=0.5
    ),
}


def read_events(path: Path) -> tuple[list[Event], list[str]]:
    """Decoded events of a JSONL file, and a message per line that did not decode."""
    events: list[Event] = []
    bad: list[str] = []
    with path.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                events.append(decode(line.rstrip(b"\n"), 1 << 20))
            except DecodeError as exc:
                bad.append(f"{path}:{number}: {exc.reason}: {exc.detail}")
    return events, bad


def _mae_s(summary: dict[str, object], method: str) -> float | int | None:
    """One method's mean absolute error in a summarize() result."""
    methods = cast(dict[str, dict[str, float | int | None]], summary["methods"])
    return methods[method]["mae_s"]


def run_file(path: Path, queues: QueuesConfig, baseline_n: int) -> dict[str, Any]:
    events, bad = read_events(path)
    predictions = replay(events, queues, METHODS, baseline_n)
    summary = summarize(predictions, [*METHODS, BASELINE])
    base = _mae_s(summary, BASELINE)
    ours = _mae_s(summary, "ccmon")
    summary["improvement_vs_baseline"] = (
        round(1 - ours / base, 4) if base and ours is not None else None
    )
    per_queue: dict[str, Any] = {}
    for queue in sorted({p.queue for p in predictions}):
        part = summarize([p for p in predictions if p.queue == queue], ["ccmon", BASELINE])
        per_queue[queue] = {
            "compared": part["compared"],
            "ccmon_mae_s": _mae_s(part, "ccmon"),
            "baseline_mae_s": _mae_s(part, BASELINE),
        }
    summary["queues"] = per_queue
    return {
        "file": path.name,
        "events": len(events),
        "bad_lines": len(bad),
        "bad_examples": bad[:5],
        "arrivals": len(predictions),
    } | summary


def table(results: list[dict[str, Any]]) -> str:
    names = [*METHODS, BASELINE]
    head = "| scenario | answered | " + " | ".join(names) + " |"
    rule = "|---|---:|" + "---:|" * len(names)
    rows = [head, rule]
    for r in results:
        cells = []
        for n in names:
            m = r["methods"][n]
            cells.append(
                f"{m['mae_s']} s / {m['within_30s']:.0%}" if m["mae_s"] is not None else "–"
            )
        rows.append(f"| {r['file']} | {r['compared']} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, help="JSONL event files")
    parser.add_argument("--queues-file", type=Path, help="queues YAML (default: defaults)")
    parser.add_argument("--baseline-n", type=int, default=10, help="N of the baseline")
    parser.add_argument("--command", default="", help="how the files were made (recorded)")
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "benchmarks/results/ewt_backtest.json"
    )
    args = parser.parse_args(argv)
    queues = QueuesConfig()
    if args.queues_file:
        queues = parse_queues_yaml(args.queues_file.read_text("utf-8"), str(args.queues_file))
    results = []
    for path in args.files:
        result = run_file(path, queues, args.baseline_n)
        for line in result["bad_examples"]:
            print(line, file=sys.stderr)
        results.append(result)
    document = {
        "benchmark": "ewt_backtest",
        "generated_at": datetime.now(UTC).isoformat(),
        "baseline": f"mean of the last {args.baseline_n} answered waits of the queue",
        "within_s": 30,
        "command": args.command,
        "methods": {name: dataclasses.asdict(m) for name, m in METHODS.items()},
        "scenarios": results,
    }
    args.out.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.write(table(results) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
