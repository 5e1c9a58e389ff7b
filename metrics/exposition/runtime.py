"""What every ccmon process says about itself: its build, and the standard process,
platform and garbage-collector families of prometheus_client, on an injected registry.

    # HELP ccmon_build_info ccmon's version and the Python it runs on (value 1).
    # TYPE ccmon_build_info gauge
    ccmon_build_info{python_implementation="CPython",python_version="3.11.7",version="0.1.0"} 1.0
    process_resident_memory_bytes, process_cpu_seconds_total, process_open_fds, ...
    python_info{implementation,major,minor,patchlevel,version} 1.0
    python_gc_objects_collected_total{generation}, python_gc_collections_total{generation}, ...
"""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

from prometheus_client import (
    CollectorRegistry,
    Gauge,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
)

__all__ = ["DISTRIBUTION", "ccmon_version", "register_runtime_metrics"]

#: The name ccmon is installed under (pyproject.toml `[project] name`).
DISTRIBUTION = "ccmon"


def ccmon_version() -> str:
    """The installed package's version, or "unknown" when running from a bare checkout."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"


def register_runtime_metrics(registry: CollectorRegistry) -> None:
    """Register ccmon_build_info and the process, platform and GC collectors on `registry`.

    Call it once per registry (prometheus_client refuses a second copy of a family).
    """
    # A gauge rather than prometheus_client's Info: Info's OpenMetrics type `info` is not
    # understood by every consumer, and `_info` gauges with value 1 are the convention.
    build = Gauge(
        "ccmon_build_info",
        "ccmon's version and the Python it runs on (value 1).",
        ["version", "python_version", "python_implementation"],
        registry=registry,
    )
    build.labels(ccmon_version(), platform.python_version(), platform.python_implementation()).set(
        1
    )
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
