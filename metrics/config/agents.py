"""The agents directory: an optional YAML file that gives agents names, teams, queues and
a default capacity, validated with messages naming file, line and field.

Events say what an agent does; this file says who the agent is. Teams are a bounded label
set declared in the queues file (`teams:`): a team the queues file does not declare is
refused here, so a typo never becomes a new Prometheus label.

```yaml
agents:
  a-17: {name: Ada Lovelace, team: team-a, queues: [sales], capacity: {voice: 1, chat: 3}}
```
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from metrics.config.queues import ChannelName, Code, QueueName
from metrics.config.yaml_model import YamlModelError, load_yaml_model

__all__ = [
    "AgentEntry",
    "AgentsConfigError",
    "AgentsDirectory",
    "MAX_AGENT_CAPACITY",
    "load_agents",
    "parse_agents_yaml",
]

#: The most contacts of one channel an agent takes at once (as in agent.state_changed).
MAX_AGENT_CAPACITY = 50

_AgentId = Annotated[str, Field(min_length=1, max_length=128)]


class AgentEntry(BaseModel):
    """One agent: display name, team, the queues (skills) served, capacity per channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(None, min_length=1, max_length=128)
    team: Code | None = None
    queues: tuple[QueueName, ...] = ()
    capacity: dict[ChannelName, Annotated[int, Field(ge=0, le=MAX_AGENT_CAPACITY)]] = {}

    @field_validator("team")
    @classmethod
    def _declared_team(cls, value: str | None, info: ValidationInfo) -> str | None:
        teams: Collection[str] | None = (info.context or {}).get("teams")
        if value is not None and teams is not None and value not in teams:
            raise ValueError(
                f"team {value!r} is not one of the queues file's teams {sorted(teams)}"
            )
        return value

    @property
    def capacity_pairs(self) -> tuple[tuple[str, int], ...]:
        """(channel, capacity) sorted by channel, the shape of AgentStateChanged.capacity."""
        return tuple(sorted(self.capacity.items()))


class AgentsDirectory(BaseModel):
    """Every agent the file lists, by agent id; agents not listed still count by their id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agents: dict[_AgentId, AgentEntry] = {}

    @field_validator("agents", mode="before")
    @classmethod
    def _numeric_ids(cls, value: Any) -> Any:
        """`1001:` in YAML is an integer key; agent ids are text (as in the events)."""
        if value is None:  # `agents:` with nothing under it
            return {}
        if isinstance(value, Mapping):
            return {
                str(k) if isinstance(k, int) and not isinstance(k, bool) else k: v
                for k, v in value.items()
            }
        return value

    def get(self, agent_id: str) -> AgentEntry | None:
        return self.agents.get(agent_id)

    def team_of(self, agent_id: str) -> str | None:
        entry = self.agents.get(agent_id)
        return None if entry is None else entry.team


class AgentsConfigError(YamlModelError):
    """The agents file is invalid; the message names the file, line and field."""


def parse_agents_yaml(
    text: str, source: str = "<agents>", teams: Iterable[str] = ()
) -> AgentsDirectory:
    """Parse and validate the agents YAML against the queues file's `teams`; raise
    AgentsConfigError with file:line: field on any problem."""
    declared = frozenset(teams)

    def context(_: Mapping[str, Any]) -> dict[str, Any]:
        return {"teams": declared}

    return load_yaml_model(
        AgentsDirectory,
        text,
        source,
        error=AgentsConfigError,
        context=context,
        expected="a mapping with 'agents'",
    )


def load_agents(path: Path | str, teams: Iterable[str] = ()) -> AgentsDirectory:
    """Read and validate the agents file at `path` (`CCMON_AGENTS_FILE`)."""
    text = Path(path).read_text(encoding="utf-8")
    return parse_agents_yaml(text, str(path), teams)
