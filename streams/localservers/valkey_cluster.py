"""A local Redis Cluster: ``primaries`` valkey-server/redis-server processes started with
``--cluster-enabled yes`` on free loopback ports, the 16384 slots split between them.

The slots are assigned by hand (CLUSTER ADDSLOTSRANGE on each primary, CLUSTER MEET from the
first), with no valkey-cli: redis-server from PATH has no cluster tool beside it either.
Used by the test fixtures (tests/servers) and the benchmarks.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import redis

from streams.localservers.probes import redis_ping
from streams.localservers.process import (
    ManagedProcess,
    ServerStartError,
    free_port,
    poll_until,
    start_timeout_s,
)
from streams.localservers.valkey import server_argv

__all__ = ["SLOTS", "LocalRedisCluster", "cluster_ready", "slot_ranges"]

SLOTS = 16384


def slot_ranges(primaries: int) -> list[tuple[int, int]]:
    """The 16384 slots split into ``primaries`` contiguous inclusive ranges."""
    bounds = [SLOTS * i // primaries for i in range(primaries + 1)]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(primaries)]


def cluster_ready(nodes: list[tuple[str, int]], primaries: int) -> bool:
    """True when every node says ``cluster_state:ok``, knows all ``primaries`` nodes and sees
    all slots assigned, and every node's slot map names ``primaries`` ranges."""
    for host, port in nodes:
        client = redis.Redis(host=host, port=port, socket_timeout=2, decode_responses=True)
        try:
            info = client.cluster("INFO")
            slots = client.cluster("SLOTS")
        finally:
            client.close()
        if info.get("cluster_state") != "ok":
            return False
        if int(info.get("cluster_known_nodes", 0)) != primaries:
            return False
        if int(info.get("cluster_slots_assigned", 0)) != SLOTS:
            return False
        if len(slots) != primaries:
            return False
    return True


class LocalRedisCluster:
    """``primaries`` local cluster-enabled servers on free ports, each in its own directory
    (its nodes.conf there), no persistence, slots split evenly."""

    def __init__(self, binary: str, name: str, work_dir: Path, primaries: int = 3) -> None:
        self.binary = binary
        self.name = name
        self.work_dir = work_dir / "redis-cluster"
        self.primaries = primaries
        self.ports: list[int] = []
        #: node port -> its cluster bus port
        self.bus_ports: dict[int, int] = {}
        self.processes: list[ManagedProcess] = []
        self.took_s = 0.0

    def _start_node(self, index: int, attempts: int = 3) -> int:
        """Start node ``index`` and wait for PING; a port taken meanwhile gets another."""
        node_dir = self.work_dir / f"node-{index}"
        node_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, attempts + 1):
            # the bus port is given: the default (port + 10000) fails above port 55535
            port, bus_port = free_port(), free_port()
            (node_dir / "nodes.conf").unlink(missing_ok=True)
            argv = [
                *server_argv(self.binary, port, node_dir),
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-port",
                str(bus_port),
                "--cluster-node-timeout",
                "5000",
            ]
            process = ManagedProcess(
                f"{self.name}-{index}", argv, self.work_dir / f"{self.name}-{index}.log"
            )
            process.start()
            try:
                process.wait_ready(
                    partial(redis_ping, "127.0.0.1", port),
                    timeout_s=start_timeout_s(30.0),
                    what=f"{self.name} cluster node {index} on 127.0.0.1:{port}",
                )
            except ServerStartError:
                if attempt == attempts or process.exit_reason() is None:
                    raise
                continue
            self.processes.append(process)
            self.bus_ports[port] = bus_port
            return port
        raise AssertionError("unreachable")

    def start(self) -> list[tuple[str, int]]:
        """Start the nodes, give each its slots, join them and wait for ``cluster_state:ok``;
        return their (host, port)."""
        started = time.monotonic()
        try:
            self.ports = [self._start_node(i) for i in range(self.primaries)]
            nodes = [("127.0.0.1", port) for port in self.ports]
            clients = [redis.Redis(host=h, port=p, socket_timeout=5) for h, p in nodes]
            try:
                # redis-py leaves execute_command untyped
                for client, (low, high) in zip(clients, slot_ranges(self.primaries), strict=True):
                    client.execute_command("CLUSTER", "ADDSLOTSRANGE", low, high)  # type: ignore[no-untyped-call]
                first, bus = clients[0], self.bus_ports
                for host, port in nodes[1:]:
                    first.execute_command("CLUSTER", "MEET", host, port, bus[port])  # type: ignore[no-untyped-call]
            finally:
                for client in clients:
                    client.close()
            poll_until(
                lambda: cluster_ready(nodes, self.primaries),
                timeout_s=start_timeout_s(30.0),
                what=f"{self.name} cluster on ports {self.ports} to reach cluster_state:ok",
            )
        except Exception:
            self.stop()
            raise
        self.took_s = time.monotonic() - started
        return nodes

    def stop(self) -> None:
        """Stop every node (idempotent)."""
        processes, self.processes = self.processes, []
        for process in processes:
            process.stop()
