"""A real `mailgate serve` with its HTTP listener on a free port, its relay pointed at a sink
the test owns; tests talk to it over real sockets (httpx) and read its mail at the sink."""

from __future__ import annotations

import json
import smtplib
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import Gateway, write_config
from tests.daemon.conftest import DaemonProc, daemon_config, wait_until
from tests.daemon.dovecot import free_port, wait_port
from tests.outbox.sink import RELAY_CONFIG, Sink

ALICE, BOB, CAROL, ADA = "alice@example.com", "bob@customer.example", "carol@other.example", "ada@example.com"
STAFF = """
[[person]]
address = "ada@example.com"
name = "Ada Admin"
role = "admin"
"""


@dataclass
class Site:
    daemon: DaemonProc
    sink: Sink
    http_port: int
    counter: int = 0
    database: str = ""  # a PostgreSQL URL; "" for the default SQLite store

    @property
    def gw(self) -> Gateway:
        return self.daemon.gateway

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def client(self, token: str | None = None, **kw: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kw)  # type: ignore[arg-type]

    def token(self, address: str, *extra: str) -> str:
        result = self.gw.cli("token", "create", address, "--json", *extra)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["token"]

    def mail(self, sender: str, body: str, subject: str = "Printer broken", headers: str = "",
             to: str = "helpdesk@example.com", name: str = "") -> int:
        """Send a mail over SMTP and wait until it is processed; returns its ticket number."""
        self.counter += 1
        mid = f"h{self.counter}.{time.monotonic_ns()}@{sender.split('@')[1]}"
        raw = (f"{headers}From: {name or sender.split('@')[0].title()} <{sender}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
               f"Message-ID: <{mid}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
               f"{body}\r\n").encode()
        with smtplib.SMTP("127.0.0.1", self.daemon.smtp_port, timeout=30) as smtp:
            smtp.sendmail(sender, [to], raw)
        return wait_until(lambda: self.ticket_of(mid), what=f"message {mid} stored")  # type: ignore[return-value]

    def ticket_of(self, message_id: str) -> int | None:
        if self.database:
            import psycopg2

            with psycopg2.connect(self.database) as conn, conn.cursor() as cur:
                cur.execute("SELECT ticket_id FROM message WHERE message_id = %s", (message_id,))
                row = cur.fetchone()
            return row[0] if row else None
        with self.db() as c:
            row = c.execute("SELECT ticket_id FROM message WHERE message_id = ?", (message_id,)).fetchone()
        return row[0] if row else None

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.gw.dir / "store" / "mailgate.db", timeout=30)

    def outbox(self, kind: str | None = None) -> list[dict]:
        return [o for o in self.gw.outbox() if kind is None or o["kind"] == kind]


def start_site(directory: Path, http: str = "", extra: str = "", database: str = "") -> tuple[Site, Sink]:
    sink = Sink(free_port()).start()
    port = free_port()
    smtp, lmtp = free_port(), free_port()
    config = write_config(directory, daemon_config(smtp, lmtp, RELAY_CONFIG.format(port=sink.port) + STAFF + extra,
                                                   http=f"port = {port}\n{http}"))
    if database:  # a real PostgreSQL instead of the default SQLite store
        config.write_text(config.read_text().replace('database = "sqlite:///store/mailgate.db"',
                                                     f'database = "{database}"'))
    daemon = DaemonProc(Gateway(directory, config), smtp, lmtp).start()
    wait_port(smtp)
    wait_port(port)
    return Site(daemon, sink, port, database=database), sink


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    s, sink = start_site(tmp_path_factory.mktemp("site"), http="max_body_size = 200000",
                         extra="\n[api]\nrate_limit = 1000\n")
    try:
        yield s
    finally:
        s.daemon.kill9()
        sink.stop()
