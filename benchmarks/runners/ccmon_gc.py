"""The ccmon runner with other cyclic-GC thresholds, to measure them next to the default.

``CCMON_BENCH_GC`` gives the thresholds as ``A,B,C`` (default ``1000000,50,1000``, which
the worker itself has used since it was measured here: a young-generation collection
every million surviving allocations instead of every 100,000);
``streams.kafka.run_consumer`` sets them in place of ``GC_THRESHOLDS``.
"""

from __future__ import annotations

import os

import streams.kafka
from benchmarks.runners import ccmon
from benchmarks.runners._common import cli

DEFAULT = "1000000,50,1000"


def thresholds(text: str) -> tuple[int, int, int]:
    """``A,B,C`` as three integers."""
    first, second, third = (int(part) for part in text.split(","))
    return first, second, third


if __name__ == "__main__":
    # read by run_consumer when it starts: a patch for this process only
    streams.kafka.GC_THRESHOLDS = thresholds(os.environ.get("CCMON_BENCH_GC", DEFAULT))
    cli(ccmon.run)
