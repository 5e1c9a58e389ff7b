"""What the numbers mean, and where they are kept and shown.

The modules ``fields``, ``events``, ``queue_config``, ``panes``, ``formulas``,
``contacts``, ``agents``, ``update``, ``aggregator`` and ``views`` are the pure core:
no I/O, no clock, time passed in as integer epoch milliseconds.
"""
