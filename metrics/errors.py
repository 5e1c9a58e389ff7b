"""One root for the errors ccmon raises on purpose, so a caller can catch them all.

The hierarchy::

    CcmonError
    ├── YamlModelError (also ValueError)   a YAML file does not fit its model: file:line: field
    │   └── QueueConfigError               the queues file (metrics.config.queues); scenarios
    │                                      and CSV mappings raise YamlModelError itself
    ├── Rfc3339Error (also ValueError)     a time is not strict RFC 3339 (metrics.rfc3339)
    ├── StoreError                         the store could not be read or written; retriable
    │   ├── FencedError                    stale offsets: another worker owns the partition
    │   └── StoreLostError                 the store lost its data: rebuild from the log
    ├── DecodeError (also ValueError)      one event breaks the contract (streams.decode)
    ├── SinkError (also RuntimeError)      a producer cannot reach or write its sink
    ├── TopicError (also RuntimeError)     the broker refused to create a topic (streams.topics)
    └── ServerStartError (also RuntimeError)  a local server did not start (streams.localservers)
"""

from __future__ import annotations

__all__ = ["CcmonError"]


class CcmonError(Exception):
    """The root of every error ccmon raises on purpose."""
