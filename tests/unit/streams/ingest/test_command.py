"""`ccmon ingest` as a process: a token list it cannot read stops it with status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def ccmon(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CCMON_")}
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("tokens", "message"),
    [("crm", "token entry 1 must be name:token"), ("a:x,a:y", "token name 'a' is given twice")],
)
def test_a_bad_token_list_exits_2_naming_the_entry_not_the_token(tokens: str, message: str) -> None:
    result = ccmon("ingest", CCMON_INGEST_TOKENS=tokens)
    assert result.returncode == 2
    assert f"CCMON_INGEST_TOKENS: {message}" in result.stderr
    assert ":x" not in result.stderr


def test_a_missing_token_file_exits_2(tmp_path: Path) -> None:
    result = ccmon("ingest", CCMON_INGEST_TOKENS_FILE=str(tmp_path / "nope"))
    assert result.returncode == 2
    assert f"CCMON_INGEST_TOKENS_FILE: cannot read {tmp_path / 'nope'}" in result.stderr


def test_check_config_masks_the_tokens() -> None:
    result = ccmon("check-config", CCMON_INGEST_TOKENS="crm:s3cret")
    assert result.returncode == 0, result.stderr
    assert "ingest_tokens = **********" in result.stdout
    assert "s3cret" not in result.stdout
