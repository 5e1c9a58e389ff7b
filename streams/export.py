"""`ccmon export`: interval reports (15 or 30 minutes) per queue and channel as CSV.

The figures are the read API's interval series (metrics.core.views.interval_series), read
from the store a day at a time, for a range of local days or RFC 3339 times. A counter is
a number; a ratio with an empty denominator is an empty cell (no value, never 0).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any
from zoneinfo import ZoneInfo

from metrics.config.queues import QueuesConfig
from metrics.core.update import Series
from metrics.core.views import interval_request, interval_series
from metrics.store.base import AggregateStore

__all__ = ["add_export", "export_rows", "flatten", "parse_bound", "write_csv"]

#: Intervals read per store round trip: a day of 15-minute intervals.
CHUNK = 96
_DAY = dt.timedelta(days=1)


def parse_bound(text: str, zone: ZoneInfo, now_ms: int, end: bool = False) -> int:
    """A range bound as epoch ms: 'today', 'yesterday', a local date (YYYY-MM-DD; as an end,
    the whole day is included) or an RFC 3339 time with an offset."""
    today = dt.datetime.fromtimestamp(now_ms / 1000, tz=zone).date()
    named = {"today": today, "yesterday": today - _DAY}
    day: dt.date | None = named.get(text)
    if day is None and len(text) == 10:
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            day = None
    if day is not None:
        midnight = dt.datetime.combine(day + _DAY if end else day, dt.time(), tzinfo=zone)
        return round(midnight.timestamp() * 1000)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is neither a date (YYYY-MM-DD) nor an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} needs a UTC offset, e.g. {text}Z")
    return round(moment.timestamp() * 1000)


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat().replace("+00:00", "Z")


def flatten(row: dict[str, Any]) -> dict[str, Any]:
    """One level: nested sections (tickets, cx) become 'tickets.name' columns."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            out[key] = value
    return out


def export_rows(
    store: AggregateStore,
    queues: QueuesConfig,
    bounds: dict[str, tuple[int, int]],
    size: int,
    now_ms: int,
) -> Iterator[dict[str, Any]]:
    """Interval rows of every series of the queues in `bounds` (queue -> [start, end) ms),
    by queue, channel and time."""
    series: list[Series] = [s for s in store.series() if s[0] in bounds]
    for queue, channel in sorted(series):
        cfg = queues.get(queue)
        start, end = bounds[queue]
        starts = interval_request((queue, channel), start, end, size, cfg)[1]
        for i in range(0, len(starts), CHUNK):
            chunk = starts[i : i + CHUNK]
            request, _ = interval_request(
                (queue, channel), chunk[0], chunk[-1] + size * 60_000, size, cfg
            )
            (data,) = store.read([request], now_ms)
            for row in interval_series(chunk, size, data, cfg, now_ms):
                head = {"queue": queue, "channel": channel}
                times = {"start": _iso(row.pop("start_ms")), "end": _iso(row.pop("end_ms"))}
                yield head | times | flatten(row)


def write_csv(rows: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """Write the rows (header from the first); None as an empty cell. Returns the count."""
    writer: csv.DictWriter[str] | None = None
    count = 0
    for row in rows:
        if writer is None:
            writer = csv.DictWriter(out, fieldnames=list(row), lineterminator="\n")
            writer.writeheader()
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
        count += 1
    return count


def add_export(sub: Any) -> None:
    """Register the `export` subcommand on the `ccmon` parser."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "export",
        help="write interval reports per queue and channel as CSV (from Redis)",
        description="Reads the interval figures the read API serves, for local days in "
        "each queue's time zone (or RFC 3339 times), as CSV.",
    )
    parser.add_argument("--from", dest="start", required=True, help="first day or time")
    parser.add_argument(
        "--to", dest="end", default=None, help="last day (included) or end time (default now)"
    )
    parser.add_argument("--size", type=int, choices=[15, 30], default=30, help="minutes")
    parser.add_argument(
        "--queue", action="append", help="only this queue (repeatable; default all)"
    )
    parser.add_argument("--out", default="-", help="CSV file (default: stdout)")
    parser.set_defaults(func=_export)


def _bounds(
    args: argparse.Namespace, queues: QueuesConfig, names: Sequence[str], now: int
) -> dict[str, tuple[int, int]]:
    """[start, end) of the range for each queue, in the queue's time zone."""
    out = {}
    for name in names:
        zone = ZoneInfo(queues.get(name).time_zone)
        start = parse_bound(args.start, zone, now)
        end = parse_bound(args.end, zone, now, end=True) if args.end else now
        if end <= start:
            raise ValueError(f"--to must be after --from (queue {name})")
        out[name] = (start, end)
    return out


def _export(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from metrics.clock import wall_ms
    from metrics.config.queues import QueueConfigError
    from metrics.errors import CcmonError
    from streams.producers.runner import fail
    from streams.settings import Settings

    try:
        settings = Settings()
        queues = settings.queues()
    except (ValidationError, QueueConfigError) as exc:
        return fail("export", str(exc))
    store = settings.redis_store(queues)
    now = wall_ms()
    try:
        known = sorted({q for q, _ in store.series()} | {q.name for q in queues.queues})
        names = args.queue or known
        bounds = _bounds(args, queues, names, now)
        rows = export_rows(store, queues, bounds, args.size, now)
        if args.out == "-":
            count = write_csv(rows, sys.stdout)
        else:
            with open(args.out, "w", encoding="utf-8", newline="") as handle:
                count = write_csv(rows, handle)
    except ValueError as exc:
        return fail("export", str(exc))
    except (CcmonError, OSError) as exc:
        return fail("export", str(exc), 1)
    sys.stderr.write(f"ccmon export: {count:,} intervals of {len(bounds)} queues\n")
    return 0
