"""Where aggregates are kept: the port (base), its in-memory twin (memory), the Redis adapter.

The Redis adapter is not re-exported: import it from metrics.store.redis, so that importing
the port stays free of redis.
"""

from metrics.store.base import AggregateStore, FencedError, StoreError
from metrics.store.memory import InMemoryStore

__all__ = ["AggregateStore", "FencedError", "InMemoryStore", "StoreError"]
