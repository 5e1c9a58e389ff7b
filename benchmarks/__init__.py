"""Throughput benchmarks for ccmon and reference consumers (see ``python -m benchmarks.run``)."""
