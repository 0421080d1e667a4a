"""A store built through the real pipeline and the ticket service with a controlled clock,
at known times across month boundaries and time zones (general: Europe/Berlin, ops: UTC):

    #1 general  created 2024-01-31 23:30 UTC (1 Feb in Berlin), answered by staff 2 h later,
                resolved 2024-02-02 23:30 UTC
    #2 ops      created 2024-01-31 23:30 UTC (31 Jan in UTC), resolved 2024-03-01 00:00 UTC
    #3 ops      a CRITICAL monitoring alert for vpn-gw1, 2024-02-10 12:00 UTC, still open
    #4 general  created 2024-02-15 10:00 UTC, still open (an incident by email in the tests)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailgate.app import build_env
from mailgate.config import load_settings
from mailgate.env import Env
from mailgate.pipeline import drain
from mailgate.schedule.jobs import run_task
from mailgate.tickets import TicketService
from tests.conftest import BASE_CONFIG, Gateway, write_config

ALICE, ADA = "alice@example.com", "ada@example.com"
EXTRA = """
[[person]]
address = "ada@example.com"
name = "Ada Admin"
role = "admin"

[commands]
trust_from_header = true

[[sla]]
priority = 3
queue = "general"
first_response_hours = 1
resolution_hours = 24

[[system]]
name = "vpn"
subscribers = ["sub1@example.com", "sub2@example.com"]
alerts = ["vpn-*"]

[[system]]
name = "mail"
address = "mail-users@example.com"

[[report]]
name = "monthly"
to = ["boss@example.com"]
months = 3
day = 1
time = "08:00"
timezone = "Europe/Berlin"
"""
RULE = """
[[rule]]
name = "test-alert"
match.subject = '^PROBLEM (?P<host>\\S+) is (?P<state>\\w+)$'
actions = { fingerprint = "{host}", subject = "Alert: {host}", state = "{state}", stop = true }
"""


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def mail(sender: str, subject: str, body: str, mid: str, to: str = "helpdesk@example.com") -> bytes:
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{mid}>\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()


@dataclass
class Desk:
    gw: Gateway
    env: Env
    clock: Clock

    def at(self, when: str) -> Desk:
        self.clock.now = datetime.fromisoformat(when).replace(tzinfo=UTC)
        return self

    def deliver(self, raw: bytes, to: str = "helpdesk@example.com") -> None:
        self.env.spool.accept(raw, "test", (to,))
        assert [o.status for o in drain(self.env)] == ["stored"]

    def act(self, how: str, ticket: int, actor: str, text: str) -> None:
        getattr(TicketService(self.env), how)(ticket, actor, text, source="cli")

    def job(self, name: str) -> str:
        return run_task(self.env, name)


def make_desk(tmp_path: Path, extra: str = "") -> Desk:
    base = BASE_CONFIG.replace('name = "general"\naddress = "helpdesk@example.com"\n',
                               'name = "general"\naddress = "helpdesk@example.com"\ntimezone = "Europe/Berlin"\n')
    config = write_config(tmp_path, EXTRA + extra, base=base)
    (tmp_path / "rules" / "10-test.toml").write_text(RULE)
    clock = Clock(datetime(2024, 1, 1, tzinfo=UTC))
    env = build_env(load_settings(config), clock=clock)
    return Desk(Gateway(tmp_path, config), env, clock)


def build_fixture_store(desk: Desk) -> Desk:
    desk.at("2024-01-31T23:30:00").deliver(mail("bob@customer.example", "Printer", "It prints blank pages.", "t1@x"))
    desk.at("2024-01-31T23:30:00").deliver(mail("carol@customer.example", "Disk full", "The share is full.", "t3@x",
                                               to="ops@example.com"), to="ops@example.com")
    desk.at("2024-02-01T01:30:00").act("reply", 1, ALICE, "Swapping the toner now.")
    desk.at("2024-02-02T23:30:00").act("command", 1, ALICE, "status: resolved")
    desk.at("2024-02-10T12:00:00").deliver(mail("nagios@monitor.example", "PROBLEM vpn-gw1 is CRITICAL", "down",
                                               "t4@x", to="ops@example.com"), to="ops@example.com")
    desk.at("2024-02-15T10:00:00").deliver(mail("dave@customer.example", "VPN slow", "Very slow today.", "t2@x"))
    desk.at("2024-03-01T00:00:00").act("command", 2, ADA, "status: resolved")
    return desk


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    return build_fixture_store(make_desk(tmp_path))
