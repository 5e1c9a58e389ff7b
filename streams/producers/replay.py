"""`ccmon replay`: send a JSONL file of ccmon events into Kafka, resumable.

Each line is checked with the worker's own decoder; a bad line is reported with its
number and reason, counted, and not sent. Times are kept (history), or shifted: so that
the first event happens now (bare --retime), or by whole days or weeks (--retime days,
--retime weeks) so that intervals and weekdays keep their alignment. A first pass over
the file finds its span: a history older than the worker's retention is refused with
the commands that load it (streams.producers.history), and the span gives the progress
its total. Events go out at a speed factor or as fast as possible, keyed as the
contract says (streams.producers.keys). A checkpoint file records the last line the
broker has acknowledged; a replay started again with the same checkpoint resumes after
it (lines after the last checkpoint are sent again: ccmon ignores repeated event ids).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson
from pydantic import ValidationError

from streams.decode import INTERNAL_TYPES, DecodeError, decode
from streams.producers.history import RETIME_MODES, RetimeMode, Span
from streams.producers.keys import event_key
from streams.producers.progress import Progress

if TYPE_CHECKING:
    from streams.settings import Settings

__all__ = ["BadLine", "Checkpoint", "JsonlReader", "add_replay", "retime", "scan"]

#: Bad lines printed one by one; beyond this only counted (and the total is printed).
MAX_REPORTED = 100
#: The entity ids --suffix extends (with the event id), so a file can be replayed twice.
_KEYS = ("contact_id", "agent_id", "ticket_id", "session_id")


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


def scan(lines: IO[bytes], skip_lines: int, max_bytes: int) -> Span | None:
    """The span of the valid events after `skip_lines` (a first pass; bad lines are
    reported by the sending pass)."""
    return Span.of([t for t, _ in JsonlReader(lines, skip_lines, max_bytes)])


def add_replay(sub: Any) -> None:
    """Register the `replay` subcommand on the `ccmon` parser."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "replay",
        help="send a JSONL file of ccmon events into Kafka (history or re-timed to now)",
        description="Events go to CCMON_EVENTS_TOPIC on CCMON_BROKERS, keyed as the contract "
        "says. A file older than the worker's retention is refused with the commands that "
        "load it (CCMON_BACKFILL_S).",
    )
    parser.add_argument("file", nargs="?", help="JSON lines, one ccmon event a line")
    parser.add_argument(
        "--retime",
        nargs="?",
        const="first",
        default="none",
        metavar="{days,weeks}",
        help="shift all times: bare, so that the first event is now; 'days' or 'weeks', by "
        "the most whole days or weeks that keep the last event in the past",
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


def _arguments(args: argparse.Namespace) -> str | None:
    """Settle FILE and --retime (`--retime FILE` is the bare --retime); None, or what is wrong."""
    if args.retime not in (*RETIME_MODES, "none"):
        if args.file is not None:
            return f"--retime {args.retime!r}: use --retime, --retime days or --retime weeks"
        args.file, args.retime = args.retime, "first"
    if args.file is None:
        return "FILE is required"
    return None


def _replay(args: argparse.Namespace) -> int:
    from streams.producers.pacing import parse_speed
    from streams.producers.runner import fail, run_command

    wrong = _arguments(args)
    if wrong:
        return fail("replay", wrong)
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
        try:
            run = _plan(args, handle, checkpoint, speed)
        except ValidationError as exc:
            return fail("replay", f"settings: {exc}")
        if isinstance(run, str):
            return fail("replay", run)
        return run_command("replay", _run(run, speed))


def _plan(
    args: argparse.Namespace, handle: IO[bytes], checkpoint: Checkpoint | None, speed: float | None
) -> _Replay | str:
    """The replay to run (its time shift fixed by a first pass), or why it is refused."""
    from metrics.clock import wall_ms
    from streams.producers.history import early_refusal, refusal, retime_offset
    from streams.settings import Settings

    settings = Settings()
    start_line = checkpoint.line if checkpoint is not None else 0
    span = scan(handle, start_line, settings.max_event_bytes)
    handle.seek(0)
    offset = checkpoint.offset_ms if checkpoint is not None else None
    if span is not None:
        mode: RetimeMode = args.retime
        offset = retime_offset(mode, span, wall_ms()) if offset is None else offset
        moved = Span(span.first_ms + offset, span.oldest_ms + offset, span.newest_ms + offset, 0)
        command, now = _command_line(args), wall_ms()
        why = refusal(command, moved, now, settings.retention_s, settings.lateness_s)
        why = why or early_refusal(command, span, offset, now, speed, settings.max_future_s)
        if why:
            return why
    return _Replay(
        settings,
        args.file,
        JsonlReader(handle, skip_lines=start_line, max_bytes=settings.max_event_bytes),
        checkpoint,
        args.suffix,
        span.count if span is not None else 0,
        start_line,
        offset or 0,
    )


def _command_line(args: argparse.Namespace) -> str:
    """This replay as a command line (without `ccmon`), for the refusal's advice."""
    words = ["replay", args.file]
    if args.retime != "none":
        words += ["--retime"] if args.retime == "first" else ["--retime", args.retime]
    if args.speed != "max":
        words += ["--speed", args.speed]
    if args.suffix:
        words += ["--suffix", args.suffix]
    if args.checkpoint:
        words += ["--checkpoint", args.checkpoint]
    if args.no_checkpoint:
        words += ["--no-checkpoint"]
    return shlex.join(words)


@dataclass
class _Replay:
    """One replay run: the reader, the time shift, and what was reported and acknowledged."""

    settings: Settings
    file: str
    reader: JsonlReader
    checkpoint: Checkpoint | None
    suffix: str
    total: int
    start_line: int = 0
    offset_ms: int = 0
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
        """(time ms, key, event) of each good line, shifted by the offset."""
        for time_ms, event in self.reader:
            self.report_bad()
            out = retime(event, time_ms, self.offset_ms, self.suffix)
            self.yielded += 1
            yield time_ms + self.offset_ms, event_key(out), out
        self.report_bad()

    async def save(self, sent: int) -> None:
        """Record the last line whose event the broker acknowledged."""
        if self.checkpoint is not None:
            # The reader stops on the line of the last event taken; it may not be sent yet.
            line = self.reader.line if sent == self.yielded else self.reader.line - 1
            self.checkpoint.line = max(line, self.start_line)
            self.checkpoint.offset_ms = self.offset_ms
            await asyncio.to_thread(self.checkpoint.save)

    async def finish(self, progress: Progress) -> None:
        """Mark a completed replay's checkpoint done, and print the summary (by type)."""
        progress.stop()
        if self.checkpoint is not None and self.completed:
            self.checkpoint.done = True
            await asyncio.to_thread(self.checkpoint.save)
        elif self.checkpoint is not None:
            # Interrupted: the sink has closed, so every event counted is stored.
            await self.save(progress.sent)
        bad = len(self.reader.bad)
        more = f" ({bad - MAX_REPORTED} not listed above)" if bad > MAX_REPORTED else ""
        how = "" if self.completed else "interrupted: "
        print(
            f"ccmon replay: {how}{progress.summary()} to {self.settings.events_topic}, "
            f"{bad:,} bad lines{more}, {self.reader.line:,} lines read",
            file=sys.stderr,
        )


async def _run(run: _Replay, speed: float | None) -> int:
    from streams.producers.pacing import send_paced
    from streams.producers.runner import started
    from streams.producers.sinks import KafkaSink

    if run.start_line:
        print(f"ccmon replay: resuming {run.file} after line {run.start_line}", file=sys.stderr)
    sink = KafkaSink(run.settings)
    progress = Progress("replay", total=run.total)

    async def summary() -> None:
        await run.finish(progress)

    async with started(sink, after=summary):
        progress.start()
        await send_paced(run.events(), sink, speed, progress, on_sent=run.save)
        run.completed = True
    return 1 if run.reader.bad else 0
