"""The ccmon runner with this issue's hot-path changes undone, for before/after in one run.

Undone: the per-batch merge of a contact's events (``Aggregator.apply_all`` applies one
event at a time again) and the garbage collector held over a batch's synchronous steps.
``python -m benchmarks.run --runners raw,ccmon_before,ccmon_merged,ccmon,quix`` runs it
next to the real runner on the same topic.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import streams.consume
from benchmarks.runners import ccmon
from benchmarks.runners._common import cli
from metrics.core.aggregator import Aggregator
from metrics.events import Event


def _one_by_one(self: Aggregator, events: Iterable[Event]) -> None:
    for event in events:
        self.apply(event)


def undo_merge() -> None:
    """Apply a batch event by event, as before the per-batch merge."""
    Aggregator.apply_all = _one_by_one  # type: ignore[method-assign]  # this process only


def undo_collector_hold() -> None:
    """Leave the garbage collector running through every batch, as before."""
    streams.consume._collector_held = contextlib.nullcontext  # type: ignore[assignment]


if __name__ == "__main__":
    undo_merge()
    undo_collector_hold()
    cli(ccmon.run)
