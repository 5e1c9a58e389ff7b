"""`ccmon check-config` and `ccmon --help`: clear messages and exit codes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from streams.cli import main


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CCMON_"):
            monkeypatch.delenv(name)


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for command in ("worker", "exporter", "check-config"):
        assert command in out


def test_defaults_work_out_of_the_box(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config"]) == 0
    out = capsys.readouterr().out
    assert "brokers = localhost:9092" in out
    assert "redis_url = **********" in out
    assert "configuration OK" in out


def test_the_redis_password_is_never_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CCMON_REDIS_URL", "redis://:hunter2@redis:6379/0")
    assert main(["check-config"]) == 0
    assert "hunter2" not in capsys.readouterr().out


def test_a_bad_queues_file_names_file_line_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    queues = tmp_path / "queues.yaml"
    queues.write_text("queues:\n  - name: sales\n    sl_target: 80\n")
    monkeypatch.setenv("CCMON_QUEUES_FILE", str(queues))
    assert main(["check-config"]) == 2
    err = capsys.readouterr().err
    assert f"{queues}:3: queues.0.sl_target" in err


def test_a_missing_queues_file_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CCMON_QUEUES_FILE", str(tmp_path / "nope.yaml"))
    assert main(["check-config"]) == 2
    assert "CCMON_QUEUES_FILE: cannot read" in capsys.readouterr().err


def test_a_bad_environment_variable_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CCMON_EXPORTER_PORT", "ninety")
    assert main(["check-config"]) == 2
    assert "CCMON_EXPORTER_PORT" in capsys.readouterr().err


def test_an_fcr_horizon_beyond_the_retention_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    queues = tmp_path / "queues.yaml"
    queues.write_text("defaults:\n  fcr_horizon_s: 691200\n")  # 8 days
    monkeypatch.setenv("CCMON_QUEUES_FILE", str(queues))
    assert main(["check-config"]) == 2
    err = capsys.readouterr().err
    assert "CCMON_RETENTION_S (691200) must exceed the longest fcr_horizon_s (691200)" in err


def test_the_customer_id_salt_is_never_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CCMON_CUSTOMER_ID_SALT", "pepper-and-more-pepper")
    assert main(["check-config"]) == 0
    out = capsys.readouterr().out
    assert "pepper" not in out and "customer_id_salt = **********" in out
