"""Progress of a producer command on stderr, and its totals by event type.

On a terminal, a rich progress bar with the percentage, the rate and the time left; when
stderr is not a terminal (a log, CI), one plain line every few seconds. The per-type
counts are what the command's summary prints, also after Ctrl-C, so its total is always
their sum. The clock is passed in, so the plain lines are tested without waiting.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

__all__ = ["Progress", "eta_text", "plain_line"]

#: Seconds between redraws of the terminal bar (rich redraws it itself in between).
_BAR_EVERY_S = 0.1


def eta_text(done: float, total: float, elapsed_s: float) -> str:
    """The time left at the rate so far, as H:MM:SS; '?' before any progress."""
    if done <= 0 or elapsed_s <= 0:
        return "?"
    left = max(0.0, (total - done) * elapsed_s / done)
    minutes, seconds = divmod(round(left), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


def plain_line(
    label: str, sent: int, done: float, total: float | None, elapsed_s: float, event_ms: int
) -> str:
    """One progress line: events sent, percentage and time left (with a total), the rate
    and the event time reached."""
    rate = sent / elapsed_s if elapsed_s > 0 else 0.0
    moment = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(event_ms / 1000))
    share = ""
    if total:
        pct = min(100.0, 100 * done / total)
        share = f" ({pct:.1f}%, ETA {eta_text(done, total, elapsed_s)})"
    return f"{label}: {sent:,} events{share}, {rate:,.0f}/s, at {moment} UTC"


@dataclass
class Progress:
    """Counts what a command sent, by type, and shows how far it is.

    The position is the number of events sent, out of `total` events; or, with
    `origin_ms`, the event time reached since `origin_ms`, out of `total` milliseconds
    (the simulator, whose event count is not known ahead).
    """

    label: str
    total: float | None = None
    origin_ms: int | None = None
    out: IO[str] = field(default_factory=lambda: sys.stderr)
    clock: Callable[[], float] = time.monotonic
    every_s: float = 5.0
    #: draw a bar (None: when `out` is a terminal)
    tty: bool | None = None
    sent: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    _started: float | None = None
    _last: float = 0.0
    _bar: Any = None
    _task: Any = None

    def start(self) -> None:
        """Start the clock (and the bar on a terminal)."""
        self._started = self._last = self.clock()
        tty = self.tty if self.tty is not None else self.out.isatty()
        if tty:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as Bar

            self._bar = Bar(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[sent]:,} events, {task.fields[rate]:,.0f}/s"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(file=self.out),
            )
            self._task = self._bar.add_task(self.label, total=self.total, sent=0, rate=0.0)
            self._bar.start()

    def tick(self, event_ms: int, kind: str) -> None:
        """One event of type `kind` and time `event_ms` was sent."""
        self.sent += 1
        self.counts[kind] += 1
        now = self.clock()
        if self._started is None:
            self._started = self._last = now
        every = _BAR_EVERY_S if self._bar is not None else self.every_s
        if now - self._last < every:
            return
        self._last = now
        elapsed = now - self._started
        done = self._done(event_ms)
        if self._bar is not None:
            rate = self.sent / elapsed if elapsed > 0 else 0.0
            self._bar.update(self._task, completed=done, sent=self.sent, rate=rate)
        else:
            line = plain_line(self.label, self.sent, done, self.total, elapsed, event_ms)
            print(line, file=self.out, flush=True)

    def _done(self, event_ms: int) -> float:
        return self.sent if self.origin_ms is None else max(0, event_ms - self.origin_ms)

    def stop(self) -> None:
        """Remove nothing, stop redrawing: the summary line comes next."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def summary(self) -> str:
        """'N events sent (type n, ...)': the total and its parts by type."""
        parts = ", ".join(f"{kind} {n:,}" for kind, n in sorted(self.counts.items()))
        return f"{self.sent:,} events sent ({parts or 'none'})"
