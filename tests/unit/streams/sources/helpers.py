"""Shared steps of the source mapper tests: fixtures on disk, and decoding what came out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from streams.decode import decode
from streams.sources.base import Mapped

FIXTURES = Path(__file__).parents[3] / "fixtures" / "sources"


def fixture(vendor: str, name: str) -> bytes:
    return (FIXTURES / vendor / name).read_bytes()


def rows(mapped: Mapped) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(type, id, time, data) of each event, after checking that the worker decodes it."""
    for event in mapped.events:
        decode(orjson.dumps(event), 65_536)
    return [(e["type"], e["id"], e["time"], e["data"]) for e in mapped.events]


def reasons(mapped: Mapped) -> list[tuple[str, str]]:
    return [(u.reason, u.detail) for u in mapped.unmapped]
