"""Shared result shape and command-line entry point for benchmark runners.

Every runner module exposes ``run(bootstrap, topic, n) -> dict`` returning ``result(...)``
and ends with ``if __name__ == "__main__": cli(run)`` so ``benchmarks.run`` can start it as
``python -m benchmarks.runners.<name> --bootstrap B --topic T --n N`` and read the JSON
object it prints as the last line on stdout (logs go to stderr). One process per runner
keeps imports, event-loop state and garbage of one framework out of the next one's figures.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson

RunFn = Callable[[str, str, int], dict[str, Any]]

#: Consumer-group session timeout for every runner. Tansu holds the first JoinGroup of a new
#: group for about half the member's session timeout before answering (measured: 10 s -> 5 s,
#: 60 s -> 30 s, 6 s -> 3 s), so Faust's default 60 s cost 30 s of start-up and librdkafka's
#: 45 s cost 22 s. 6 s (Kafka's usual minimum) keeps start-up short and still leaves room
#: for heartbeats on a busy 2-core machine.
SESSION_TIMEOUT_MS = 6000
HEARTBEAT_INTERVAL_MS = 1000


def fresh_group(name: str) -> str:
    """A consumer-group id never used before, so every run reads the topic from offset 0."""
    return f"bench-{name}-{uuid.uuid4().hex[:12]}"


class Clock:
    """Records wall start, first-record and last-record instants (``time.perf_counter``),
    and the runner process's CPU time (all its threads) at the first and last record."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.first: float | None = None
        self.last: float | None = None
        self.first_cpu: float | None = None
        self.last_cpu: float | None = None

    def seen_first(self) -> None:
        """Call when the first record arrives; later calls are ignored."""
        if self.first is None:
            self.first = time.perf_counter()
            self.first_cpu = time.process_time()

    def seen_last(self) -> None:
        """Call right after the N-th record was processed."""
        self.last = time.perf_counter()
        self.last_cpu = time.process_time()


def result(n: int, processed: int, clock: Clock, **extra: Any) -> dict[str, Any]:
    """Build a runner's result: events/s over first->last record, plus wall time from start.

    ``seconds`` excludes client start-up and group join; ``wall_seconds`` includes them
    (measured from ``Clock()`` creation inside ``run()`` until now, i.e. including shutdown
    only if the caller builds the result after stopping its clients). ``cpu_seconds`` is
    the runner process's own CPU time over the same span (not the broker's, nor the Redis
    server's): on a shared machine events per CPU second vary less than events/s.
    """
    now = time.perf_counter()
    first = clock.first if clock.first is not None else now
    last = clock.last if clock.last is not None else now
    seconds = last - first
    cpu = None
    if clock.first_cpu is not None and clock.last_cpu is not None:
        cpu = clock.last_cpu - clock.first_cpu
    return {
        "n": n,
        "processed": processed,
        "events_per_s": round(processed / seconds, 1) if seconds > 0 else None,
        "seconds": round(seconds, 4),
        "cpu_seconds": round(cpu, 4) if cpu is not None else None,
        "events_per_cpu_s": round(processed / cpu, 1) if cpu else None,
        "startup_seconds": round(first - clock.start, 4),
        "wall_seconds": round(now - clock.start, 4),
        "extra": extra,
    }


def cli(run: RunFn) -> None:
    """Parse ``--bootstrap/--topic/--n``, call ``run`` and print its result as one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--n", type=int, required=True)
    args = parser.parse_args()
    out = run(args.bootstrap, args.topic, args.n)
    sys.stdout.flush()
    print(orjson.dumps(out).decode(), flush=True)
