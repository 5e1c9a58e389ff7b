"""What the producer commands (simulate, replay, import) share: the sink, the run, the exits.

Exit statuses, the same for every producer command: 0 done, 1 a sink failed (the message
names the setting), 2 bad arguments or input, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from streams.producers.sinks import EventSink, JsonlSink, KafkaSink, SinkError

__all__ = ["EXIT_INTERRUPTED", "EXIT_USAGE", "fail", "open_sink", "run_command", "started"]

#: Bad arguments, an unreadable or invalid input file.
EXIT_USAGE = 2
#: Stopped by Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130


def fail(command: str, message: str, code: int = EXIT_USAGE) -> int:
    """Print `ccmon COMMAND: message` on stderr and return the exit status."""
    print(f"ccmon {command}: {message}", file=sys.stderr)
    return code


def run_command(command: str, main: Coroutine[Any, Any, int]) -> int:
    """Run a producer's coroutine; Ctrl-C exits 130, a sink failure 1 with its message."""
    try:
        return asyncio.run(main)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except SinkError as exc:
        return fail(command, str(exc), 1)


def open_sink(out: str | None) -> tuple[EventSink, str]:
    """A JSONL sink for `out` ('-': stdout), else the events topic; and where it writes."""
    if out:
        return JsonlSink(out), out
    from streams.settings import Settings

    settings = Settings()
    return KafkaSink(settings), f"{settings.events_topic} on {settings.brokers}"


@asynccontextmanager
async def started(
    sink: EventSink, after: Callable[[], Awaitable[None]] | None = None
) -> AsyncIterator[EventSink]:
    """The sink, started; closed however the block ends, then `after` (the summary) runs.

    `after` runs once the sink has closed cleanly: a sink that fails to start or to flush
    raises SinkError instead, and its message is what the user sees.
    """
    await sink.start()
    try:
        yield sink
    finally:
        await sink.close()
        if after is not None:
            await after()
