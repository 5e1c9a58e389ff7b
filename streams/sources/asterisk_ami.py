"""Asterisk Manager Interface (AMI) events as ccmon events (pure: bytes and times in).

The protocol (Asterisk's main/manager.c): on connect the server sends one banner line,
``Asterisk Call Manager/<version>``; then every message is ``Key: Value`` lines ended by
an empty line (CRLF; LF is accepted). ``Action: Login`` with ``Username``, ``Secret`` and
``Events`` answers ``Response: Success``; events start with ``Event: <name>`` and, with
``timestampevents = yes`` in manager.conf, carry ``Timestamp: <epoch>.<micros>``.

Field names are those of app_queue's ``<managerEvent>`` documentation (apps/app_queue.c):

- QueueCallerJoin (Uniqueid, Queue): contact.queued; QueueEntry (the QueueStatus answer:
  a caller already waiting) too, at now - Wait
- AgentCalled (Uniqueid, Queue, MemberName): contact.offered to the member (one per member
  rung: with ``ringall`` every member rung is offered the call)
- AgentRingNoAnswer (Uniqueid, Queue, MemberName, RingTime): contact.offer_declined outcome
  ``missed``; RingTime is in milliseconds (app_queue's ``rna()`` passes the same ``rnatime``
  as queue_log's RINGNOANSWER and logs it as "Nobody picked up in %d ms"); when the
  AgentCalled was not seen, a contact.offered RingTime before it comes first
- AgentConnect (Uniqueid, Queue, MemberName, HoldTime, RingTime in seconds):
  contact.answered, agent on_contact; a contact.offered RingTime before it when no
  AgentCalled of that member was seen
- QueueCallerAbandon (Uniqueid, Queue, HoldTime): contact.abandoned
- (an answer or abandon of a call whose join was not seen also gets a contact.queued at
  its time - HoldTime; the worker keeps the earliest queued of a call)
- QueueCallerLeave: consumed when the call was answered or abandoned; otherwise (a
  timeout, an exit key, an empty queue) it becomes contact.flowed_out ``ivr_exit`` once
  no AgentConnect has followed within ``LEAVE_GRACE_MS`` (Asterisk sends the leave just
  before the connect; a connect Gosub runs between them), by Asterisk's Timestamps or by
  the time received
- AgentComplete (TalkTime, Reason): Reason ``caller`` / ``agent`` gives contact.ended
  disconnected_by ``customer`` / ``agent`` (``transfer``, another or no Reason: no
  contact.ended, the call went on); then contact.wrapup_completed with hold_s = the
  time on hold measured from Hold / Unhold (below; a hold still on at the end counts up
  to it), talk_s = TalkTime - hold_s (TalkTime runs from the connect to the end, holds
  included), after-contact work 0 (the event's HoldTime is the queue wait, not time on
  hold), and the agent available again (not_ready when paused)
- Hold and Unhold (Asterisk 12+, main/manager_channels.c; channel snapshot: Channel,
  Uniqueid, Linkedid; Hold's MusicClass is not used): Asterisk raises them on the channel
  whose phone put the call on hold (ast_queue_hold: ARI's ChannelHold "the channel that
  initiated the hold"). So a Hold on the member's leg of an answered call (AgentConnect's
  DestUniqueid), or on another leg whose Linkedid is the caller's Uniqueid (a member
  behind a Local channel), is the agent holding the customer: contact.held, and Unhold
  contact.resumed, of the caller's contact in the answered queue, with the member as
  agent_id. Counted in `ignored` as ``"<event> (<why>)"``, with no event: a Hold on the
  caller's own channel (the customer holding the agent), on a channel of no answered
  queue call or on the leg of an earlier answer of the call, a second Hold while on
  hold, an Unhold while not on hold, and either after the call's end (its
  AgentComplete, or a Hangup of the caller or the member's leg). They are of the
  ``call`` class, like the transfers
- BlindTransfer (Result, TransfererUniqueid, TransfereeUniqueid, Extension, Context) and
  AttendedTransfer (Result, OrigTransfererUniqueid, SecondTransfererUniqueid, DestType,
  the other transferer leg's Exten and Context) of a call a member answered (its caller
  Uniqueid or the member's leg, AgentConnect's DestUniqueid): contact.transferred, kind
  ``blind``, or ``consult`` (``conference`` for DestType Threeway); ``to`` is
  ``extension@context``; target ``queue`` (``to`` the queue) when `transfer_queues` maps
  ``extension@context`` or ``extension`` to one, else ``external`` (blind) or ``agent``
  (attended: the party consulted took it), as the queue_log importer does. A Result other
  than Success, or a call no member answered, gives nothing. These two are of the ``call``
  class: the Login's Events must name it (``agent,call``); the class's other events are
  ignored (counted in `ignored`), not dead letters
- QueueMemberAdded / QueueMemberRemoved / QueueMemberStatus / QueueMemberPause / the
  QueueStatus answer's QueueMember: agent.state_changed with the agent's queues; Paused
  1 is not_ready with ``reason`` = PausedReason (QueueMemberPause's older ``Reason`` too;
  cut to 128 characters), device Status 2, 3, 7, 8 on_contact, 4 and 5 offline, else
  available
- AgentDump, QueueMemberPenalty, QueueMemberRinginuse: contract v1 has nothing for them
  (``not_in_contract``)
- FullyBooted, QueueParams, QueueStatusComplete: the session's own, ignored

What cannot be mapped is returned as `Unmapped` (reason, detail, the message's original
text) for the dead-letter topic: ``not_in_contract``, ``unknown_event``,
``missing_field``, ``invalid_value``. Every event id is a hash of the message's identity
(event name, Uniqueid or member, queue, SystemName, and Timestamp, or the time received
when Asterisk sends none), so the same AMI event seen twice (a reconnect, a second
connector) gives the same id and the worker counts it once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from metrics.config.queues import QUEUE_NAME_PATTERN
from streams.sources.base import Mapped, Unmapped

__all__ = [
    "BANNER_PREFIX",
    "LEAVE_GRACE_MS",
    "NOT_IN_CONTRACT",
    "AmiFramer",
    "AmiMapper",
    "AmiMessage",
    "action",
]

#: The first line an AMI server sends.
BANNER_PREFIX = "Asterisk Call Manager/"
#: How long a QueueCallerLeave waits for its AgentConnect before it counts as a flow-out.
LEAVE_GRACE_MS = 5000
#: A message larger than this is cut off and reported (Asterisk's own are below 4 KiB).
MAX_MESSAGE_BYTES = 64 * 1024
#: Queue events ccmon's contract v1 cannot express.
NOT_IN_CONTRACT: frozenset[str] = frozenset(
    {
        "AgentDump",
        "QueueMemberPenalty",
        "QueueMemberRinginuse",
    }
)
#: Protocol messages of the session itself: neither events to map nor dead letters.
SESSION_EVENTS: frozenset[str] = frozenset({"FullyBooted", "QueueParams", "QueueStatusComplete"})
_MEMBER_EVENTS = frozenset(
    {"QueueMemberAdded", "QueueMemberRemoved", "QueueMemberStatus", "QueueMemberPause"}
)
#: Device states (QueueMemberStatus ``Status``) an agent is busy in, and offline in.
_BUSY_STATUS = frozenset({"2", "3", "7", "8"})
_OFFLINE_STATUS = frozenset({"4", "5"})
#: AgentComplete's Reason -> contact.ended's disconnected_by (``transfer``: no end).
_DISCONNECTED_BY = {"caller": "customer", "agent": "agent"}
_TRANSFERS = frozenset({"BlindTransfer", "AttendedTransfer"})
_HOLDS = frozenset({"Hold", "Unhold"})
#: The longest free text (a pause reason, a transfer's destination) sent on.
_MAX_TEXT = 128
#: Distinct event names `ignored` counts (Asterisk has a few hundred; a bound all the same).
_MAX_IGNORED_NAMES = 512
_K = TypeVar("_K")


@dataclass(frozen=True)
class AmiMessage:
    """One AMI message: its ``Key: Value`` pairs in order, and its original bytes."""

    fields: tuple[tuple[str, str], ...]
    raw: bytes

    def get(self, name: str) -> str | None:
        """The first value of `name` (exact key), or None."""
        for key, value in self.fields:
            if key == name:
                return value
        return None

    @property
    def event(self) -> str | None:
        return self.get("Event")

    @property
    def response(self) -> str | None:
        return self.get("Response")


class AmiFramer:
    """Turns the bytes of a TCP stream into messages, whatever the read sizes.

    The banner line is kept in `banner`. A message over `MAX_MESSAGE_BYTES` is dropped
    and counted in `oversized` (the stream goes on from its end).
    """

    def __init__(self, max_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.banner: str | None = None
        self.oversized = 0
        self._max = max_bytes
        self._buffer = bytearray()
        self._skipping = False

    def feed(self, data: bytes) -> list[AmiMessage]:
        """The messages completed by `data` (none while one is still partial)."""
        self._buffer += data
        out: list[AmiMessage] = []
        if self.banner is None:
            end = self._buffer.find(b"\n")
            if end < 0:
                return out
            self.banner = self._buffer[:end].decode("utf-8", "replace").strip()
            del self._buffer[: end + 1]
        while True:
            end, width = _message_end(self._buffer)
            if end < 0:
                if len(self._buffer) > self._max:
                    self.oversized += 0 if self._skipping else 1
                    self._skipping = True
                    keep = self._buffer[-3:]
                    self._buffer = bytearray(keep)
                return out
            raw = bytes(self._buffer[:end])
            del self._buffer[: end + width]
            if self._skipping:
                self._skipping = False
                continue
            if raw.strip():
                out.append(parse_message(raw))


def _message_end(buffer: bytearray) -> tuple[int, int]:
    """Where the first message ends (the empty line) and the separator's width."""
    found = [(buffer.find(sep), len(sep)) for sep in (b"\r\n\r\n", b"\n\n", b"\n\r\n")]
    hits = [(i, w) for i, w in found if i >= 0]
    if not hits:
        return -1, 0
    return min(hits)


def parse_message(raw: bytes) -> AmiMessage:
    """The ``Key: Value`` pairs of one message (a line without a colon is kept as
    ``("", line)``; values are stripped of the one space after the colon)."""
    pairs: list[tuple[str, str]] = []
    for line in raw.decode("utf-8", "replace").splitlines():
        if not line:
            continue
        key, colon, value = line.partition(":")
        pairs.append((key.strip(), value.strip()) if colon else ("", line))
    return AmiMessage(tuple(pairs), raw)


def action(name: str, fields: Iterable[tuple[str, str]] = ()) -> bytes:
    """The bytes of an AMI action (e.g. ``action("Login", [("Username", "ccmon")])``)."""
    lines = [f"Action: {name}", *(f"{key}: {value}" for key, value in fields)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class _Skip(Exception):
    """The message cannot become an event: why (reason, detail)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass
class _Leave:
    """A QueueCallerLeave waiting to learn whether an AgentConnect follows."""

    uid: str
    queue: str
    time_ms: int
    digest: str
    #: when it was received (the caller's clock; `expire` compares with it)
    seen_ms: int


@dataclass
class _Agent:
    queues: tuple[str, ...] = ()
    paused: bool = False
    #: the pause's reason (PausedReason), None when none was given
    reason: str | None = None
    busy: bool = False
    offline: bool = False
    last: tuple[str, tuple[str, ...], str | None] | None = None


@dataclass(frozen=True)
class _Answered:
    """A call a member answered: where, by whom, over which of the member's channels."""

    queue: str
    agent: str
    leg: str | None


@dataclass
class _Hold:
    """The holds of one answered call: on hold since (None: not now), the time on hold
    of the holds that ended, and when the call ended (no hold after that counts)."""

    since_ms: int | None = None
    held_ms: int = 0
    ended_ms: int | None = None


@dataclass
class AmiMapper:
    """Maps AMI messages one by one; keeps the per-call and per-agent state they need.

    Times are passed in: `received_ms` is used when a message has no ``Timestamp``.
    """

    source: str = "asterisk"
    channel: str = "voice"
    leave_grace_ms: int = LEAVE_GRACE_MS
    #: ``extension@context`` (or ``extension``) a transfer goes to -> the queue it reaches
    transfer_queues: Mapping[str, str] = field(default_factory=dict)
    #: events of another class than app_queue's that nothing maps (``call``), by name,
    #: and the Holds / Unholds that give no event, as ``"<name> (<why>)"``
    ignored: dict[str, int] = field(default_factory=dict)
    _agents: dict[str, _Agent] = field(default_factory=dict)
    _leaves: dict[tuple[str, str], _Leave] = field(default_factory=dict)
    _settled: dict[tuple[str, str], int] = field(default_factory=dict)
    _joined: dict[tuple[str, str], int] = field(default_factory=dict)
    #: (call, queue, member) rung by an AgentCalled and not yet answered or missed
    _offered: dict[tuple[str, str, str], int] = field(default_factory=dict)
    #: answered calls by caller Uniqueid, and the caller of each member leg
    _answered: dict[str, tuple[_Answered, int]] = field(default_factory=dict)
    _legs: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: the holds of each answered call, by caller Uniqueid
    _holds: dict[str, tuple[_Hold, int]] = field(default_factory=dict)
    _received_ms: int = 0

    # -- the public steps --------------------------------------------------------------

    def map(self, message: AmiMessage, received_ms: int) -> Mapped:
        """The events of one message, plus the leaves it makes due (see `expire`): by
        its own Timestamp (Asterisk's clock) or by `received_ms` (the caller's)."""
        out = self._due(self._time_ms(message, received_ms, strict=False), received_ms)
        self._received_ms = received_ms
        name = message.event
        if name is None or name in SESSION_EVENTS:
            return out
        try:
            events = self._map(name, message, self._time_ms(message, received_ms, strict=True))
        except _Skip as skip:
            out.unmapped.append(Unmapped(skip.reason, skip.detail, message.raw))
        else:
            out.events.extend(events)
        return out

    def expire(self, now_ms: int) -> Mapped:
        """Flow-outs of the queue leaves no AgentConnect followed within the grace, on
        the caller's clock (`now_ms` against when each leave was received)."""
        return self._due(None, now_ms)

    def _due(self, event_ms: int | None, now_ms: int) -> Mapped:
        out = Mapped()
        grace = self.leave_grace_ms
        for key, leave in list(self._leaves.items()):
            later = event_ms is not None and event_ms - leave.time_ms >= grace
            if later or now_ms - leave.seen_ms >= grace:
                del self._leaves[key]
                self._settle(key, leave.time_ms)
                data = self._contact_data(leave.uid, leave.queue, reason="ivr_exit")
                out.events.append(
                    self._event(leave.digest, 1, "contact.flowed_out", leave.time_ms, data)
                )
        return out

    # -- mapping -------------------------------------------------------------------------

    def _map(self, name: str, message: AmiMessage, t: int) -> list[dict[str, Any]]:
        if name in NOT_IN_CONTRACT:
            raise _Skip("not_in_contract", f"{name}: contract v1 has no event for it")
        if name == "QueueCallerJoin":
            uid, queue = self._uid(message), self._queue(message)
            self._settled.pop((uid, queue), None)
            _remember(self._joined, (uid, queue), t)
            digest = _digest(message, t, name, uid, queue)
            return [self._event(digest, 1, "contact.queued", t, self._contact_data(uid, queue))]
        if name == "QueueEntry":
            # A caller already waiting when the session began (QueueStatus): queued
            # `Wait` seconds ago. A second contact.queued of a call is harmless: the
            # worker keeps the earliest.
            uid, queue = self._uid(message), self._queue(message)
            since = t - round(self._number(message, "Wait") * 1000)
            _remember(self._joined, (uid, queue), since)
            digest = _digest(message, since, name, uid, queue)
            data = self._contact_data(uid, queue)
            return [self._event(digest, 1, "contact.queued", since, data)]
        if name == "QueueCallerLeave":
            uid, queue = self._uid(message), self._queue(message)
            if (uid, queue) not in self._settled:
                digest = _digest(message, t, name, uid, queue)
                self._leaves[(uid, queue)] = _Leave(uid, queue, t, digest, self._received_ms)
            return []
        if name == "QueueCallerAbandon":
            uid, queue = self._uid(message), self._queue(message)
            wait = self._number(message, "HoldTime")
            self._leaves.pop((uid, queue), None)
            self._settle((uid, queue), t)
            digest = _digest(message, t, name, uid, queue)
            data = self._contact_data(uid, queue)
            events = self._joined_before(digest, uid, queue, t, wait)
            return [*events, self._event(digest, 1, "contact.abandoned", t, data)]
        if name == "AgentCalled":
            uid, queue, agent = self._uid(message), self._queue(message), self._member(message)
            _remember(self._offered, (uid, queue, agent), t)
            digest = _digest(message, t, name, uid, queue, agent)
            data = self._contact_data(uid, queue, agent_id=agent)
            return [self._event(digest, 1, "contact.offered", t, data)]
        if name == "AgentRingNoAnswer":
            uid, queue, agent = self._uid(message), self._queue(message), self._member(message)
            ring_ms = round(self._number(message, "RingTime", 86_400_000, "ms", optional=True))
            digest = _digest(message, t, name, uid, queue, agent)
            events = self._offered_before(digest, uid, queue, agent, t - ring_ms)
            data = self._contact_data(uid, queue, agent_id=agent, outcome="missed")
            return [*events, self._event(digest, 1, "contact.offer_declined", t, data)]
        if name == "AgentConnect":
            uid, queue, agent = self._uid(message), self._queue(message), self._member(message)
            wait = self._number(message, "HoldTime")
            ring_s = self._number(message, "RingTime", optional=True)
            self._leaves.pop((uid, queue), None)
            self._settle((uid, queue), t)
            digest = _digest(message, t, name, uid, queue)
            data = self._contact_data(uid, queue, agent_id=agent)
            events = self._joined_before(digest, uid, queue, t, wait)
            offered_at = t - round(ring_s * 1000)
            events += self._offered_before(digest, uid, queue, agent, offered_at, n=3)
            events.append(self._event(digest, 1, "contact.answered", t, data))
            leg = message.get("DestUniqueid") or None
            _remember(self._answered, uid, (_Answered(queue, agent, leg), t))
            _remember(self._holds, uid, (_Hold(), t))  # each answer's holds are its own
            if leg is not None:
                _remember(self._legs, leg, (uid, t))
            state = self._agents.setdefault(agent, _Agent())
            if queue not in state.queues:
                state.queues = (*state.queues, queue)
            state.busy, state.offline = True, False
            return events + self._agent_event(digest, 2, agent, t)
        if name == "AgentComplete":
            uid, queue, agent = self._uid(message), self._queue(message), self._member(message)
            talk = self._number(message, "TalkTime")
            digest = _digest(message, t, name, uid, queue)
            events = []
            side = _DISCONNECTED_BY.get((message.get("Reason") or "").strip().lower())
            if side is not None:
                ended = self._contact_data(uid, queue, disconnected_by=side, agent_id=agent)
                events.append(self._event(digest, 3, "contact.ended", t, ended))
            # TalkTime runs from the connect to the end, holds included: split it.
            hold = min(talk, self._hold_seconds(uid, t))
            data = self._contact_data(
                uid, queue, talk_s=round(talk - hold, 3), hold_s=hold, acw_s=0, agent_id=agent
            )
            events.append(self._event(digest, 1, "contact.wrapup_completed", t, data))
            state = self._agents.setdefault(agent, _Agent())
            state.busy = False
            return events + self._agent_event(digest, 2, agent, t)
        if name in _MEMBER_EVENTS or name == "QueueMember":
            return self._member_event(name, message, t)
        if name in _TRANSFERS:
            return self._transfer(name, message, t)
        if name in _HOLDS:
            return self._hold(name, message, t)
        if name == "Hangup":
            self._hung_up(message, t)
        if not _agent_class(message):
            # Another class's event (``call``, asked for the transfers): not for ccmon.
            return self._ignore(name)
        raise _Skip("unknown_event", f"{name}: not an event ccmon maps")

    def _transfer(self, name: str, message: AmiMessage, t: int) -> list[dict[str, Any]]:
        """contact.transferred of a call a member answered (nothing for other calls, or
        for a transfer that did not succeed)."""
        if (message.get("Result") or "").strip() != "Success":
            return []
        uids: tuple[str, ...]
        if name == "BlindTransfer":
            uids = ("TransfereeUniqueid", "TransfererUniqueid")
        else:
            uids = ("TransfereeUniqueid", "OrigTransfererUniqueid", "SecondTransfererUniqueid")
        found = self._answered_call(message, uids)
        if found is None:
            return []
        uid, call, via = found
        if name == "BlindTransfer":
            kind = "blind"
            to = _place(message.get("Extension"), message.get("Context"))
        else:
            threeway = (message.get("DestType") or "").strip().lower() == "threeway"
            kind = "conference" if threeway else "consult"
            # The consulting leg is the transferer leg that is not the call's own.
            other = "Second" if via != "SecondTransfererUniqueid" else "Orig"
            if via == "TransfereeUniqueid" and call.leg == message.get("SecondTransfererUniqueid"):
                other = "Orig"
            to = _place(
                message.get(f"{other}TransfererExten"), message.get(f"{other}TransfererContext")
            )
        moved: dict[str, Any] = {"kind": kind}
        queue = self._transfer_queue(to)
        if queue is not None:
            moved |= {"target": "queue", "to": queue}
        else:
            moved["target"] = "external" if kind == "blind" else "agent"
            if to:
                moved["to"] = to
        digest = _digest(message, t, name, uid, call.queue)
        data = self._contact_data(uid, call.queue, **moved, agent_id=call.agent)
        return [self._event(digest, 1, "contact.transferred", t, data)]

    def _hold(self, name: str, message: AmiMessage, t: int) -> list[dict[str, Any]]:
        """contact.held / contact.resumed of an answered queue call whose member's side
        put the caller on hold (see the module notes); anything else is counted in
        `ignored` under ``"<name> (<why>)"``."""
        uid = self._uid(message)
        if uid in self._answered:
            return self._ignore(f"{name} (the caller's own channel)")
        if uid in self._legs:
            caller: str | None = self._legs[uid][0]
        else:
            # Another leg of the call (the member's phone behind a Local channel).
            caller = message.get("Linkedid") or None
        if caller is None or caller not in self._answered or caller not in self._holds:
            return self._ignore(f"{name} (no answered call)")
        call, state = self._answered[caller][0], self._holds[caller][0]
        if uid in self._legs and call.leg != uid:
            return self._ignore(f"{name} (an earlier answer's leg)")
        if state.ended_ms is not None:
            return self._ignore(f"{name} (after the end)")
        if (name == "Hold") == (state.since_ms is not None):
            return self._ignore(f"{name} ({'already' if name == 'Hold' else 'not'} on hold)")
        if name == "Hold":
            state.since_ms = t
        else:
            state.held_ms += max(0, t - (state.since_ms or t))
            state.since_ms = None
        kind = "contact.held" if name == "Hold" else "contact.resumed"
        digest = _digest(message, t, name, caller, call.queue, uid)
        data = self._contact_data(caller, call.queue, agent_id=call.agent)
        return [self._event(digest, 1, kind, t, data)]

    def _hung_up(self, message: AmiMessage, t: int) -> None:
        """A Hangup of an answered call's caller or member leg ends its holds (the hold
        time counts up to here; a later Hold or Unhold is ignored)."""
        uid = message.get("Uniqueid") or ""
        caller = self._legs[uid][0] if uid in self._legs else uid
        found, answered = self._holds.get(caller), self._answered.get(caller)
        # Only the current answer's legs: a leg left by a transfer says nothing of the next.
        if found is None or answered is None or uid not in (caller, answered[0].leg):
            return
        if found[0].ended_ms is None:
            found[0].ended_ms = t

    def _hold_seconds(self, uid: str, t: int) -> float:
        """The call's time on hold until its end (a hold still on at the end counts up to
        it); the call's holds are over from here."""
        found = self._holds.get(uid)
        if found is None:
            return 0
        state = found[0]
        end = t if state.ended_ms is None else min(t, state.ended_ms)
        state.ended_ms = end
        since = state.since_ms
        return (state.held_ms + (max(0, end - since) if since is not None else 0)) / 1000

    def _ignore(self, name: str) -> list[dict[str, Any]]:
        """No event: counted in `ignored` under `name` (a bounded number of names)."""
        if name in self.ignored or len(self.ignored) < _MAX_IGNORED_NAMES:
            self.ignored[name] = self.ignored.get(name, 0) + 1
        return []

    def _answered_call(
        self, message: AmiMessage, fields: tuple[str, ...]
    ) -> tuple[str, _Answered, str] | None:
        """The answered call a transfer names (by the caller's Uniqueid or a member's leg),
        and which field named it."""
        for name in fields:
            value = message.get(name)
            if not value:
                continue
            if value in self._answered:
                return value, self._answered[value][0], name
            if value in self._legs:
                uid = self._legs[value][0]
                if uid in self._answered:
                    return uid, self._answered[uid][0], name
        return None

    def _transfer_queue(self, to: str) -> str | None:
        """The queue `transfer_queues` names for ``extension@context``, else for the
        extension alone."""
        if not to:
            return None
        found = self.transfer_queues.get(to)
        if found is None and "@" in to:
            found = self.transfer_queues.get(to.partition("@")[0])
        return found

    def _member_event(self, name: str, message: AmiMessage, t: int) -> list[dict[str, Any]]:
        queue, agent = self._queue(message), self._member(message)
        state = self._agents.setdefault(agent, _Agent())
        if name == "QueueMemberRemoved":
            state.queues = tuple(q for q in state.queues if q != queue)
        elif queue not in state.queues:
            state.queues = (*state.queues, queue)
        paused = message.get("Paused")
        if paused is not None:
            if paused not in ("0", "1"):
                raise _Skip("invalid_value", f"{name}: Paused {paused!r} is neither 0 nor 1")
            state.paused = paused == "1"
            given = message.get("PausedReason")
            if not given and name == "QueueMemberPause":
                given = message.get("Reason")  # the older name (Asterisk 13-16 send both)
            given = (given or "").strip()[:_MAX_TEXT] or None
            if not state.paused:
                state.reason = None
            elif given is not None or name == "QueueMemberPause":
                # A pause says its reason (or that it has none); a status keeps the last.
                state.reason = given
        status = message.get("Status")
        if status is not None and name != "QueueMemberRemoved":
            state.busy = status in _BUSY_STATUS
            state.offline = status in _OFFLINE_STATUS
        digest = _digest(message, t, name, agent, queue)
        return self._agent_event(digest, 1, agent, t)

    def _agent_event(self, digest: str, n: int, agent: str, t: int) -> list[dict[str, Any]]:
        state = self._agents[agent]
        if not state.queues or state.offline:
            now = "offline"
        elif state.busy:
            now = "on_contact"
        elif state.paused:
            now = "not_ready"
        else:
            now = "available"
        reason = state.reason if now == "not_ready" else None
        if state.last == (now, state.queues, reason):
            return []
        state.last = (now, state.queues, reason)
        data: dict[str, Any] = {
            "agent_id": agent,
            "state": now,
            "queues": list(state.queues),
            "channels": [self.channel],
        }
        if reason is not None:
            data["reason"] = reason
        return [self._event(digest, n, "agent.state_changed", t, data)]

    def _joined_before(
        self, digest: str, uid: str, queue: str, t: int, wait: float
    ) -> list[dict[str, Any]]:
        """A contact.queued made from the wait, for a call whose join this mapper did not
        see (it joined before the connector started); event number 0."""
        if (uid, queue) in self._joined:
            return []
        since = t - round(wait * 1000)
        _remember(self._joined, (uid, queue), since)
        return [self._event(digest, 0, "contact.queued", since, self._contact_data(uid, queue))]

    def _offered_before(
        self, digest: str, uid: str, queue: str, agent: str, since: int, n: int = 0
    ) -> list[dict[str, Any]]:
        """A contact.offered at `since` for an answer or a miss whose AgentCalled this
        mapper did not see; the ring is over either way."""
        if self._offered.pop((uid, queue, agent), None) is not None:
            return []
        data = self._contact_data(uid, queue, agent_id=agent)
        return [self._event(digest, n, "contact.offered", since, data)]

    # -- fields ---------------------------------------------------------------------------

    def _settle(self, key: tuple[str, str], t: int) -> None:
        """Remember the call left its queue answered or abandoned (its later Leave is
        consumed); settled calls older than an hour are forgotten."""
        _remember(self._settled, key, t)

    def _contact_data(self, uid: str, queue: str, **extra: Any) -> dict[str, Any]:
        return {"contact_id": uid, "queue": queue, "channel": self.channel, **extra}

    def _event(
        self, digest: str, n: int, kind: str, t: int, data: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "id": f"ami:{digest}:{n}",
            "type": kind,
            "time": iso_ms(t),
            "source": self.source,
            "data": data,
        }

    @staticmethod
    def _required(message: AmiMessage, name: str) -> str:
        value = message.get(name)
        if value is None or not value:
            raise _Skip("missing_field", f"{message.event}: {name} is required")
        return value

    def _uid(self, message: AmiMessage) -> str:
        uid = self._required(message, "Uniqueid")
        if len(uid) > 128:
            raise _Skip("invalid_value", f"{message.event}: Uniqueid is over 128 characters")
        return uid

    def _queue(self, message: AmiMessage) -> str:
        queue = self._required(message, "Queue")
        if not QUEUE_NAME_PATTERN.match(queue):
            raise _Skip(
                "invalid_value", f"{message.event}: Queue {queue!r} is not a ccmon queue name"
            )
        return queue

    def _member(self, message: AmiMessage) -> str:
        # QueueMember (the QueueStatus answer) names the member `Name`, the events `MemberName`.
        member = message.get("MemberName") or message.get("Name") or message.get("Interface")
        if not member:
            raise _Skip("missing_field", f"{message.event}: MemberName is required")
        if len(member) > 128:
            raise _Skip("invalid_value", f"{message.event}: MemberName is over 128 characters")
        return member

    @staticmethod
    def _number(
        message: AmiMessage,
        name: str,
        most: int = 86400,
        unit: str = "s",
        optional: bool = False,
    ) -> float:
        """Field `name` as a number from 0 to `most` (0 when `optional` and absent)."""
        if optional and not message.get(name):
            return 0.0
        text = AmiMapper._required(message, name)
        try:
            value = float(text)
        except ValueError:
            raise _Skip(
                "invalid_value", f"{message.event}: {name} {text!r} is not a number"
            ) from None
        if not 0 <= value <= most:
            raise _Skip("invalid_value", f"{message.event}: {name} {text!r} is not 0-{most} {unit}")
        return value

    @staticmethod
    def _time_ms(message: AmiMessage, received_ms: int, strict: bool) -> int:
        text = message.get("Timestamp")
        if text is None:
            return received_ms
        try:
            return round(float(text) * 1000)
        except ValueError:
            if strict:
                raise _Skip("invalid_value", f"Timestamp {text!r} is not epoch seconds") from None
            return received_ms


def _remember(seen: dict[_K, Any], key: _K, value: Any) -> None:
    """Note `key` with `value` (a time in ms, or a pair ending in one); beyond 10,000
    keys, those older than a day are forgotten."""
    seen[key] = value
    if len(seen) > 10_000:
        t = _stamp(value)
        horizon = t - 86_400_000
        for old in [k for k, v in seen.items() if _stamp(v) < horizon]:
            del seen[old]


def _stamp(value: Any) -> int:
    stamp: int = value[-1] if isinstance(value, tuple) else value
    return stamp


def _agent_class(message: AmiMessage) -> bool:
    """Whether the event is of app_queue's class (``agent``) or names none."""
    privilege = message.get("Privilege")
    if privilege is None:
        return True
    return "agent" in {part.strip().lower() for part in privilege.split(",")}


def _place(extension: str | None, context: str | None) -> str:
    """``extension@context`` (or the extension alone), cut to 128 characters."""
    extension, context = (extension or "").strip(), (context or "").strip()
    if not extension:
        return ""
    return (f"{extension}@{context}" if context else extension)[:_MAX_TEXT]


def _digest(message: AmiMessage, t: int, *parts: str) -> str:
    """The event's identity, hashed: name, call or member, queue, the server's system name
    and Timestamp (without ``timestampevents`` the time it was received, `t`)."""
    stamp = message.get("Timestamp") or str(t)
    system = message.get("SystemName") or ""
    material = "\x1f".join((*parts, system, stamp))
    return hashlib.sha256(material.encode()).hexdigest()[:24]


def iso_ms(ms: int) -> str:
    """RFC 3339 UTC text with milliseconds (the contract's event time)."""
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
