"""Benchmark runners and their registry.

A runner is a module with ``run(bootstrap: str, topic: str, n: int) -> dict`` (build the
dict with ``_common.result``) ending in ``if __name__ == "__main__": cli(run)``. To add one,
write ``benchmarks/runners/<name>.py`` and add a line to ``RUNNERS``;
``python -m benchmarks.run --runners raw,<name>`` then runs it in its own process next to
the others. ``--runners`` also accepts any importable module path.
"""

from __future__ import annotations

#: Short name -> module, in the order ``benchmarks.run`` runs them by default.
#: ``raw`` first: the others are reported as a fraction of it.
RUNNERS: dict[str, str] = {
    "raw": "benchmarks.runners.raw_aiokafka",
    "ccmon": "benchmarks.runners.ccmon",
    "faust": "benchmarks.runners.faust_bare",
    "quix": "benchmarks.runners.quix_count",
}
#: ccmon with this issue's hot-path changes undone step by step (``--runners`` names them).
VARIANTS: dict[str, str] = {
    "ccmon_before": "benchmarks.runners.ccmon_before",
    "ccmon_merged": "benchmarks.runners.ccmon_merged",
    #: the ccmon runner of another source tree ($CCMON_BENCH_TREE), e.g. the committed one
    "ccmon_tree": "benchmarks.runners.ccmon_tree",
    #: ccmon with other cyclic-GC thresholds ($CCMON_BENCH_GC, default 1000000,50,1000)
    "ccmon_gc": "benchmarks.runners.ccmon_gc",
}

#: The runner whose events/s the others are divided by.
CEILING = "raw"
#: The second reference: a bare Faust agent, i.e. Faust's per-event stream machinery.
FAUST_BASELINE = "faust"
#: The peer issue 12's throughput goal is stated against (Quix Streams).
PEER = "quix"
