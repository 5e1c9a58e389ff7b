"""Asterisk app_queue `queue_log` lines as ccmon events (pure).

A line is `time|callid|queue|agent|event|data1|data2|...`; `time` is epoch seconds or
`YYYY-MM-DD HH:MM:SS[.ffffff]` (in the given zone). Mapping:

- ENTERQUEUE: contact.queued
- CONNECT (holdtime|bridged channel|ringtime): contact.offered to the agent when the ring
  began (ringtime seconds earlier; at the CONNECT itself when the line has no ringtime),
  contact.answered (agent) and the agent on_contact
- RINGNOANSWER (ringtime in ms): the member let it ring: contact.offered when the ring
  began and contact.offer_declined (outcome missed) now
- ABANDON: contact.abandoned
- EXITWITHTIMEOUT, EXITEMPTY, EXITWITHKEY: contact.flowed_out, reason from
  `exit_reasons` (default ivr_exit: the call went on in the dialplan)
- COMPLETECALLER, COMPLETEAGENT (holdtime|calltime|origposition): contact.ended
  (disconnected_by customer / agent), contact.wrapup_completed with talk = calltime, and
  the agent available (not_ready if paused meanwhile)
- BLINDTRANSFER (extension|context|holdtime|calltime|origposition) and the older
  TRANSFER (same fields): contact.transferred kind blind; ATTENDEDTRANSFER
  (method|method data...|holdtime|calltime|origposition): kind consult, or conference
  for method THREEWAY. `to` is `extension@context` (blind) and the target is a queue
  when `transfer_queues` maps that text to a queue name, else external (blind) or agent
  (attended: the party consulted took it). Then as a completion (wrap-up, agent free),
  without contact.ended: the call goes on; a transfer into another queue arrives as that
  queue's own ENTERQUEUE
- ADDMEMBER, REMOVEMEMBER: agent.state_changed with the new queue list (offline when
  none is left)
- AGENTLOGIN, AGENTLOGOFF: the agent available / offline
- PAUSE(ALL) (reason), UNPAUSE(ALL): the agent not_ready with `reason` (the PAUSE data
  field, when not empty) / available, after the call in hand
- RINGCANCELED, DID, INFO, CONFIGRELOAD, QUEUESTART, AGENTDUMP: nothing for contract v1;
  counted as ignored, by kind
- holds: app_queue writes no hold record to the queue_log, so there is no contact.held
  or contact.resumed and the wrap-up's hold_s is 0 (AMI's Hold / Unhold: asterisk_ami)

When a CONNECT, ABANDON or EXIT* comes for a call whose ENTERQUEUE is not in the file
(a rotated log), its contact.queued is made from the wait the line carries. Lines that
cannot be read, and unknown event names, are reported with their line numbers.

Event ids are `<prefix>:<line>:<n>`; with `content_ids` (`--follow`, which reads lines
again after a rotation or a restart) `<prefix>:<hash of the line>:<n>`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from collections.abc import Iterable, Mapping
from typing import Any

from metrics.config.queues import QUEUE_NAME_PATTERN
from streams.producers.importers.common import EventBuilder, ImportResult, LineProblem, TimedEvent

__all__ = ["DEFAULT_EXIT_REASONS", "IGNORED", "QueueLogImporter", "import_queue_log"]

#: queue_log events that carry nothing for ccmon's contract v1.
IGNORED: frozenset[str] = frozenset(
    {"RINGCANCELED", "DID", "INFO", "CONFIGRELOAD", "QUEUESTART", "AGENTDUMP"}
)
#: Flow-out reason of each queue exit that is neither an answer nor an abandon.
DEFAULT_EXIT_REASONS: Mapping[str, str] = {
    "EXITWITHTIMEOUT": "ivr_exit",
    "EXITEMPTY": "ivr_exit",
    "EXITWITHKEY": "ivr_exit",
}
#: Which data field holds the wait (seconds) of each queue-leaving event (1-based).
_WAIT_FIELD = {"CONNECT": 1, "ABANDON": 3, "EXITWITHTIMEOUT": 3, "EXITEMPTY": 3, "EXITWITHKEY": 4}
_ENDS = {"COMPLETECALLER", "COMPLETEAGENT", "TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"}
#: Who hung up, by completion event.
_DISCONNECTED_BY = {"COMPLETECALLER": "customer", "COMPLETEAGENT": "agent"}


class _Bad(ValueError):
    pass


class QueueLogImporter:
    """Feeds lines one by one (keeps per-call and per-agent state between them)."""

    def __init__(
        self,
        source: str = "asterisk",
        id_prefix: str = "queue_log",
        zone: str = "UTC",
        channel: str = "voice",
        exit_reasons: Mapping[str, str] = DEFAULT_EXIT_REASONS,
        keep_events: bool = True,
        content_ids: bool = False,
        transfer_queues: Mapping[str, str] | None = None,
    ) -> None:
        self.keep_events = keep_events
        #: ids from the line's text instead of its number (`--follow`: a line read again
        #: from a rotated file or after a restart gets the same id)
        self.content_ids = content_ids
        self._digest = ""
        self.build = EventBuilder(source, id_prefix)
        self.zone = zoneinfo.ZoneInfo(zone)
        self.channel = channel
        self.exit_reasons = exit_reasons
        #: `extension@context` of a transfer -> the ccmon queue it reaches
        self.transfer_queues = dict(transfer_queues or {})
        self.result = ImportResult()
        self._entered: set[tuple[str, str]] = set()
        self._members: dict[str, tuple[str, ...]] = {}
        self._state: dict[str, tuple[str, tuple[str, ...], str | None]] = {}
        #: paused agents and the reason their PAUSE gave (None: none given)
        self._paused: dict[str, str | None] = {}
        self._busy: set[str] = set()
        self._out: list[TimedEvent] = []

    # -- parsing --------------------------------------------------------------------

    def _time_ms(self, text: str) -> int:
        try:
            return round(float(text) * 1000)
        except ValueError:
            pass
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise _Bad(f"time {text!r} is neither epoch seconds nor YYYY-MM-DD HH:MM:SS") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        return round(moment.timestamp() * 1000)

    @staticmethod
    def _seconds(data: list[str], index: int, what: str) -> float:
        """Data field `index` (1-based; negative from the end) as seconds."""
        try:
            text = data[index - 1] if index > 0 else data[index]
            value = float(text)
        except (IndexError, ValueError):
            raise _Bad(f"{what} (data field {index}) is missing or not a number") from None
        if value < 0:
            raise _Bad(f"{what} must not be negative")
        return value

    # -- feeding --------------------------------------------------------------------

    def feed(self, number: int, line: str) -> list[TimedEvent]:
        """The events of one line (none for blank, ignored or broken lines)."""
        self.result.lines += 1
        text = line.rstrip("\r\n")
        if not text.strip():
            return []
        parts = text.split("|")
        if len(parts) < 5:
            self._problem(number, f"expected time|callid|queue|agent|event|..., got {text!r}")
            return []
        stamp, callid, queue, agent, kind, *data = parts
        if self.content_ids:
            self._digest = hashlib.sha256(text.encode()).hexdigest()[:20]
        self._out = []
        self._line, self._n = number, 0
        try:
            self._apply(self._time_ms(stamp), callid, queue, agent, kind.strip(), data)
        except _Bad as exc:
            self._problem(number, f"{kind}: {exc}")
            return []
        if self.keep_events:
            self.result.events.extend(self._out)
        return self._out

    def _problem(self, number: int, message: str) -> None:
        self.result.problems.append(LineProblem(number, message))

    def _emit(self, kind: str, t: int, data: dict[str, Any]) -> None:
        self._n += 1
        made = self.build.event(self._line, self._n, kind, t, data)
        if self.content_ids:
            made[2]["id"] = f"{self.build.id_prefix}:{self._digest}:{self._n}"
        self._out.append(made)

    # -- state across restarts (`--follow` keeps it in its checkpoint) -------------

    def agent_state(self) -> dict[str, Any]:
        """What the agents' next events depend on: queues, states, pauses, calls in hand."""
        return {
            "members": {a: list(q) for a, q in self._members.items()},
            "state": {a: [s, list(q), r] for a, (s, q, r) in self._state.items()},
            "paused": sorted(self._paused),
            "pause_reasons": {a: r for a, r in sorted(self._paused.items()) if r is not None},
            "busy": sorted(self._busy),
        }

    def restore_agent_state(self, saved: Mapping[str, Any]) -> None:
        """Take back what `agent_state` returned (a restarted follower)."""
        self._members = {a: tuple(q) for a, q in saved.get("members", {}).items()}
        self._state = {
            a: (entry[0], tuple(entry[1]), entry[2] if len(entry) > 2 else None)
            for a, entry in saved.get("state", {}).items()
        }
        reasons = saved.get("pause_reasons", {})
        self._paused = {a: reasons.get(a) for a in saved.get("paused", ())}
        self._busy = set(saved.get("busy", ()))

    def _contact(self, kind: str, t: int, callid: str, queue: str, /, **extra: Any) -> None:
        data = {"contact_id": callid, "queue": queue, "channel": self.channel, **extra}
        self._emit(kind, t, data)

    def _queue(self, queue: str) -> str:
        if not QUEUE_NAME_PATTERN.match(queue):
            raise _Bad(f"queue {queue!r} is not a valid ccmon queue name")
        return queue

    def _callid(self, callid: str) -> str:
        if not 0 < len(callid) <= 128 or callid == "NONE":
            raise _Bad(f"call id {callid!r} is missing or too long")
        return callid

    def _agent(self, agent: str) -> str:
        if not 0 < len(agent) <= 128 or agent == "NONE":
            raise _Bad(f"agent {agent!r} is missing or too long")
        return agent

    def _apply(
        self, t: int, callid: str, queue: str, agent: str, kind: str, data: list[str]
    ) -> None:
        if kind in IGNORED:
            self.result.ignored[kind] += 1
        elif kind == "ENTERQUEUE":
            self._contact("contact.queued", t, self._callid(callid), self._queue(queue))
            self._entered.add((callid, queue))
        elif kind == "RINGNOANSWER":
            self._ring_no_answer(t, self._callid(callid), self._queue(queue), agent, data)
        elif kind in _WAIT_FIELD:
            self._leave(t, self._callid(callid), self._queue(queue), agent, kind, data)
        elif kind in _ENDS:
            self._end(t, self._callid(callid), self._queue(queue), self._agent(agent), kind, data)
        elif kind in ("ADDMEMBER", "REMOVEMEMBER"):
            self._membership(t, self._agent(agent), self._queue(queue), kind == "ADDMEMBER")
        elif kind in ("AGENTLOGIN", "AGENTLOGOFF", "AGENTCALLBACKLOGIN", "AGENTCALLBACKLOGOFF"):
            agent = self._agent(agent)
            self._busy.discard(agent)
            self._set_agent(t, agent, "offline" if kind.endswith("LOGOFF") else "available")
        elif kind in ("PAUSE", "PAUSEALL"):
            agent = self._agent(agent)
            self._paused[agent] = (data[0].strip() if data else "") or None
            if agent not in self._busy:
                self._set_agent(t, agent, "not_ready")
        elif kind in ("UNPAUSE", "UNPAUSEALL"):
            agent = self._agent(agent)
            self._paused.pop(agent, None)
            if agent not in self._busy:
                self._set_agent(t, agent, "available")
        else:
            raise _Bad("unknown queue_log event")

    def _leave(
        self, t: int, callid: str, queue: str, agent: str, kind: str, data: list[str]
    ) -> None:
        wait = self._seconds(data, _WAIT_FIELD[kind], "wait")
        if (callid, queue) not in self._entered:
            # Its ENTERQUEUE is not in this file: the line's own wait says when it came.
            self._contact("contact.queued", t - round(wait * 1000), callid, queue)
            self._entered.add((callid, queue))
        if kind == "CONNECT":
            agent = self._agent(agent)
            ring_s = self._seconds(data, 3, "ring time") if len(data) >= 3 and data[2] else 0.0
            offered_at = t - round(ring_s * 1000)
            self._contact("contact.offered", offered_at, callid, queue, agent_id=agent)
            self._contact("contact.answered", t, callid, queue, agent_id=agent)
            if queue not in self._members.get(agent, ()):
                self._members[agent] = (*self._members.get(agent, ()), queue)
            self._busy.add(agent)
            self._set_agent(t, agent, "on_contact")
        elif kind == "ABANDON":
            self._contact("contact.abandoned", t, callid, queue)
        else:
            reason = self.exit_reasons.get(kind, "ivr_exit")
            self._contact("contact.flowed_out", t, callid, queue, reason=reason)

    def _ring_no_answer(self, t: int, callid: str, queue: str, agent: str, data: list[str]) -> None:
        agent = self._agent(agent)
        ring_ms = round(self._seconds(data, 1, "ring time (ms)"))
        self._contact("contact.offered", t - ring_ms, callid, queue, agent_id=agent)
        self._contact("contact.offer_declined", t, callid, queue, agent_id=agent, outcome="missed")

    def _end(self, t: int, callid: str, queue: str, agent: str, kind: str, data: list[str]) -> None:
        if kind in ("COMPLETECALLER", "COMPLETEAGENT"):
            talk = self._seconds(data, 2, "call time")
            side = _DISCONNECTED_BY[kind]
            self._contact("contact.ended", t, callid, queue, disconnected_by=side, agent_id=agent)
        else:  # the transfers: ..., holdtime, calltime, origposition
            talk = self._seconds(data, -2, "call time")
            moved = self._transfer(kind, data)
            self._contact("contact.transferred", t, callid, queue, **moved, agent_id=agent)
        self._contact(
            "contact.wrapup_completed",
            t,
            callid,
            queue,
            talk_s=talk,
            hold_s=0,
            acw_s=0,
            agent_id=agent,
        )
        self._busy.discard(agent)
        if self._state.get(agent, ("offline", (), None))[0] == "on_contact":
            self._set_agent(t, agent, "not_ready" if agent in self._paused else "available")

    def _transfer(self, kind: str, data: list[str]) -> dict[str, Any]:
        """kind, target and `to` of a transfer line (the agent is added by the caller)."""
        if kind == "ATTENDEDTRANSFER":
            method = data[0].strip().upper() if data else ""
            return {"kind": "conference" if method == "THREEWAY" else "consult", "target": "agent"}
        extension = data[0].strip() if data else ""
        context = data[1].strip() if len(data) > 1 else ""
        to = f"{extension}@{context}" if context else extension
        queue = self.transfer_queues.get(to)
        if queue is not None:
            return {"kind": "blind", "target": "queue", "to": queue}
        return {"kind": "blind", "target": "external"} | ({"to": to} if to else {})

    def _membership(self, t: int, agent: str, queue: str, add: bool) -> None:
        members = [q for q in self._members.get(agent, ()) if q != queue]
        if add:
            members.append(queue)
        self._members[agent] = tuple(members)
        current = self._state.get(agent, ("offline", (), None))[0]
        if not members:
            self._set_agent(t, agent, "offline")
        elif current == "offline":
            self._set_agent(t, agent, "not_ready" if agent in self._paused else "available")
        else:
            self._set_agent(t, agent, current)

    def _set_agent(self, t: int, agent: str, state: str) -> None:
        queues = self._members.get(agent, ())
        reason = self._paused.get(agent) if state == "not_ready" else None
        if self._state.get(agent) == (state, queues, reason):
            return
        self._state[agent] = (state, queues, reason)
        data: dict[str, Any] = {"agent_id": agent, "state": state, "queues": list(queues)}
        data["channels"] = [self.channel]
        if reason is not None:
            data["reason"] = reason
        self._emit("agent.state_changed", t, data)


def import_queue_log(lines: Iterable[str], **options: Any) -> ImportResult:
    """Convert a whole queue_log; `options` are QueueLogImporter's."""
    importer = QueueLogImporter(**options)
    for number, line in enumerate(lines, start=1):
        importer.feed(number, line)
    return importer.result
