"""The routing feed: Erlang, EWT, staffing and snapshots (pure); the backtest; the cache."""

__all__: list[str] = []
