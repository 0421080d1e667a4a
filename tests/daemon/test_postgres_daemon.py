"""The daemon on a real PostgreSQL server (the multi-node store): SMTP mail survives a kill -9
and is stored once; liveness and scheduled jobs are recorded in PostgreSQL."""

from __future__ import annotations

import smtplib
import uuid

import pytest

from tests.daemon.conftest import message, wait_until
from tests.pg import PostgresServer, pg_bindir

pytestmark = pytest.mark.skipif(pg_bindir() is None, reason="PostgreSQL server not installed (make test installs it)")


def test_daemon_on_postgres_survives_kill_9(make_daemon, postgres: PostgresServer) -> None:
    import psycopg2

    url = postgres.create_database(f"mg_{uuid.uuid4().hex[:12]}")
    d = make_daemon(start=False)
    cfg = d.gateway.config
    cfg.write_text(cfg.read_text().replace('database = "sqlite:///store/mailgate.db"', f'database = "{url}"'))

    def inbound() -> list[str]:
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT message_id FROM message WHERE direction = 'in'")
            return [r[0] for r in cur.fetchall()]

    d.start()
    for n in range(10):
        with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
            assert s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(n)) == {}
    d.kill9()
    d.start()
    for n in range(10, 20):
        with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
            assert s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(n)) == {}
    d.wait_idle()
    ids = inbound()
    assert sorted(ids) == sorted(f"m{n}@customer.example" for n in range(20))
    wait_until(lambda: any(j["runs"] for j in d.gateway.json("status")["jobs"]), what="a heartbeat on PostgreSQL")
    st = d.gateway.json("status")
    assert st["daemon_running"] and st["daemons"][0]["pid"] == d.proc.pid
    assert d.stop() == 0
