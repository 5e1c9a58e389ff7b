"""`ccmon replay`: send a JSONL file of ccmon events into Kafka, resumable.

Each line is checked with the worker's own decoder; a bad line is reported with its
number and reason, counted, and not sent. Times are kept (for history and backfills) or
shifted so that the first event happens now (--retime), and events go out at a speed
factor or as fast as possible. A checkpoint file records the last line the broker has
acknowledged; a replay started again with the same checkpoint resumes after it (lines
after the last checkpoint are sent again: ccmon ignores repeated event ids).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from streams.decode import INTERNAL_TYPES, DecodeError, decode

__all__ = ["BadLine", "Checkpoint", "JsonlReader", "add_replay", "event_key", "retime"]

#: Bad lines printed one by one; beyond this only counted (and the total is printed).
MAX_REPORTED = 100
_KEYS = ("contact_id", "agent_id", "ticket_id", "session_id")


def event_key(event: dict[str, Any]) -> str:
    """The Kafka key of an event: its contact, agent (or ticket/session) id."""
    data = event.get("data") or {}
    for name in _KEYS:
        value = data.get(name)
        if isinstance(value, str):
            return value
    return str(event.get("id", ""))


def _iso(ms: int) -> str:
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def retime(event: dict[str, Any], time_ms: int, offset_ms: int, suffix: str = "") -> dict[str, Any]:
    """A copy of `event` moved by `offset_ms`; `suffix` appended to event, contact and agent ids."""
    out = {**event, "time": _iso(time_ms + offset_ms)}
    if suffix:
        out["id"] = f"{event['id']}{suffix}"
        data = dict(event["data"])
        for name in _KEYS:
            if isinstance(data.get(name), str):
                data[name] = f"{data[name]}{suffix}"
        out["data"] = data
    return out


@dataclass(frozen=True)
class BadLine:
    """A line that was not sent, and why."""

    line: int
    reason: str
    detail: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}: {self.detail}"


@dataclass
class JsonlReader:
    """Valid events of a JSONL text with their line numbers; bad lines are collected."""

    lines: IO[bytes]
    skip_lines: int = 0
    max_bytes: int = 65_536
    bad: list[BadLine] = field(default_factory=list)
    #: number of the last line read
    line: int = 0

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for number, raw in enumerate(self.lines, start=1):
            self.line = number
            if number <= self.skip_lines:
                continue
            text = raw.strip()
            if not text:
                continue
            try:
                decoded = decode(text, self.max_bytes)
            except DecodeError as exc:
                self.bad.append(BadLine(number, exc.reason, exc.detail))
                continue
            event = orjson.loads(text)
            if event["type"] in INTERNAL_TYPES:
                # The worker produces these itself (e.g. customer.contact, keyed by a hash).
                detail = f"{event['type']} is produced by the worker, never replayed"
                self.bad.append(BadLine(number, "internal_type", detail))
                continue
            yield decoded.time_ms, event


@dataclass
class Checkpoint:
    """How far a replay got: lines acknowledged by the broker, and the re-time offset used."""

    path: Path
    source: str
    line: int = 0
    offset_ms: int | None = None
    done: bool = False

    @classmethod
    def load(cls, path: Path, source: str) -> Checkpoint:
        if not path.exists():
            return cls(path, source)
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("source") != source:
            raise ValueError(f"checkpoint {path} belongs to {data.get('source')!r}, not {source!r}")
        return cls(path, source, int(data["line"]), data.get("offset_ms"), bool(data["done"]))

    def save(self) -> None:
        """Write atomically (temporary file, then rename)."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        body = {
            "source": self.source,
            "line": self.line,
            "offset_ms": self.offset_ms,
            "done": self.done,
        }
        tmp.write_text(json.dumps(body), encoding="utf-8")
        os.replace(tmp, self.path)


def add_replay(sub: Any) -> None:
    """Register the `replay` subcommand on the `ccmon` parser."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "replay",
        help="send a JSONL file of ccmon events into Kafka (history or re-timed to now)",
        description="Events go to CCMON_EVENTS_TOPIC on CCMON_BROKERS, keyed as the contract says.",
    )
    parser.add_argument("file", help="JSON lines, one ccmon event a line")
    parser.add_argument(
        "--retime", action="store_true", help="shift all times so that the first event is now"
    )
    parser.add_argument(
        "--speed", default="max", help="1 = real time, 10 = ten times faster, max (default)"
    )
    parser.add_argument(
        "--checkpoint",
        help="checkpoint file: resume from it when it exists (default: FILE.checkpoint)",
    )
    parser.add_argument("--no-checkpoint", action="store_true", help="do not keep a checkpoint")
    parser.add_argument(
        "--suffix", default="", help="append to event, contact and agent ids (replay twice)"
    )
    parser.set_defaults(func=_replay)


def _replay(args: argparse.Namespace) -> int:
    from streams.producers.pacing import parse_speed
    from streams.producers.runner import fail, run_command

    try:
        speed = parse_speed(args.speed)
    except ValueError as exc:
        return fail("replay", f"--speed: {exc}")
    source = str(Path(args.file).resolve())
    checkpoint = None
    if not args.no_checkpoint:
        path = Path(args.checkpoint or f"{args.file}.checkpoint")
        try:
            checkpoint = Checkpoint.load(path, source)
        except (ValueError, KeyError, OSError) as exc:
            return fail("replay", str(exc))
        if checkpoint.done:
            print(
                f"ccmon replay: {args.file} was replayed completely ({path}); "
                "delete the checkpoint to replay it again",
                file=sys.stderr,
            )
            return 0
    try:
        # Opened here to report a missing file before any Kafka work; closed by `with` below.
        handle = open(args.file, "rb")  # noqa: SIM115
    except OSError as exc:
        return fail("replay", str(exc))
    with handle:
        return run_command("replay", _run(args, handle, speed, checkpoint))


@dataclass
class _Replay:
    """One replay run: the reader, the time shift, and what was reported and acknowledged."""

    file: str
    reader: JsonlReader
    checkpoint: Checkpoint | None
    to_now: bool
    suffix: str
    start_line: int = 0
    offset_ms: int | None = None
    reported: int = 0
    yielded: int = 0
    completed: bool = False

    def report_bad(self) -> None:
        """Print the bad lines met since the last call (the first MAX_REPORTED of all)."""
        while self.reported < len(self.reader.bad):
            if self.reported < MAX_REPORTED:
                bad = self.reader.bad[self.reported]
                print(f"{self.file}:{bad.line}: {bad.reason}: {bad.detail}", file=sys.stderr)
            self.reported += 1

    def events(self) -> Iterator[tuple[int, str, dict[str, Any]]]:
        """(time ms, key, event) of each good line, shifted to now with --retime."""
        from metrics.clock import wall_ms

        for time_ms, event in self.reader:
            self.report_bad()
            shift = self.offset_ms
            if shift is None:
                shift = self.offset_ms = wall_ms() - time_ms if self.to_now else 0
            out = retime(event, time_ms, shift, self.suffix)
            self.yielded += 1
            yield time_ms + shift, event_key(out), out
        self.report_bad()

    async def save(self, sent: int) -> None:
        """Record the last line whose event the broker acknowledged."""
        if self.checkpoint is not None:
            # The reader stops on the line of the last event taken; it may not be sent yet.
            line = self.reader.line if sent == self.yielded else self.reader.line - 1
            self.checkpoint.line = max(line, self.start_line)
            self.checkpoint.offset_ms = self.offset_ms
            await asyncio.to_thread(self.checkpoint.save)

    async def finish(self, sent: int, topic: str) -> None:
        """Mark a completed replay's checkpoint done, and print the summary."""
        if self.checkpoint is not None and self.completed:
            self.checkpoint.done = True
            await asyncio.to_thread(self.checkpoint.save)
        bad = len(self.reader.bad)
        more = f" ({bad - MAX_REPORTED} not listed above)" if bad > MAX_REPORTED else ""
        print(
            f"ccmon replay: {sent:,} events sent to {topic}, "
            f"{bad:,} bad lines{more}, {self.reader.line:,} lines read",
            file=sys.stderr,
        )


async def _run(
    args: argparse.Namespace, handle: IO[bytes], speed: float | None, checkpoint: Checkpoint | None
) -> int:
    from streams.producers.pacing import Progress, send_paced
    from streams.producers.runner import started
    from streams.producers.sinks import KafkaSink
    from streams.settings import Settings

    settings = Settings()
    start_line = checkpoint.line if checkpoint is not None else 0
    run = _Replay(
        args.file,
        JsonlReader(handle, skip_lines=start_line, max_bytes=settings.max_event_bytes),
        checkpoint,
        args.retime,
        args.suffix,
        start_line,
        checkpoint.offset_ms if checkpoint is not None else None,
    )
    if start_line:
        print(f"ccmon replay: resuming {args.file} after line {start_line}", file=sys.stderr)
    sink = KafkaSink(settings)
    progress = Progress("replay")

    async def summary() -> None:
        await run.finish(progress.sent, settings.events_topic)

    async with started(sink, after=summary):
        await send_paced(run.events(), sink, speed, progress, on_sent=run.save)
        run.completed = True
    return 1 if run.reader.bad else 0
