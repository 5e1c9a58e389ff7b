"""Logging for every `ccmon` process: one level, one format (text or JSON), on stderr.

The same `logging.config.dictConfig` dict configures the plain commands and the Faust
worker (which replaces the root logger's handlers with its own unless handed a config),
so both formats look the same everywhere. No colours, spinners or other terminal escapes:
log lines go to files and collectors, and escape sequences inside messages are removed.
"""

from __future__ import annotations

import logging
import logging.config
import re
import time
from typing import Any

__all__ = [
    "LOG_FORMATS",
    "LOG_LEVELS",
    "PlainFilter",
    "UtcTextFormatter",
    "logging_config",
    "setup_logging",
    "strip_escapes",
]

LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")

#: CSI sequences (colours, cursor moves) and other two-byte ESC sequences.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")

_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def strip_escapes(text: str) -> str:
    """`text` without terminal escape sequences."""
    return _ESCAPES.sub("", text)


class PlainFilter(logging.Filter):
    """Removes terminal escapes from each record's message (Faust and mode colour some)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        plain = strip_escapes(message)
        if plain != message:
            record.msg, record.args = plain, None
        return True


class UtcTextFormatter(logging.Formatter):
    """`2026-01-01T12:00:00.123Z INFO logger message`: UTC, sortable, one line a record."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"


def logging_config(level: str = "info", fmt: str = "text") -> dict[str, Any]:
    """The dictConfig for `level` (one of LOG_LEVELS) and `fmt` (one of LOG_FORMATS)."""
    if level not in LOG_LEVELS:
        raise ValueError(f"log level {level!r}: expected one of {', '.join(LOG_LEVELS)}")
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format {fmt!r}: expected one of {', '.join(LOG_FORMATS)}")
    formatter: dict[str, Any]
    if fmt == "json":
        formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
        }
    else:
        formatter = {"()": UtcTextFormatter, "fmt": _TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"plain": {"()": PlainFilter}},
        "formatters": {"ccmon": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "ccmon",
                "filters": ["plain"],
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
    }


def setup_logging(level: str = "info", fmt: str = "text") -> None:
    """Configure the root logger of this process (replacing any handlers it had)."""
    logging.config.dictConfig(logging_config(level, fmt))
