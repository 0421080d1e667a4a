"""One small store, built through the real pipeline (`mailgate deliver`, the CLI's acts) on
SQLite and on the real PostgreSQL server, with words placed where the search must find
them, and must not: a signature, an <img alt>, quoted history, an internal note."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest

from tests.conftest import Gateway, write_config
from tests.pg import PostgresServer

STAFF = """
[[person]]
address = "otto@example.com"
name = "Otto Ops"
role = "technician"
queues = ["ops"]
"""

M1 = """From: Bob Builder <bob@customer.example>
To: helpdesk@example.com
Subject: VPN verbindet nicht
Message-ID: <m1@customer.example>
Date: Mon, 03 Jun 2024 09:00:00 +0200
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Der VPN-Client meldet Fehler 809 seit heute Morgen. Grüße an René.

--\x20
Bob Builder
Sigonlyword Widgets Ltd
--alt
Content-Type: text/html; charset=utf-8

<p>Der VPN-Client meldet Fehler 809 seit heute Morgen. Grüße an René.</p><img alt="altonlyword" src="cid:logo">
--alt--
--outer
Content-Type: application/pdf; name="network-diagram.pdf"
Content-Disposition: attachment; filename="network-diagram.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--outer--
"""

M2 = """From: Bob Builder <bob@customer.example>
To: helpdesk@example.com
Subject: Re: VPN verbindet nicht
Message-ID: <m2@customer.example>
In-Reply-To: <m1@customer.example>
References: <m1@customer.example>
Date: Mon, 03 Jun 2024 11:00:00 +0200
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Still broken after the reboot.

On Mon, 3 Jun 2024 at 09:00, Bob Builder <bob@customer.example> wrote:
> Der VPN-Client meldet Fehler 809 seit heute Morgen.
> Forwarded tip from a colleague: quotedorphanword
"""

# 23:30 at -02:00 is 01:30 UTC the next day: before:/after: work on UTC dates
M3 = """From: Carol <carol@other.example>
To: ops@example.com
Subject: Printer on floor 3 jams
Message-ID: <m3@other.example>
Date: Fri, 31 May 2024 23:30:00 -0200
Content-Type: text/plain; charset=utf-8

Paper jam in tray 2 again; the toner light blinks too. Black or white pages only.
"""

M4 = """From: Dave <dave@customer.example>
To: helpdesk@example.com
Subject: Café order
Message-ID: <m4@customer.example>
Date: Tue, 04 Jun 2024 08:00:00 +0000
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Bitte Kaffee bestellen, danke.
"""


@dataclass
class Store:
    gw: Gateway
    kind: str
    ids: dict[str, int]  # M1..M4 and "note" -> message row id

    def search(self, *query: str, as_: str | None = None, ok: bool = True) -> list[dict]:
        args = ["search", "query", "--json", "--limit", "50", *(["--as", as_] if as_ else []), "--", *query]
        result = self.gw.cli(*args)
        assert (result.exit_code == 0) == ok, result.output
        return json.loads(result.stdout) if ok else []

    def messages(self, *query: str, as_: str | None = None) -> set[int]:
        return {h["message"] for h in self.search(*query, as_=as_)}

    def tickets(self, *query: str, as_: str | None = None) -> set[int]:
        return {h["ticket"] for h in self.search(*query, as_=as_)}


def build(gw: Gateway, kind: str) -> Store:
    for raw in (M1, M2, M3, M4):
        assert gw.deliver(raw.replace("\n", "\r\n").encode()).exit_code == 0
    assert gw.cli("ticket", "note", "1", "--as", "alice@example.com",
                  "secretnote: the VPN gateway certificate expired").exit_code == 0
    assert gw.cli("ticket", "command", "1", "--as", "alice@example.com", "owner: alice").exit_code == 0
    assert gw.cli("ticket", "command", "3", "--as", "alice@example.com", "status: resolved").exit_code == 0
    rows = {}
    for number in (1, 2, 3):
        for m in gw.ticket(number)["messages"]:
            if m["direction"] == "in":
                rows[m["message_id"]] = m["id"]
    ids = {"M1": rows["m1@customer.example"], "M2": rows["m2@customer.example"],
           "M3": rows["m3@other.example"], "M4": rows["m4@customer.example"]}
    ids["note"] = next(m["id"] for m in gw.ticket(1)["messages"] if m["internal"])
    return Store(gw, kind, ids)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> dict[str, Store]:
    found = {}
    sqlite_dir = tmp_path_factory.mktemp("search-sqlite")
    found["sqlite"] = build(Gateway(sqlite_dir, write_config(sqlite_dir, STAFF)), "sqlite")
    try:
        server: PostgresServer = request.getfixturevalue("postgres")
    except pytest.skip.Exception:
        return found
    pg_dir = tmp_path_factory.mktemp("search-pg")
    url = server.create_database(f"mg_{uuid.uuid4().hex[:12]}")
    config = write_config(pg_dir, STAFF)
    config.write_text(config.read_text().replace('database = "sqlite:///store/mailgate.db"', f'database = "{url}"'))
    found["postgres"] = build(Gateway(pg_dir, config), "postgres")
    return found


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, stores: dict[str, Store]) -> Store:
    if request.param not in stores:
        pytest.skip("PostgreSQL server not installed (make test installs it)")
    return stores[request.param]
