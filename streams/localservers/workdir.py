"""A session temp directory for server logs and data, created on first use."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

__all__ = ["LazyTempDir"]


class LazyTempDir:
    """``mkdtemp`` on first access of :attr:`path`; :meth:`cleanup` removes it again."""

    def __init__(self, prefix: str = "ccmon-test-servers-") -> None:
        self._prefix = prefix
        self._path: Path | None = None

    @property
    def created(self) -> bool:
        """Whether the directory exists (was ever asked for)."""
        return self._path is not None

    @property
    def path(self) -> Path:
        """The directory, created now if needed."""
        if self._path is None:
            self._path = Path(tempfile.mkdtemp(prefix=self._prefix))
        return self._path

    def cleanup(self) -> None:
        """Delete the directory and everything in it (no-op if never created)."""
        if self._path is not None:
            shutil.rmtree(self._path, ignore_errors=True)
            self._path = None
