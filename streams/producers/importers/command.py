"""`ccmon import <format> FILE`: convert records to ccmon events, to JSONL or Kafka."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streams.producers.importers.common import TimedEvent

__all__ = ["add_import", "add_transfer_queue_option", "transfer_queues_of"]

#: Problems printed one by one; the total is always printed.
MAX_REPORTED = 100


def add_import(sub: Any) -> None:
    """Register the `import` subcommand on the `ccmon` parser."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "import",
        help="convert Asterisk queue_log or call-detail CSV records into ccmon events",
        description="Writes JSON lines (--out, default stdout) or sends to Kafka (--kafka). "
        "Lines that cannot be converted are listed on stderr with their numbers.",
    )
    parser.add_argument("format", choices=["asterisk", "csv"], help="input format")
    parser.add_argument("file", help="the queue_log or CSV file")
    parser.add_argument("--mapping", help="column-mapping YAML (csv)")
    parser.add_argument("--out", default="-", help="JSON lines file (default: stdout)")
    parser.add_argument(
        "--kafka",
        action="store_true",
        help="send to CCMON_EVENTS_TOPIC instead of --out (refused when older than the "
        "worker's retention: the message says how to load it)",
    )
    parser.add_argument(
        "--retime",
        choices=["first", "days", "weeks"],
        help="shift all times: so that the first event is now, or by the most whole days "
        "or weeks that keep the last event in the past",
    )
    parser.add_argument("--time-zone", default="UTC", help="zone of times without an offset")
    parser.add_argument("--source", help="the events' source field")
    parser.add_argument(
        "--timeout-reason",
        default="ivr_exit",
        choices=["ivr_exit", "voicemail", "transfer"],
        help="flow-out reason of EXITWITHTIMEOUT (asterisk; default ivr_exit)",
    )
    add_transfer_queue_option(parser, "asterisk: ")
    parser.add_argument(
        "--follow",
        action="store_true",
        help="asterisk: keep reading the queue_log as it grows, across log rotation "
        "(rename or copytruncate), until SIGINT or SIGTERM; resumes from --checkpoint",
    )
    parser.add_argument(
        "--checkpoint",
        help="--follow's checkpoint file (default: FILE.ccmon-checkpoint next to the log)",
    )
    parser.add_argument(
        "--poll-s", type=float, default=1.0, help="--follow: seconds between reads (default 1)"
    )
    parser.set_defaults(func=_import)


def add_transfer_queue_option(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    """`--transfer-queue EXTENSION[@CONTEXT]=QUEUE`, repeatable: where a transfer to that
    dialplan extension lands (the importer's and the AMI mapper's `transfer_queues`)."""
    parser.add_argument(
        "--transfer-queue",
        action="append",
        default=[],
        type=_transfer_queue,
        metavar="EXTENSION[@CONTEXT]=QUEUE",
        help=f"{prefix}a transfer to this extension reaches this ccmon queue (target queue, "
        "not external); repeatable, e.g. --transfer-queue 700@queues=sales",
    )


def _transfer_queue(text: str) -> tuple[str, str]:
    """One `--transfer-queue` value, or argparse's error naming what is wrong."""
    from metrics.config.queues import QUEUE_NAME_PATTERN

    place, equals, queue = text.partition("=")
    place, queue = place.strip(), queue.strip()
    extension, _, context = place.partition("@")
    if not equals or not extension or ("@" in place and not context):
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected EXTENSION[@CONTEXT]=QUEUE, e.g. 700@queues=sales"
        )
    if any(c.isspace() for c in place) or len(place) > 128:
        raise argparse.ArgumentTypeError(
            f"{text!r}: the extension has spaces or is over 128 characters"
        )
    if not QUEUE_NAME_PATTERN.match(queue):
        raise argparse.ArgumentTypeError(
            f"{text!r}: {queue!r} is not a ccmon queue name (letters, digits, _ . -; at most 64)"
        )
    return place, queue


def transfer_queues_of(args: argparse.Namespace) -> dict[str, str]:
    """The `--transfer-queue` values as a map; ValueError when one extension is given two
    different queues."""
    found: dict[str, str] = {}
    for place, queue in args.transfer_queue:
        if found.get(place, queue) != queue:
            raise ValueError(f"--transfer-queue {place}: given both {found[place]!r} and {queue!r}")
        found[place] = queue
    return found


def _import(args: argparse.Namespace) -> int:
    if args.follow:
        return _follow(args)
    from pydantic import ValidationError

    from metrics.config.yaml_model import YamlModelError
    from streams.producers.importers.common import ImportResult
    from streams.producers.importers.csv_calls import import_csv, load_mapping
    from streams.producers.importers.queue_log import DEFAULT_EXIT_REASONS, import_queue_log
    from streams.producers.runner import fail, run_command

    tag = Path(args.file).name
    try:
        transfers = transfer_queues_of(args)
    except ValueError as exc:
        return fail("import", str(exc))
    if transfers and args.format != "asterisk":
        return fail("import", "--transfer-queue applies to an Asterisk queue_log (asterisk)")
    try:
        with open(args.file, encoding="utf-8", errors="replace", newline="") as handle:
            if args.format == "asterisk":
                reasons = {**DEFAULT_EXIT_REASONS, "EXITWITHTIMEOUT": args.timeout_reason}
                result: ImportResult = import_queue_log(
                    handle,
                    source=args.source or "asterisk",
                    id_prefix=tag,
                    zone=args.time_zone,
                    exit_reasons=reasons,
                    transfer_queues=transfers,
                )
            else:
                if not args.mapping:
                    return fail("import csv", "--mapping MAPPING.yaml is required")
                mapping = load_mapping(args.mapping)
                if args.source:
                    mapping = mapping.model_copy(update={"source": args.source})
                result = import_csv(handle, mapping, id_prefix=tag)
    except YamlModelError as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:
        return fail("import", str(exc))
    for problem in result.problems[:MAX_REPORTED]:
        print(f"{args.file}:{problem.line}: {problem.message}", file=sys.stderr)
    try:
        events, why = _timed(args, result.events)
    except ValidationError as exc:
        return fail("import", f"settings: {exc}")
    if why:
        return fail("import", why)
    code = run_command("import", _send(args, events))
    if code:
        return code
    ignored = ", ".join(f"{k} {n}" for k, n in sorted(result.ignored.items())) or "none"
    print(
        f"ccmon import: {result.lines:,} lines, {len(result.events):,} events, "
        f"{len(result.problems):,} lines with problems, ignored kinds: {ignored}",
        file=sys.stderr,
    )
    return 1 if result.problems else 0


def _timed(args: argparse.Namespace, events: list[TimedEvent]) -> tuple[list[TimedEvent], str]:
    """The events shifted as --retime says; and, when they go to Kafka but reach further
    back than the worker's retention, why they are refused (else '')."""
    from metrics.clock import wall_ms
    from streams.producers.history import Span, early_refusal, refusal, retime_offset
    from streams.producers.replay import retime
    from streams.settings import Settings

    span = Span.of([t for t, _, _ in events])
    if span is None:
        return events, ""
    now = wall_ms()
    offset = retime_offset(args.retime or "none", span, now)
    if offset:
        events = [(t + offset, key, retime(e, t, offset)) for t, key, e in events]
        span = Span.of([t for t, _, _ in events])
    if not args.kafka or span is None:
        return events, ""
    settings = Settings()
    words = ["import", args.format, args.file, "--kafka"]
    words += ["--mapping", args.mapping] if args.mapping else []
    words += ["--retime", args.retime] if args.retime else []
    command = shlex.join(words)
    why = refusal(command, span, now, settings.retention_s, settings.lateness_s)
    why = why or early_refusal(command, span, 0, now, None, settings.max_future_s)
    return events, why or ""


async def _send(args: argparse.Namespace, events: list[TimedEvent]) -> int:
    from streams.producers.pacing import send_paced
    from streams.producers.progress import Progress
    from streams.producers.runner import open_sink, started

    sink, where = open_sink(None if args.kafka else args.out)
    progress = Progress("import", total=len(events))
    done = False

    async def summary() -> None:
        progress.stop()
        how = "" if done else "interrupted: "
        print(f"ccmon import: {how}{progress.summary()} to {where}", file=sys.stderr)

    async with started(sink, after=summary):
        progress.start()
        await send_paced(events, sink, None, progress)
        done = True
    return 0


def _follow(args: argparse.Namespace) -> int:
    """`--follow`: tail the queue_log into the sink, checkpointing after each flush."""
    from streams.producers.importers.follow import Checkpoint, QueueLogFollower
    from streams.producers.importers.queue_log import DEFAULT_EXIT_REASONS, QueueLogImporter
    from streams.producers.runner import fail, run_command

    if args.format != "asterisk":
        return fail("import", "--follow reads an Asterisk queue_log (format asterisk)")
    if args.retime:
        return fail("import", "--follow sends events as they come: --retime does not apply")
    if args.poll_s <= 0:
        return fail("import", "--poll-s must be positive")
    try:
        transfers = transfer_queues_of(args)
    except ValueError as exc:
        return fail("import", str(exc))
    path = Path(args.file)
    saved_at = (
        Path(args.checkpoint)
        if args.checkpoint
        else path.with_name(path.name + ".ccmon-checkpoint")
    )
    try:
        saved = Checkpoint.load(saved_at)
    except ValueError as exc:
        return fail("import", f"{exc} (remove it to start from the beginning of the log)")
    importer = QueueLogImporter(
        source=args.source or "asterisk",
        id_prefix=path.name,
        zone=args.time_zone,
        exit_reasons={**DEFAULT_EXIT_REASONS, "EXITWITHTIMEOUT": args.timeout_reason},
        keep_events=False,
        content_ids=True,
        transfer_queues=transfers,
    )
    follower = QueueLogFollower(path, importer, saved)
    where = "from its checkpoint" if saved else "from its start"
    print(f"ccmon import: following {path} {where} ({saved_at})", file=sys.stderr)
    return run_command("import", _send_followed(args, follower, saved_at))


async def _send_followed(args: argparse.Namespace, follower: Any, saved_at: Path) -> int:
    import asyncio
    import signal

    from streams.producers.importers.follow import follow
    from streams.producers.runner import open_sink, started

    sink, where = open_sink(None if args.kafka else args.out)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    problems = 0

    def save(checkpoint: Any) -> None:
        nonlocal problems
        checkpoint.save(saved_at)
        # Reported as they come, then forgotten (a follower runs for months).
        found = follower.importer.result.problems
        for problem in found:
            print(f"{args.file}:{problem.line}: {problem.message}", file=sys.stderr)
        problems += len(found)
        found.clear()

    async with started(sink):
        sent = await follow(follower, sink, stop, save, poll_s=args.poll_s)
    follower.close()
    result = follower.importer.result
    print(
        f"ccmon import: followed {args.file}: {result.lines:,} lines, {sent:,} events to "
        f"{where}, {problems:,} lines with problems, {follower.rotations} "
        f"rotations, {follower.truncations} truncations",
        file=sys.stderr,
    )
    return 0
