"""The rooms keep their promises: every package says what it is and exports what exists."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from types import ModuleType

import pytest

import metrics
import streams


def _modules(package: ModuleType) -> list[str]:
    names = [package.__name__]
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
        names.append(info.name)
    return sorted(names)


MODULES = _modules(metrics) + _modules(streams)
PACKAGES = [name for name in MODULES if hasattr(importlib.import_module(name), "__path__")]


def test_the_rooms_are_there() -> None:
    rooms = {"config", "core", "store", "routing", "exposition", "web"}
    assert rooms <= {name.split(".")[1] for name in PACKAGES if name.startswith("metrics.")}
    assert "streams.producers" in PACKAGES


@pytest.mark.parametrize("name", PACKAGES)
def test_every_package_has_a_one_line_docstring_and_an_explicit_all(name: str) -> None:
    package = importlib.import_module(name)
    assert package.__doc__, f"{name} has no docstring"
    assert package.__doc__.strip().splitlines()[0], f"{name}'s docstring has no summary line"
    assert isinstance(getattr(package, "__all__", None), list), f"{name} has no __all__ list"


@pytest.mark.parametrize("name", MODULES)
def test_every_name_in_all_exists(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", [])
    missing = [member for member in exported if not hasattr(module, member)]
    assert missing == []
    assert len(set(exported)) == len(exported), f"{name}.__all__ names a member twice"


def test_importing_the_store_port_does_not_import_redis() -> None:
    """Only metrics.store.redis imports redis; the port and its twin stay free of it."""
    code = (
        "import sys, metrics.store, metrics.store.memory, metrics.core, metrics.config\n"
        "print(sorted(m for m in sys.modules if m == 'redis' or m.startswith('redis.')"
        " or m == 'metrics.store.redis'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
