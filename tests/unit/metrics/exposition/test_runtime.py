"""ccmon_build_info and the standard process, platform and GC families on one registry."""

from __future__ import annotations

import platform
from importlib.metadata import version

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from metrics.exposition.runtime import ccmon_version, register_runtime_metrics


def test_build_info_names_the_installed_version_and_python() -> None:
    registry = CollectorRegistry()
    register_runtime_metrics(registry)
    labels = {
        "version": version("ccmon"),
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
    }
    assert registry.get_sample_value("ccmon_build_info", labels) == 1.0
    assert ccmon_version() == version("ccmon")


def test_process_platform_and_gc_families_are_registered() -> None:
    registry = CollectorRegistry()
    register_runtime_metrics(registry)
    names = {family.name for family in registry.collect()}
    assert {"ccmon_build_info", "python_info", "python_gc_collections"} <= names
    # The process collector reads /proc: on Linux it reports memory and CPU.
    assert (registry.get_sample_value("process_resident_memory_bytes") or 0) > 0
    assert registry.get_sample_value("process_cpu_seconds_total") is not None
    assert b"# TYPE ccmon_build_info gauge" in generate_latest(registry)


def test_a_second_registration_on_the_same_registry_is_refused() -> None:
    registry = CollectorRegistry()
    register_runtime_metrics(registry)
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        register_runtime_metrics(registry)
