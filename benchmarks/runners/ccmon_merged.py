"""The ccmon runner with only the per-batch merge of contact events (the collector is not
held): the second step of the before/after ladder (see ``ccmon_before``)."""

from __future__ import annotations

from benchmarks.runners import ccmon
from benchmarks.runners._common import cli
from benchmarks.runners.ccmon_before import undo_collector_hold

if __name__ == "__main__":
    undo_collector_hold()
    cli(ccmon.run)
