"""Locate the deployment tools (promtool, amtool, ...): skip locally, fail in CI."""

from __future__ import annotations

import os
import shutil

import pytest

#: Debian package that ships each tool.
PACKAGES = {
    "promtool": "prometheus",
    "prometheus": "prometheus",
    "amtool": "prometheus-alertmanager",
    "alertmanager": "prometheus-alertmanager",
}


def tool(name: str) -> str:
    """Path of `name`; a missing tool fails the test in CI and skips it elsewhere."""
    # Debian installs the Alertmanager server as prometheus-alertmanager
    path = shutil.which(name) or shutil.which(f"prometheus-{name}")
    if path is None:
        hint = f"{name} is missing (apt-get install {PACKAGES.get(name, name)})"
        if os.environ.get("CI"):
            pytest.fail(hint)
        pytest.skip(hint)
    return path
