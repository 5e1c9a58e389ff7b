"""The Asterisk Manager Interface client: log in, receive queue events, produce ccmon events.

One session: connect over TCP, read the banner, send ``Action: Login`` (``Events`` limits
what Asterisk sends; ``agent`` is the class of every app_queue event), then
``Action: QueueStatus`` so the agents' queues and states are known at once, then map
each event (streams.sources.asterisk_ami) and produce it, keyed by event_key, to the
events topic; what cannot be mapped goes to the dead-letter topic.

A lost connection is retried with backoff (streams.retry, one log line per outage); the
mapper's state and the ids already sent survive it, and an event seen again gets the
same id (the worker ignores repeats anyway). A refused login is not retried: it raises
`AmiLoginError`, whose message names the setting.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from metrics.clock import wall_ms
from metrics.errors import CcmonError
from streams.producers.connect.deadletters import DeadLetterSink
from streams.producers.keys import event_key
from streams.producers.sinks import EventSink
from streams.retry import Outage, retry_until_stopped
from streams.sources.asterisk_ami import AmiFramer, AmiMapper, AmiMessage, action
from streams.sources.base import Mapped

__all__ = ["AmiConnector", "AmiLoginError", "AmiOptions", "AmiProtocolError"]

log = logging.getLogger(__name__)

#: How often pending queue leaves are settled while the line is quiet.
TICK_S = 0.5
#: Event ids remembered to skip repeats across reconnects (the worker dedupes beyond).
SEEN_IDS = 100_000
READ_BYTES = 65536
#: Pause before reconnecting after an established session dropped.
RECONNECT_PAUSE_S = 1.0


class AmiLoginError(CcmonError, RuntimeError):
    """Asterisk refused the login (wrong user or secret, or no read permission)."""


class AmiProtocolError(ConnectionError):
    """The peer does not speak AMI (no banner, an answer that is not a response)."""


@dataclass(frozen=True)
class AmiOptions:
    """Where and as whom to connect (CCMON_AMI_* or the command's options)."""

    host: str
    port: int
    username: str
    secret: str = field(repr=False)
    #: the Login action's Events: event classes Asterisk sends ("agent": app_queue's)
    events: str = "agent"
    #: ask for QueueStatus after login (agents' queues and states at once)
    queue_status: bool = True
    connect_timeout_s: float = 10.0
    max_backoff_s: float = 30.0

    @property
    def origin(self) -> str:
        return f"asterisk-ami://{self.host}:{self.port}"


class AmiConnector:
    """Runs AMI sessions until `stop` is set, producing what they bring."""

    def __init__(
        self,
        options: AmiOptions,
        sink: EventSink,
        dead: DeadLetterSink,
        mapper: AmiMapper | None = None,
        clock: Callable[[], int] = wall_ms,
    ) -> None:
        self.options = options
        self.sink = sink
        self.dead = dead
        self.mapper = mapper or AmiMapper()
        self.clock = clock
        self.sessions = 0
        self.sent = 0
        self.repeats = 0
        self._seen: OrderedDict[str, None] = OrderedDict()

    async def run(self, stop: asyncio.Event) -> None:
        """Sessions, one after another, with backoff between failed connects."""
        outage = Outage(f"Asterisk AMI at {self.options.host}:{self.options.port}", log)

        async def session() -> str:
            return await self._session(stop)

        while not stop.is_set():
            try:
                lost = await retry_until_stopped(
                    session,
                    lambda error: isinstance(error, (OSError, EOFError)),
                    outage,
                    max_wait_s=self.options.max_backoff_s,
                    stop=stop,
                )
            except (OSError, EOFError):
                if stop.is_set():
                    break
                raise
            if lost:
                # A session that was up: reconnect after a pause, with a fresh backoff.
                log.warning(
                    "AMI connection to %s lost (%s); reconnecting", self.options.origin, lost
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RECONNECT_PAUSE_S)
        await self._drain(self.mapper.expire(self.clock()))

    async def _session(self, stop: asyncio.Event) -> str:
        """One connection: '' when `stop` is set, why when the line dropped after the
        login; a failed connect or login raises."""
        opts = self.options
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(opts.host, opts.port), opts.connect_timeout_s
        )
        up = False
        try:
            framer = AmiFramer()
            messages = await self._login(reader, writer, framer)
            up = True
            self.sessions += 1
            log.info("logged in to %s as %s (%s)", opts.origin, opts.username, framer.banner)
            if opts.queue_status:
                writer.write(action("QueueStatus"))
                await writer.drain()
            for message in messages:
                await self._apply(message)
            while not stop.is_set():
                try:
                    data = await asyncio.wait_for(reader.read(READ_BYTES), TICK_S)
                except TimeoutError:
                    await self._drain(self.mapper.expire(self.clock()))
                    continue
                if not data:
                    return "closed by Asterisk"
                for message in framer.feed(data):
                    await self._apply(message)
                await self.sink.flush()
                await self.dead.flush()
            return ""
        except ConnectionError as exc:
            if not up or isinstance(exc, AmiProtocolError):
                raise
            return repr(exc)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _login(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, framer: AmiFramer
    ) -> list[AmiMessage]:
        """Send the login; the messages that came after its answer (already events)."""
        opts = self.options
        fields = [("ActionID", "ccmon-login"), ("Username", opts.username)]
        fields += [("Secret", opts.secret), ("Events", opts.events)]
        writer.write(action("Login", fields))
        await writer.drain()
        while True:
            data = await asyncio.wait_for(reader.read(READ_BYTES), opts.connect_timeout_s)
            if not data:
                raise EOFError("Asterisk closed the connection during login")
            messages = framer.feed(data)
            if framer.banner is not None and not framer.banner.startswith("Asterisk Call Manager/"):
                raise AmiProtocolError(f"not an AMI server: banner {framer.banner!r}")
            for index, message in enumerate(messages):
                answer = message.response
                if answer is None:
                    continue
                if answer.lower() != "success":
                    why = message.get("Message") or answer
                    raise AmiLoginError(
                        f"{opts.origin} refused the login of {opts.username!r}: {why} "
                        "(check CCMON_AMI_USERNAME and CCMON_AMI_SECRET / _FILE, and that "
                        "the user has `read = agent` in manager.conf)"
                    )
                return messages[index + 1 :]

    async def _apply(self, message: AmiMessage) -> None:
        if message.response is not None and message.event is None:
            return  # the answer to QueueStatus
        await self._drain(self.mapper.map(message, self.clock()))

    async def _drain(self, mapped: Mapped) -> None:
        for event in mapped.events:
            if not self._first_time(str(event["id"])):
                continue
            await self.sink.send(event_key(event), event)
            self.sent += 1
        for item in mapped.unmapped:
            # The same text again (a replayed session) is the same dead letter.
            if self._first_time("dead:" + hashlib.sha256(item.payload).hexdigest()):
                await self.dead.send(item, self.options.origin)

    def _first_time(self, ident: str) -> bool:
        """False for an id already sent (of the last SEEN_IDS), counted as a repeat."""
        if ident in self._seen:
            self.repeats += 1
            return False
        self._seen[ident] = None
        if len(self._seen) > SEEN_IDS:
            self._seen.popitem(last=False)
        return True
