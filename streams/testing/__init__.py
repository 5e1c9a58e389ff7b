"""Helpers shared by the tests and the benchmarks: event builders, scripted runs, measurement.

Not used by ccmon itself (bytewax ships ``bytewax.testing`` the same way): build contract-v1
events by hand (``events``), a scripted routing queue (``routing_scenario``), feed simulated
traffic through ccmon's own pure core (``measure``) and the Erlang agreement runs
(``erlang_agreement``).
"""

__all__: list[str] = []
