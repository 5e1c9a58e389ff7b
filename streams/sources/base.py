"""The port of a vendor source: a payload in, ccmon events and what could not be mapped out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Mapped", "SourceMapper", "Unmapped"]


@dataclass(frozen=True)
class Unmapped:
    """One part of a payload ccmon cannot map: kept whole in the dead-letter topic.

    ``reason`` is a bounded word (a metric label), e.g. ``unknown_event`` or
    ``missing_field``; ``detail`` says which field or type.
    """

    reason: str
    detail: str
    payload: bytes


@dataclass(frozen=True)
class Mapped:
    """What one payload became: contract v1 events (JSON objects), and the rest."""

    events: list[dict[str, Any]] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)


class SourceMapper(Protocol):
    """A vendor's payloads to ccmon events; pure, deterministic (the same payload always
    gives the same event ids, so a sender's retry is deduplicated by the worker)."""

    #: the source's name in URLs (/ingest/v1/sources/{name}), metrics and logs
    name: str

    def verify(self, body: bytes, headers: Mapping[str, str], url: str) -> str | None:
        """None when the request is authentic (the vendor's signature checks out, or the
        source signs nothing), else why not. Header names are lower case."""

    def map(self, body: bytes, headers: Mapping[str, str]) -> Mapped:
        """The events in one request body (header names lower case)."""
