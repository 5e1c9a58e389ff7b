"""The `ccmon` command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from metrics.config.queues import QueueConfigError, QueuesConfig
from streams.demo import add_demo
from streams.producers.importers.command import add_import
from streams.producers.replay import add_replay
from streams.producers.sim.command import add_simulate
from streams.settings import Settings

__all__ = ["main"]


def _load() -> tuple[Settings, QueuesConfig] | None:
    """Settings and queues, or None after printing what is wrong (exit status 2)."""
    try:
        settings = Settings()
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"])
            print(f"environment: CCMON_{field.upper()}: {error['msg']}", file=sys.stderr)
        return None
    try:
        queues = settings.queues()
    except QueueConfigError as exc:
        print(exc, file=sys.stderr)
        return None
    except OSError as exc:
        print(f"CCMON_QUEUES_FILE: cannot read {settings.queues_file}: {exc}", file=sys.stderr)
        return None
    conflicts = settings.conflicts(queues)
    for message in conflicts:
        print(f"environment: {message}", file=sys.stderr)
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
    print("configuration OK")
    return 0


def _worker(args: argparse.Namespace) -> int:
    import faust

    from streams.app import create_app

    loaded = _load()
    if loaded is None:
        return 2
    worker = faust.Worker(create_app(*loaded), loglevel=args.loglevel)
    worker.execute_from_commandline()
    return 0


def _exporter(args: argparse.Namespace) -> int:
    from streams.exporter import run_exporter

    loaded = _load()
    if loaded is None:
        return 2
    run_exporter(*loaded, port=args.port)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `ccmon` console script."""
    parser = argparse.ArgumentParser(
        prog="ccmon",
        description="Streaming, real-time contact-centre monitor. "
        "Settings come from CCMON_* environment variables (see `ccmon check-config`).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    worker = sub.add_parser("worker", help="run the Faust worker: Kafka events -> Redis")
    worker.add_argument("--loglevel", default="info", help="log level (default: info)")
    worker.set_defaults(func=_worker)
    exporter = sub.add_parser("exporter", help="serve /metrics and the JSON read API")
    exporter.add_argument("--port", type=int, default=None, help="override CCMON_EXPORTER_PORT")
    exporter.set_defaults(func=_exporter)
    check = sub.add_parser("check-config", help="validate settings and the queues file")
    check.set_defaults(func=_check_config)
    add_simulate(sub)
    add_replay(sub)
    add_import(sub)
    add_demo(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
