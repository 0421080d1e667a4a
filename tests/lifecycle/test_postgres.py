"""The lifecycle's SQL on a real PostgreSQL server (the multi-node store): merge threading,
snooze, and every job (bulk SLA queries, the escalation subquery, ON CONFLICT marks)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from mailgate.app import build_env
from mailgate.config import load_settings
from mailgate.schedule.jobs import TASKS, run_task
from tests.conftest import ROOT, Gateway
from tests.lifecycle.conftest import Clock, queue_options
from tests.pg import PostgresServer, pg_bindir

pytestmark = pytest.mark.skipif(pg_bindir() is None, reason="PostgreSQL server not installed (make test installs it)")

EXTRA = """
[commands]
trust_from_header = true

[lifecycle]
reminder_time = "00:00"

[calendar]
working_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
start = "00:00"
end = "23:59"

[[sla]]
priority = 3
first_response_hours = 1.0
resolution_hours = 4.0
"""


def mail(sender: str, subject: str, body: str, n: int) -> bytes:
    return (f"From: <{sender}>\r\nTo: helpdesk@example.com\r\nSubject: {subject}\r\n"
            f"Message-ID: <pg{n}@example.com>\r\nContent-Type: text/plain\r\n\r\n{body}\r\n").encode()


def test_lifecycle_on_postgres(tmp_path: Path, postgres: PostgresServer) -> None:
    url = postgres.create_database(f"mg_{uuid.uuid4().hex[:12]}")
    (tmp_path / "rules").mkdir()
    base = queue_options(general="escalate_after_hours = 2.0\n")
    text = base.format(templates=ROOT / "templates", rules=tmp_path / "rules") + EXTRA
    config = tmp_path / "mailgate.toml"
    config.write_text(text.replace('database = "sqlite:///store/mailgate.db"', f'database = "{url}"'))
    gw = Gateway(tmp_path, config)
    for n, (sender, subject, body) in enumerate([
        ("bob@customer.example", "VPN down", "VPN is down."),
        ("carol@customer.example", "vpn broken", "Me too."),
        ("dave@customer.example", "Printer", "Printer jam."),
        ("alice@example.com", "Re: [Helpdesk #2] vpn", "merge: #1"),
        ("alice@example.com", "Re: [Helpdesk #3] Printer", "sleep: 1d"),
        ("carol@customer.example", "Re: [Helpdesk #2] vpn broken", "Still down."),
    ]):
        assert gw.deliver(mail(sender, subject, body, n)).exit_code == 0
    assert gw.ticket(2)["merged_into"] == 1 and "Still down." in [m["body"] for m in gw.ticket(1)["messages"]]
    assert gw.ticket(3)["status"] == "stalled"
    clock = Clock()
    clock.advance(days=2)
    env = build_env(load_settings(config), clock=clock)
    results = {name: run_task(env, name) for name in TASKS}
    assert results["lifecycle-wake"] == "woke 1: #3"
    assert results["lifecycle-escalate"] == "escalated 1: #1"  # #3 just woke: that is an update
    # #1 breached its resolution target (alice's merge reply was its first response); #3 slept
    # for nearly all of the two days, and time spent stalled does not count, so it has not
    assert results["lifecycle-sla"] == "1 SLA mail(s)"
    assert [o["ticket"] for o in gw.outbox() if o["kind"].startswith("sla")] == [1]
    assert results["lifecycle-digest"] == "1 digest(s)"
    again = {name: run_task(build_env(load_settings(config), clock=clock), name) for name in TASKS}
    assert again["lifecycle-sla"] == "0 SLA mail(s)" and again["lifecycle-digest"] == "0 digest(s)"
    assert again["lifecycle-wake"] == "woke 0" and again["lifecycle-escalate"] == "escalated 0"
    gw.deliver(mail("alice@example.com", "Re: [Helpdesk #1] vpn", "status: resolved", 10))
    clock.advance(days=70)
    assert run_task(build_env(load_settings(config), clock=clock), "lifecycle-archive") == "archived 1"
    assert [t["id"] for t in gw.tickets()] == [3]
