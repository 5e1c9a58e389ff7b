"""Locate the deployment tools (promtool, amtool, ...): skip locally, fail in CI."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

#: Debian package that ships each tool.
PACKAGES = {
    "promtool": "apt-get install prometheus",
    "prometheus": "apt-get install prometheus",
    "amtool": "apt-get install prometheus-alertmanager",
    "alertmanager": "apt-get install prometheus-alertmanager",
    "kubernetes-validate": "pip: kubernetes-validate (make install)",
    "crdcheck": "make deploy-tools",
    "docker": "docker CLI; compose plugin from make deploy-tools",
}

#: Where scripts/deploy/tools.sh builds crdcheck and the compose plugin.
TOOLS_BIN = Path(os.environ.get("CCMON_TOOLS_DIR", Path.home() / ".cache/ccmon-tools")) / "bin"


def tool(name: str) -> str:
    """Path of `name`; a missing tool fails the test in CI and skips it elsewhere."""
    # Debian installs the Alertmanager server as prometheus-alertmanager
    path = (
        shutil.which(name)
        or shutil.which(f"prometheus-{name}")
        or shutil.which(name, path=str(TOOLS_BIN))
    )
    if path is None:
        hint = f"{name} is missing ({PACKAGES.get(name, name)})"
        if os.environ.get("CI"):
            pytest.fail(hint)
        pytest.skip(hint)
    return path
