"""Shared pytest setup: registers the test-server plugin (tests/servers/).

Fixtures it provides: kafka_server, kafka_bootstrap, redis_server, redis_url (session);
redis_clean, unique_topic, topic_factory (per test). See tests/servers/README.md.
"""

pytest_plugins = ["tests.servers.plugin"]
