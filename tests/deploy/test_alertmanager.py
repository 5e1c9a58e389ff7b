"""amtool validates the config and its routes; a real Alertmanager applies the inhibitions."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from streams.localservers.process import ManagedProcess, free_port
from tests.deploy.tools import tool

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy/alertmanager/alertmanager.yml"


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("amtool"), *args], capture_output=True, text=True, check=False, cwd=ROOT
    )


def test_amtool_accepts_the_config() -> None:
    result = amtool("check-config", str(CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr


ROUTES = [
    ("oncall-pager", ["severity=page", "queue=sales", "alertname=CcmonContactWaitingTooLong"]),
    ("oncall-pager", ["severity=page", "queue=all", "alertname=CcmonRedisDown"]),
    ("ops-tickets", ["severity=ticket", "queue=sales", "alertname=CcmonAbandonmentHigh"]),
    ("ops-tickets", ["severity=ticket", "queue=billing", "alertname=CcmonTicketSlaBreaching"]),
    ("ops-log", ["queue=sales", "alertname=SomethingWithoutSeverity"]),
]


@pytest.mark.parametrize(("receiver", "labels"), ROUTES)
def test_routes(receiver: str, labels: list[str]) -> None:
    result = amtool(
        "config",
        "routes",
        "test",
        f"--config.file={CONFIG}",
        f"--verify.receivers={receiver}",
        *labels,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = tool("alertmanager")
    workdir = tmp_path_factory.mktemp("alertmanager")
    port = free_port()
    proc = ManagedProcess(
        "alertmanager",
        [
            binary,
            f"--config.file={CONFIG}",
            f"--storage.path={workdir}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        workdir / "alertmanager.log",
    )
    proc.start()
    url = f"http://127.0.0.1:{port}"
    try:
        proc.wait_ready(
            lambda: urllib.request.urlopen(f"{url}/-/ready", timeout=1).status == 200,
            timeout_s=30,
            what="alertmanager",
        )
        yield url
    finally:
        proc.stop()


def _post(url: str, alerts: list[dict[str, Any]]) -> None:
    body = json.dumps(alerts).encode()
    req = urllib.request.Request(
        f"{url}/api/v2/alerts", body, {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 200


def _alert(**labels: str) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return {
        "labels": labels,
        "annotations": {"summary": "test"},
        "startsAt": now.isoformat(),
        "endsAt": (now + dt.timedelta(minutes=10)).isoformat(),
    }


def _inhibited(url: str) -> dict[str, bool]:
    with urllib.request.urlopen(f"{url}/api/v2/alerts", timeout=5) as resp:
        alerts = json.load(resp)
    return {
        f"{a['labels']['alertname']}/{a['labels']['queue']}": bool(a["status"]["inhibitedBy"])
        for a in alerts
    }


def test_a_page_mutes_its_ticket_and_a_broken_pipeline_mutes_queue_alerts(
    alertmanager: str,
) -> None:
    sl = {"family": "service_level"}
    _post(
        alertmanager,
        [
            _alert(alertname="CcmonServiceLevelBurnRateFast", severity="page", queue="sales", **sl),
            _alert(
                alertname="CcmonServiceLevelBelowTarget", severity="ticket", queue="sales", **sl
            ),
            _alert(
                alertname="CcmonServiceLevelBelowTarget", severity="ticket", queue="support", **sl
            ),
            _alert(
                alertname="CcmonAbandonmentHigh",
                severity="ticket",
                queue="sales",
                family="abandonment",
            ),
        ],
    )
    want = {
        "CcmonServiceLevelBurnRateFast/sales": False,
        "CcmonServiceLevelBelowTarget/sales": True,  # muted by the page of the same queue
        "CcmonServiceLevelBelowTarget/support": False,  # another queue
        "CcmonAbandonmentHigh/sales": False,  # another family
    }
    deadline = time.monotonic() + 10
    while _inhibited(alertmanager) != want and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _inhibited(alertmanager) == want

    _post(
        alertmanager,
        [_alert(alertname="CcmonRedisDown", severity="page", queue="all", family="pipeline")],
    )
    # every queue alert, the page included, is muted while Redis is down
    want = dict.fromkeys(want, True) | {"CcmonRedisDown/all": False}
    deadline = time.monotonic() + 10
    while _inhibited(alertmanager) != want and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _inhibited(alertmanager) == want
