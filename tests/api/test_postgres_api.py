"""The API and sign-in on a real PostgreSQL store: tokens, sessions, sign-in links and
idempotency keys are rows there, so every node on the database serves every request."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest

from tests.api.conftest import ALICE, BOB, CAROL, Site, start_site
from tests.pg import PostgresServer, pg_bindir

pytestmark = pytest.mark.skipif(pg_bindir() is None, reason="PostgreSQL server not installed (make test installs it)")


@pytest.fixture(scope="module")
def pg_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    server = PostgresServer().start()
    url = server.create_database(f"mg_api_{uuid.uuid4().hex[:10]}")
    site, sink = start_site(tmp_path_factory.mktemp("pg-site"), database=url)
    try:
        yield site
    finally:
        site.daemon.kill9()
        sink.stop()
        server.stop()


def test_notes_commands_and_idempotency_on_postgres(pg_site: Site) -> None:
    number = pg_site.mail(BOB, "The badge reader is dead.", subject="Badge reader")
    with pg_site.client(pg_site.token(ALICE)) as api:
        url = f"/api/v1/tickets/{number}/notes"
        first = api.post(url, json={"text": "Replaced the fuse."}, headers={"Idempotency-Key": "fuse"})
        again = api.post(url, json={"text": "Replaced the fuse."}, headers={"Idempotency-Key": "fuse"})
        assert first.status_code == again.status_code == 201 and first.json() == again.json()
        assert api.post(url, json={"text": "other"}, headers={"Idempotency-Key": "fuse"}).status_code == 422
        done = api.post(f"/api/v1/tickets/{number}/commands", json={"text": "status: resolved"}).json()
        assert [a["result"] for a in done["applied"]] == ["status: new -> resolved"]
        ticket = api.get(f"/api/v1/tickets/{number}").json()
    assert ticket["status"] == "resolved" and [m["body"] for m in ticket["messages"] if m["internal"]] == \
        ["Replaced the fuse."]
    with pg_site.client(pg_site.token(CAROL)) as carol:
        assert carol.get(f"/api/v1/tickets/{number}").status_code == 404


def test_sign_in_by_link_on_postgres(pg_site: Site) -> None:
    printed = pg_site.gw.cli("login-link", ALICE)
    link = re.search(r"http://\S+/login/\S+", printed.stdout).group(0)
    with pg_site.client(follow_redirects=False) as browser:
        page = browser.get(link)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        assert browser.post(link, data={"csrf": csrf}).status_code == 303
        assert browser.post(link, data={"csrf": csrf}).status_code == 410  # used once
        home = browser.get("/")
        assert home.status_code == 200 and "Tickets of your queues" in home.text
