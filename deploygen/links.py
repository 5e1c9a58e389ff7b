"""Where the links in alert annotations point: Grafana and the runbooks.

Both are generator options (`python -m deploygen write --grafana-url URL --runbook-url
URL`), because only the team that runs ccmon knows where its Grafana and its copy of
docs/runbooks.md are published. The defaults fit the compose stack and this repository.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LINKS", "Links", "runbook_anchor"]


def runbook_anchor(alert: str) -> str:
    """The anchor of an alert's section in docs/runbooks.md (a `## <alert>` heading, as
    GitHub, GitLab and most Markdown renderers slug it: lower case)."""
    return alert.lower()


@dataclass(frozen=True)
class Links:
    """The base URLs of the dashboard and runbook links."""

    #: Grafana as on-call opens it (compose publishes it on localhost:3000).
    grafana_url: str = "http://localhost:3000"
    #: The runbooks page; each alert links to its own section (`#<alert name, lower case>`).
    runbook_url: str = "docs/runbooks.md"

    def board(self, uid: str, slug: str, queue: bool = True) -> str:
        """A dashboard link; with `queue`, opened on the alert's queue."""
        var = "?var-queue={{ $labels.queue }}" if queue else ""
        return f"{self.grafana_url.rstrip('/')}/d/{uid}/{slug}{var}"

    def runbook(self, alert: str) -> str:
        return f"{self.runbook_url}#{runbook_anchor(alert)}"


DEFAULT_LINKS = Links()
