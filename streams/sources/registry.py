"""The vendor sources the HTTP ingest serves, built from the settings (secrets included)."""

from __future__ import annotations

from streams.settings import Settings
from streams.sources.base import SourceMapper

__all__ = ["source_mappers"]


def source_mappers(settings: Settings) -> dict[str, SourceMapper]:
    """Every configured source by name; a source needing a secret that is unset is left
    out (the ingest answers 404 for it and says why in its log at start)."""
    return {}
