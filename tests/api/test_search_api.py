"""Search over HTTP against a live daemon: GET /api/v1/search with a token, and the search
page with a session. A requester sees their own tickets only and never an internal note;
whatever `q` holds is answered (200 or a 422 problem), never a server error."""

from __future__ import annotations

import re

import httpx

from tests.api.conftest import ALICE, BOB, CAROL, Site

HOSTILE = ['"', "zanzibar*", "NEAR(zanzibar x)", "(zanzibar", "zanzibar) OR :", "{subject}: zanzibar",
           "zanzibar'; DROP TABLE message; --", "%_\\", "-", "#", "#99999999999999"]


def _session(site: Site, address: str) -> httpx.Client:
    link = site.gw.cli("login-link", address).stdout.strip()
    browser = site.client(follow_redirects=False)
    confirm = browser.get(link)
    csrf = re.search(r'name="csrf" value="([^"]+)"', confirm.text).group(1)  # type: ignore[union-attr]
    assert browser.post(link, data={"csrf": csrf}).status_code == 303
    return browser


def test_search_sees_what_the_caller_may_see(site: Site) -> None:
    mine = site.mail(BOB, "The zanzibar printer is offline.", subject="Zanzibar printer")
    theirs = site.mail(CAROL, "Our zanzibar scanner jams.", subject="Scanner")
    alice = site.client(site.token(ALICE))
    note = alice.post(f"/api/v1/tickets/{mine}/notes", json={"text": "zanzibar: the secretword is in the safe"})
    assert note.status_code == 201
    bob = site.client(site.token(BOB))
    found = bob.get("/api/v1/search", params={"q": "zanzibar"})
    assert found.status_code == 200
    assert {h["ticket"] for h in found.json()["hits"]} == {mine}
    assert not [h for h in found.json()["hits"] if h["internal"]]
    assert bob.get("/api/v1/search", params={"q": "secretword"}).json()["hits"] == []
    staff = alice.get("/api/v1/search", params={"q": "zanzibar", "group": "true"}).json()
    assert {h["ticket"] for h in staff["hits"]} == {mine, theirs}
    assert [h["internal"] for h in staff["hits"] if h["ticket"] == mine].count(True) == 1
    assert {t["ticket"] for t in staff["tickets"]} == {mine, theirs}
    [hit] = alice.get("/api/v1/search", params={"q": "secretword"}).json()["hits"]
    assert hit["ticket"] == mine and "<mark>secretword</mark>" in hit["snippet"]


def test_hostile_queries_get_answers_not_errors(site: Site) -> None:
    bob = site.client(site.token(BOB))
    for q in HOSTILE:
        r = bob.get("/api/v1/search", params={"q": q})
        assert r.status_code == 200, (q, r.text)
    bad = bob.get("/api/v1/search", params={"q": "status:bogus"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert "status: expected one of" in bad.json()["detail"]


def test_the_search_page_through_a_requesters_session(site: Site) -> None:
    mine = site.mail(BOB, "The quokka badge reader beeps.", subject="Badge reader")
    site.client(site.token(ALICE)).post(f"/api/v1/tickets/{mine}/notes", json={"text": "quokka: hidden remark"})
    browser = _session(site, BOB)
    try:
        start = browser.get("/search")
        assert start.status_code == 200 and 'role="search"' in start.text  # the box in the header
        page = browser.get("/search", params={"q": "quokka"})
        assert page.status_code == 200
        assert f'href="/tickets/{mine}"' in page.text and "<mark>quokka</mark>" in page.text
        assert "hidden remark" not in page.text
        hostile = browser.get("/search", params={"q": '<script>alert(1)</script> "quokka'})
        assert hostile.status_code == 200 and "<script>alert(1)</script>" not in hostile.text
    finally:
        browser.close()
    assert site.client().get("/search", params={"q": "quokka"}, follow_redirects=False).status_code == 303
