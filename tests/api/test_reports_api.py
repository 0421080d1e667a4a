"""Reports over HTTP against a live daemon: the JSON routes, the chart PNG, and the pages
(the incident timeline, the monthly chart as SVG) for staff; a requester gets none."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.api.conftest import ALICE, BOB, Site, start_site

SYSTEMS = """
[api]
rate_limit = 1000

[[system]]
name = "vpn"
subscribers = ["sub@example.com"]
"""


@pytest.fixture(scope="module")
def rsite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    s, sink = start_site(tmp_path_factory.mktemp("reports-site"), extra=SYSTEMS)
    try:
        yield s
    finally:
        s.daemon.kill9()
        sink.stop()


def _session(site: Site, address: str) -> httpx.Client:
    link = site.gw.cli("login-link", address).stdout.strip()
    browser = site.client(follow_redirects=False)
    confirm = browser.get(link)
    csrf = re.search(r'name="csrf" value="([^"]+)"', confirm.text).group(1)  # type: ignore[union-attr]
    assert browser.post(link, data={"csrf": csrf}).status_code == 303
    return browser


def test_reports_over_the_api_and_as_pages(rsite: Site, tmp_path: Path) -> None:
    ticket = rsite.mail(BOB, "The VPN drops every hour.", subject="VPN drops")
    alice = rsite.client(rsite.token(ALICE))
    done = alice.post(f"/api/v1/tickets/{ticket}/commands",
                      json={"text": "incident: yes\nsystems: +vpn\nimpact: remote staff cut off\nowner: me"})
    assert done.status_code == 200 and not done.json()["refused"], done.text
    monthly = alice.get("/api/v1/reports/monthly").json()
    assert monthly["report"] == "monthly" and monthly["rows"][-1]["created"] >= 1
    assert set(monthly["rows"][0]) >= {"month", "created", "resolved", "open_at_end"}
    [row] = [r for r in alice.get("/api/v1/reports/incidents").json()["rows"] if r["ticket"] == ticket]
    assert (row["systems"], row["owner"], row["end"]) == (["vpn"], ALICE, None) and row["start"]
    chart = alice.get("/api/v1/reports/monthly.png")
    assert chart.headers["content-type"] == "image/png" and Image.open(io.BytesIO(chart.content)).format == "PNG"
    bob = rsite.client(rsite.token(BOB))
    assert bob.get("/api/v1/reports/monthly").status_code == 403  # a requester: no reports
    assert alice.get("/api/v1/reports/monthly", params={"from": "2024-13"}).status_code == 422
    browser = _session(rsite, ALICE)
    try:
        timeline = browser.get("/reports/incidents")
        assert timeline.status_code == 200 and "<svg" in timeline.text
        assert f'<a href="/tickets/{ticket}"><title>' in timeline.text and 'class="open"' in timeline.text
        assert "remote staff cut off" in timeline.text and ALICE in timeline.text
        page = browser.get("/reports/monthly")
        assert page.status_code == 200 and 'class="created"' in page.text and "Chart as PNG" in page.text
        assert "style=" not in page.text  # the pages' CSP allows no inline style
    finally:
        browser.close()
    requester = _session(rsite, BOB)
    try:
        assert requester.get("/reports/incidents").status_code == 403
    finally:
        requester.close()
