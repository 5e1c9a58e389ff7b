"""The `ccmon` command as a process: --version, both log formats, unknown-variable warnings.

These run `python -m streams.cli` exactly as a user or a container does, with stderr a
pipe (not a terminal), so what they see is what a log collector gets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version

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


def test_version_comes_from_the_installed_package() -> None:
    result = ccmon("--version")
    assert (result.returncode, result.stdout) == (0, f"ccmon {version('ccmon')}\n")


def test_json_logs_warn_of_a_misspelt_variable_with_the_closest_name() -> None:
    result = ccmon("check-config", "--log-format", "json", CCMON_BROKER="kafka:9092")
    assert result.returncode == 0, result.stderr
    [line] = result.stderr.splitlines()
    record = json.loads(line)
    assert (record["level"], record["logger"], record["message"]) == (
        "WARNING",
        "ccmon",
        "environment: CCMON_BROKER is not a ccmon setting and is ignored; "
        "did you mean CCMON_BROKERS?",
    )
    assert "brokers = localhost:9092" in result.stdout  # the typo changed nothing


@pytest.mark.parametrize("where", ["before", "after"])
def test_global_options_work_before_and_after_the_command(where: str) -> None:
    options = ["--log-level", "error", "--log-format", "json"]
    argv = [*options, "check-config"] if where == "before" else ["check-config", *options]
    result = ccmon(*argv, CCMON_BROKER="kafka:9092")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # the warning is below --log-level error


def test_text_logs_are_one_plain_line_without_terminal_escapes() -> None:
    result = ccmon("check-config", CCMON_GROUPID="ccmon")
    [line] = result.stderr.splitlines()
    assert line.endswith(
        " WARNING ccmon environment: CCMON_GROUPID is not a ccmon setting and is ignored; "
        "did you mean CCMON_GROUP_ID?"
    )
    assert "\x1b" not in result.stderr


def test_a_bad_redis_url_is_refused_with_exit_status_2() -> None:
    result = ccmon("check-config", CCMON_REDIS_URL="http://:hunter2@redis:6379/0")
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.endswith(
        " ERROR ccmon environment: CCMON_REDIS_URL: Value error, must start with redis://, "
        "rediss:// (TLS) or unix:// (a socket); got scheme 'http'"
    )
    assert "hunter2" not in result.stderr


def test_configuration_errors_are_json_too_with_log_format_json() -> None:
    result = ccmon("--log-format", "json", "check-config", CCMON_EXPORTER_PORT="ninety")
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    record = json.loads(line)
    assert (record["level"], record["logger"]) == ("ERROR", "ccmon")
    assert record["message"].startswith("environment: CCMON_EXPORTER_PORT: Input should be")


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_the_faust_worker_logs_in_the_chosen_format_without_banner_or_escapes(fmt: str) -> None:
    """Faust sets up its own coloured logging and prints a banner table unless told not to.

    The broker address is unreachable, so the worker logs its start and an error; the test
    reads the first lines and stops it (whether it exits or retries is not asserted).
    """
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CCMON_")}
    env = {**clean, "CCMON_BROKERS": "127.0.0.1:1", "CCMON_WORKER_METRICS_PORT": "0"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "--log-format", fmt, "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stderr is not None
        lines = [worker.stderr.readline() for _ in range(3)]
    finally:
        worker.kill()
        out, _ = worker.communicate(timeout=30)
    assert out == ""  # no banner, no spinner
    assert all(line.endswith("\n") and "\x1b" not in line for line in lines), lines
    if fmt == "json":
        records = [json.loads(line) for line in lines]
        assert records[0]["logger"] == "faust.worker"
        assert records[0]["message"] == "[^Worker]: Starting..."
    else:
        assert lines[0].split(" ", 1)[1] == "INFO faust.worker [^Worker]: Starting...\n"
