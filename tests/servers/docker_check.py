"""Decide quickly whether testcontainers can be used (a Docker daemon answers)."""

from __future__ import annotations

import functools
import os

__all__ = ["docker_available"]

#: Set to "0" to never use testcontainers, "1" to require it (errors are then raised).
DOCKER_ENV = "CCMON_TEST_DOCKER"


@functools.cache
def docker_available(timeout_s: int = 3) -> bool:
    """True when ``docker.from_env().ping()`` succeeds within ``timeout_s``; never raises."""
    setting = os.environ.get(DOCKER_ENV, "auto").strip().lower()
    if setting in {"0", "no", "false", "off"}:
        return False
    try:
        import docker  # type: ignore[import-untyped]  # the docker package has no py.typed marker

        client = docker.from_env(timeout=timeout_s)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception as exc:  # no daemon, no socket, bad DOCKER_HOST, ...
        if setting in {"1", "yes", "true", "on"}:
            raise RuntimeError(f"{DOCKER_ENV}={setting} but Docker does not answer: {exc}") from exc
        return False
