"""What the numbers mean, and where they are kept and shown: the map of the rooms.

The shared words, importable from every room:

- ``events``  the typed events of contract v1 and their vocabularies
- ``fields``  the names of the stored pane fields, the channels
- ``errors``  ``CcmonError``, the root of every error ccmon raises on purpose
- ``clock``   the wall clock (only the rooms that run things read it)
- ``rfc3339`` the strict RFC 3339 parser of event times and API times (pure)

The rooms, in the order they may import one another:

``config/`` PURE
    The queues file as frozen, validated models: ``queues`` (queue settings, SL and FCR
    formulas), ``tickets`` (SLA policies), ``calendars`` (business hours), ``agents`` (the
    optional agents directory: names, teams, queues, capacity), ``yaml_model`` (YAML
    loading with file:line errors).
``core/`` PURE
    Events in, one coalesced ``Update`` out; windows and ratios on read. ``aggregator`` ties
    the state machines (``contacts``, ``agents``, ``tickets``, ``customers``, ``fcr``,
    ``experience``) to ``panes`` and ``contribution``; ``views`` and ``formulas`` derive what
    is shown; ``reads`` holds what a read asks of a store and gets back; ``rollups`` plans
    interval series (15/30 minutes, UTC hours and days) on the coarsest buckets; ``ticket_rules``
    resolves the config's SLA policies and calendars. ``agent_figures`` is what an agent's
    time adds per series, team and agent; ``agent_views`` what the agent and team reads
    show (live entries, current contacts, open states counted up to now).
``store/``
    ``base`` the port (``AggregateStore``, ``StoreError``), ``memory`` its in-memory twin,
    ``redis`` the Redis adapter, ``tracking`` its change feed (CLIENT TRACKING) and
    ``mirror`` the local copy of the keys reads ask for (redis and tracking are the only
    modules that import redis; never re-exported).
``routing/``
    ``erlang``, ``ewt``, ``staffing`` and ``snapshot`` (pure); ``backtest`` (EWT accuracy);
    ``cache`` (the one that runs refresh tasks).
``exposition/``
    The Prometheus collectors: ``queues``, ``services`` (tickets and CX), ``contacts``
    (handling, callbacks, offers, holds, transfers, wrap-up codes), ``agents`` (agents by
    reason, slots, team families), ``routing``.
``web/``
    The aiohttp routes: ``api`` (read API, /metrics; ``interval_rows`` renders its
    interval rows once, again only when they change), ``agents`` (the per-agent API),
    ``routing``, ``openapi`` (with ``openapi_agents``), ``wallboard/``,
    ``docs`` (/ and /docs), ``errors`` (JSON errors), ``server`` (timeouts, connection cap),
    ``scrape`` (the /metrics-only app of ``ccmon exporter --role metrics``).

Rules, checked by ``make lint`` (import-linter; contracts in pyproject.toml):

- ``config/`` and ``core/`` import only the shared words (and ``config/``, for ``core/``):
  never the clock, ``store/``, ``exposition/``, ``web/``, ``routing/``, ``streams``, redis,
  aiohttp, prometheus_client, aiokafka or faust. Time is passed in as epoch milliseconds.
- ``store/base`` and ``store/memory`` import no redis; only ``store/redis`` and
  ``store/tracking`` do, and
  ``routing/``, ``exposition/`` and ``web/`` use the port, never the adapter.
- Nothing in ``metrics/`` imports ``streams/``.
- No import circles between the modules of any package of ``metrics/`` or ``streams/``.
"""

__all__: list[str] = []
