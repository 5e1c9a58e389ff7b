"""`ccmon connect asterisk|kafka`: a live AMI session, or a topic of vendor records, into
ccmon events in Kafka (or JSON lines)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from streams.producers.importers.command import add_transfer_queue_option, transfer_queues_of

__all__ = ["add_connect"]


def add_connect(sub: Any) -> None:
    """Register the `connect` subcommand on the `ccmon` parser."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "connect",
        help="connect to a PBX live (Asterisk Manager Interface) or a topic of vendor records",
        description="asterisk: logs in to the Asterisk Manager Interface, maps the queue events "
        "to ccmon events and sends them to CCMON_EVENTS_TOPIC (or --out); reconnects with "
        "backoff; the secret comes from CCMON_AMI_SECRET, CCMON_AMI_SECRET_FILE or "
        "--secret-file (never the command line, which other users can read). kafka: reads "
        "--topic, one vendor record per value (--source amazon-connect), in its own group, "
        "and sends the mapped events on. What cannot be mapped goes to CCMON_DEADLETTER_TOPIC. "
        "Runs until SIGINT or SIGTERM.",
    )
    parser.add_argument("system", choices=["asterisk", "kafka"], help="what to connect to")
    parser.add_argument("--topic", help="kafka: the topic of vendor records to read")
    parser.add_argument("--host", help="AMI host (default CCMON_AMI_HOST, localhost)")
    parser.add_argument("--port", type=int, help="AMI port (default CCMON_AMI_PORT, 5038)")
    parser.add_argument("--username", help="AMI user (default CCMON_AMI_USERNAME, ccmon)")
    parser.add_argument("--secret-file", help="file holding the AMI secret")
    parser.add_argument(
        "--events",
        default="agent",
        help="the Login's Events classes (default: agent; agent,call adds the transfers and holds)",
    )
    add_transfer_queue_option(parser, "asterisk: ")
    parser.add_argument(
        "--no-queue-status",
        action="store_true",
        help="do not ask for QueueStatus after login (agents appear at their next change)",
    )
    parser.add_argument(
        "--source",
        help="asterisk: the events' source field (default asterisk); kafka: the records' "
        "vendor (amazon-connect)",
    )
    parser.add_argument(
        "--out",
        help="write JSON lines here ('-': stdout) instead of Kafka; dead letters "
        "are then only counted and logged",
    )
    parser.set_defaults(func=_connect)


def _connect(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from streams.producers.runner import fail, run_command
    from streams.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        return fail("connect", f"settings: {exc}")
    if args.system == "kafka":
        return _connect_topic(args, settings)
    try:
        args.transfer_queues = transfer_queues_of(args)
    except ValueError as exc:
        return fail("connect", str(exc))
    if args.secret_file:
        try:
            with open(args.secret_file, encoding="utf-8") as handle:
                secret = handle.read().strip()
        except OSError as exc:
            return fail("connect", f"--secret-file: {exc}")
    elif settings.ami_secret is not None:
        secret = settings.ami_secret.get_secret_value()
    else:
        return fail("connect", "no AMI secret: set CCMON_AMI_SECRET(_FILE) or --secret-file")
    from streams.producers.connect.asterisk import AmiOptions

    options = AmiOptions(
        host=args.host or settings.ami_host,
        port=args.port or settings.ami_port,
        username=args.username or settings.ami_username,
        secret=secret,
        events=args.events,
        queue_status=not args.no_queue_status,
    )
    return run_command("connect", _run(args, settings, options))


def _outputs(args: argparse.Namespace, settings: Any) -> tuple[Any, str, Any, asyncio.Event]:
    """Where a connector writes (--out or Kafka), its dead letters (counted with --out,
    else the dead-letter topic), and a stop event set by SIGINT or SIGTERM."""
    from streams.producers.connect.deadletters import CountedDeadLetters, KafkaDeadLetters
    from streams.producers.runner import open_sink

    sink, where = open_sink(args.out)
    dead = CountedDeadLetters() if args.out else KafkaDeadLetters(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    return sink, where, dead, stop


async def _run(args: argparse.Namespace, settings: Any, options: Any) -> int:
    from aiokafka.errors import KafkaError

    from streams.producers.connect.asterisk import AmiConnector, AmiLoginError
    from streams.producers.runner import fail, started
    from streams.sources.asterisk_ami import AmiMapper

    sink, where, dead, stop = _outputs(args, settings)
    mapper = AmiMapper(source=args.source or "asterisk", transfer_queues=args.transfer_queues)
    connector = AmiConnector(options, sink, dead, mapper)
    print(f"ccmon connect: {options.origin} -> {where}", file=sys.stderr)
    await dead.start()
    try:
        async with started(sink):
            await connector.run(stop)
    except AmiLoginError as exc:
        return fail("connect", str(exc), 1)
    except KafkaError as exc:
        # AMI keeps no backlog: what Asterisk sends while nothing can take it is lost, so
        # exit (status 1) for the supervisor to restart rather than read on.
        return fail("connect", f"Kafka at {settings.brokers} failed: {exc!r}", 1)
    finally:
        await dead.close()
    unmapped = ", ".join(f"{k} {n}" for k, n in sorted(dead.counts.items())) or "none"
    ignored = sum(mapper.ignored.values())
    print(
        f"ccmon connect: {connector.sessions} sessions, {connector.sent:,} events sent, "
        f"{connector.repeats:,} repeats skipped, unmapped: {unmapped}, "
        f"other-class events ignored: {ignored:,}",
        file=sys.stderr,
    )
    return 0


def _connect_topic(args: argparse.Namespace, settings: Any) -> int:
    from streams.producers.connect.kafka_topic import RECORD_SOURCES
    from streams.producers.runner import fail, run_command

    if not args.topic:
        return fail("connect", "kafka needs --topic: the topic the vendor records are in")
    source = args.source or "amazon-connect"
    if source not in RECORD_SOURCES:
        return fail("connect", f"--source {source!r}: known: {', '.join(sorted(RECORD_SOURCES))}")
    return run_command("connect", _run_topic(args, settings, source))


async def _run_topic(args: argparse.Namespace, settings: Any, source: str) -> int:
    from aiokafka.errors import KafkaError

    from streams.producers.connect.kafka_topic import TopicBridge
    from streams.producers.runner import fail, started

    sink, where, dead, stop = _outputs(args, settings)
    bridge = TopicBridge(settings, args.topic, source, sink, dead)
    print(f"ccmon connect: {source} records in {args.topic} -> {where}", file=sys.stderr)
    await dead.start()
    try:
        async with started(sink):
            await bridge.run(stop)
    except KafkaError as exc:
        return fail("connect", f"Kafka at {settings.brokers} failed: {exc!r}", 1)
    finally:
        await dead.close()
    print(
        f"ccmon connect: {bridge.consumed:,} records read, {bridge.sent:,} events sent",
        file=sys.stderr,
    )
    return 0
