"""The `ccmon` command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from metrics.config.agents import AgentsConfigError
from metrics.config.queues import QueueConfigError, QueuesConfig
from metrics.exposition.runtime import ccmon_version
from streams.demo import add_demo
from streams.export import add_export
from streams.logs import LOG_FORMATS, LOG_LEVELS, logging_config, setup_logging
from streams.producers.connect.command import add_connect
from streams.producers.importers.command import add_import
from streams.producers.replay import add_replay
from streams.producers.sim.command import add_simulate
from streams.settings import Settings, unknown_variables

__all__ = ["main"]

log = logging.getLogger("ccmon")


def _load() -> tuple[Settings, QueuesConfig] | None:
    """Settings and queues, or None after logging what is wrong (exit status 2); logged,
    so that with --log-format json a collector gets these as JSON too."""
    try:
        settings = Settings()
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"])
            log.error("environment: CCMON_%s: %s", field.upper(), error["msg"])
        return None
    try:
        queues = settings.queues()
    except QueueConfigError as exc:
        log.error("%s", exc)
        return None
    except OSError as exc:
        log.error("CCMON_QUEUES_FILE: cannot read %s: %s", settings.queues_file, exc)
        return None
    conflicts = settings.conflicts(queues)
    for message in conflicts:
        log.error("environment: %s", message)
    return None if conflicts else (settings, queues)


def _check_config(args: argparse.Namespace) -> int:
    loaded = _load()
    if loaded is None:
        return 2
    settings, queues = loaded
    for key, value in settings.as_dict().items():
        print(f"{key} = {value}")
    names = [q.name for q in queues.queues] or ["(none: every queue uses the defaults)"]
    print(f"queues = {', '.join(names)}")
    if settings.agents_file is not None:  # checked against the queues file's teams
        try:
            directory = settings.agents(queues)
        except AgentsConfigError as exc:
            log.error("%s", exc)
            return 2
        except OSError as exc:
            log.error("CCMON_AGENTS_FILE: cannot read %s: %s", settings.agents_file, exc)
            return 2
        print(f"agents = {len(directory.agents)} in {settings.agents_file}")
    print("configuration OK")
    return 0


def _worker(args: argparse.Namespace) -> int:
    import faust

    from streams.app import create_app

    loaded = _load()
    if loaded is None:
        return 2
    # Faust installs its own (coloured) root handlers unless handed a config; quiet drops
    # its banner table and the spinner writes escapes between log lines.
    worker = faust.Worker(
        create_app(*loaded),
        loglevel=args.log_level,
        logging_config=logging_config(args.log_level, args.log_format),
        quiet=True,
    )
    worker.spinner = None
    worker.execute_from_commandline()
    return 0


def _exporter(args: argparse.Namespace) -> int:
    from streams.exporter import run_exporter

    loaded = _load()
    if loaded is None:
        return 2
    run_exporter(*loaded, port=args.port, role=args.role)
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from streams.ingest.run import load_tokens, run_ingest
    from streams.ingest.tokens import TokenError

    loaded = _load()
    if loaded is None:
        return 2
    settings = loaded[0]
    try:
        tokens = load_tokens(settings)
    except TokenError as exc:
        log.error("CCMON_INGEST_TOKENS: %s", exc)
        return 2
    run_ingest(settings, tokens, port=args.port)
    return 0


def _add_log_options(parser: argparse.ArgumentParser, default: Any) -> None:
    """--log-level and --log-format; on the subcommands too (`default` SUPPRESS there, so
    `ccmon worker --log-format json` and `ccmon --log-format json worker` mean the same)."""
    parser.add_argument(
        "--log-level",
        type=str.lower,
        choices=LOG_LEVELS,
        default="info" if default is None else default,
        help="log level (default: info)",
    )
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="text" if default is None else default,
        help="text (one plain line a record) or json (one object a line); default: text",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `ccmon` console script."""
    parser = argparse.ArgumentParser(
        prog="ccmon",
        description="Streaming, real-time contact-centre monitor. "
        "Settings come from CCMON_* environment variables (see `ccmon check-config`).",
    )
    parser.add_argument("--version", action="version", version=f"ccmon {ccmon_version()}")
    _add_log_options(parser, None)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    worker = sub.add_parser("worker", help="run the Faust worker: Kafka events -> Redis")
    # The spelling before --log-level (a global option now); kept for old scripts.
    worker.add_argument(
        "--loglevel",
        dest="log_level",
        type=str.lower,
        choices=LOG_LEVELS,
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
    )
    worker.set_defaults(func=_worker)
    exporter = sub.add_parser("exporter", help="serve /metrics and the JSON read API")
    exporter.add_argument("--port", type=int, default=None, help="override CCMON_EXPORTER_PORT")
    exporter.add_argument(
        "--role",
        choices=("all", "api", "metrics"),
        default=None,
        help="override CCMON_EXPORTER_ROLE: api and metrics split one exporter in two processes",
    )
    exporter.set_defaults(func=_exporter)
    ingest = sub.add_parser("ingest", help="serve the HTTP ingest: POSTed events -> Kafka")
    ingest.add_argument("--port", type=int, default=None, help="override CCMON_INGEST_PORT")
    ingest.set_defaults(func=_ingest)
    check = sub.add_parser("check-config", help="validate settings and the queues file")
    check.set_defaults(func=_check_config)
    add_simulate(sub)
    add_replay(sub)
    add_import(sub)
    add_connect(sub)
    add_export(sub)
    add_demo(sub)
    for command in sub.choices.values():
        _add_log_options(command, argparse.SUPPRESS)
    args = parser.parse_args(argv)
    setup_logging(args.log_level, args.log_format)
    for warning in unknown_variables():
        log.warning("environment: %s", warning)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
