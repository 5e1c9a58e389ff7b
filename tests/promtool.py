"""`promtool check metrics` on an exposition text, as every exposition test runs it."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

__all__ = ["assert_promtool_accepts"]


def assert_promtool_accepts(text: bytes | str) -> None:
    """Fail unless promtool accepts `text`; skip without promtool, except in CI (the
    Debian package 'prometheus' is part of the CI machine)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing in CI (Debian package 'prometheus')")
        pytest.skip("promtool not installed (apt-get install prometheus)")
    data = text.encode() if isinstance(text, str) else text
    result = subprocess.run(
        [promtool, "check", "metrics"], input=data, capture_output=True, check=False
    )
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
