"""Both log formats: exact fields, UTC times, no terminal escapes, refused bad values."""

from __future__ import annotations

import json
import logging
import logging.config
import re
from collections.abc import Iterator

import pytest

from streams.logs import logging_config, strip_escapes


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    """Each test configures the root logger; put pytest's handlers back after it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_level_logger_message_and_utc_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logging.config.dictConfig(logging_config("info", "json"))
    logging.getLogger("ccmon.test").warning("queue %s: %d waiting", "sales", 3)
    logging.getLogger("ccmon.test").debug("not shown at info")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert {k: record[k] for k in ("level", "logger", "message")} == {
        "level": "WARNING",
        "logger": "ccmon.test",
        "message": "queue sales: 3 waiting",
    }
    assert record["time"].endswith("+00:00")


def test_text_lines_are_plain_utc_and_free_of_escapes(capsys: pytest.CaptureFixture[str]) -> None:
    logging.config.dictConfig(logging_config("debug", "text"))
    logging.getLogger("faust.worker").info("\x1b[32mReady\x1b[0m in %s", "1 s")
    line = capsys.readouterr().err
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO faust\.worker Ready in 1 s\n", line
    ), line
    assert "\x1b" not in line


def test_escape_sequences_are_removed() -> None:
    assert strip_escapes("\x1b[1;31mred\x1b[0m \x1b[2K\x1b[Gdone") == "red done"
    assert strip_escapes("plain") == "plain"


@pytest.mark.parametrize(("level", "fmt"), [("verbose", "text"), ("info", "xml")])
def test_unknown_levels_and_formats_are_refused(level: str, fmt: str) -> None:
    with pytest.raises(ValueError, match="expected one of"):
        logging_config(level, fmt)
