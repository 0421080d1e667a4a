"""Lifecycle tests: a gateway with a real SMTP relay (tests.outbox.sink), mail delivered
through the MTA pipe, and the lifecycle's job functions driven with a controlled clock
against the same real SQLite store. A "restart" is a fresh Env built from the configuration,
as the daemon builds it at start-up: only what is stored carries over."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from mailgate.app import build_env
from mailgate.config import load_settings
from mailgate.env import Env
from mailgate.schedule.jobs import run_task
from tests.conftest import BASE_CONFIG, Gateway, write_config
from tests.daemon.conftest import make_daemon  # noqa: F401  (the real-daemon fixture)
from tests.outbox.sink import HEADERS_DMARC_PASS, RELAY_CONFIG, Desk, Sink, free_port

BOB = "bob@customer.example"
CAROL = "carol@customer.example"
ALICE = "alice@example.com"
TOM = "tom@example.com"


class Clock:
    """A controlled clock, starting at the real time (the mail delivered through the pipe is
    stamped with the real time, and the timers count from there)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def queue_options(general: str = "", ops: str = "") -> str:
    """BASE_CONFIG with extra keys in the [[queue]] tables."""
    base = BASE_CONFIG.replace('name = "general"\naddress = "helpdesk@example.com"\n',
                               'name = "general"\naddress = "helpdesk@example.com"\n' + general)
    return base.replace('name = "ops"\naddress = "ops@example.com"\n', 'name = "ops"\naddress = "ops@example.com"\n' + ops)


@pytest.fixture
def make_desk(tmp_path: Path) -> Iterator[Callable[..., Desk]]:
    sinks: list[Sink] = []

    def make(extra: str = "", general: str = "", ops: str = "") -> Desk:
        sink = Sink(free_port()).start()
        sinks.append(sink)
        config = write_config(tmp_path, RELAY_CONFIG.format(port=sink.port) + extra, base=queue_options(general, ops))
        return Desk(Gateway(tmp_path, config), sink)

    yield make
    for s in sinks:
        s.stop()


def daemon_env(desk: Desk, clock: Clock) -> Env:
    """What the daemon builds at start-up, with the controlled clock."""
    return build_env(load_settings(desk.gw.config), clock=clock)


def run_job(desk: Desk, clock: Clock, name: str) -> str:
    return run_task(daemon_env(desk, clock), name)


def staff_mail(desk: Desk, number: int, body: str, sender: str = ALICE) -> str:
    return desk.mail(sender, body, subject=f"Re: [Helpdesk #{number}] update", headers=HEADERS_DMARC_PASS)


def events(ticket: dict, field: str) -> list[tuple[str, str | None, str | None]]:
    return [(e["actor"], e["old"], e["new"]) for e in ticket["events"] if e["field"] == field]


def queued(desk: Desk, address: str, kind: str | None = None) -> list[EmailMessage]:
    """Unsent mails in the outbox for `address` (jobs run with a clock ahead of the real one queue
    mail the real-time sender would only send later, so tests read the outbox itself)."""
    rows = [o for o in desk.gw.outbox() if address in o["recipients"] and o["state"] == "pending"
            and (kind is None or o["kind"] == kind)]
    return [email.message_from_string(o["message"], policy=email.policy.default) for o in rows]  # type: ignore[misc]


def mail_at(desk: Desk, clock: Clock, sender: str, number: int, body: str) -> None:
    """A staff mail on ticket #number processed at the controlled clock's time (through the
    spool and the real pipeline, as the daemon's worker would)."""
    from mailgate.pipeline import drain

    lines = [*HEADERS_DMARC_PASS, f"From: <{sender}>", "To: helpdesk@example.com",
             f"Subject: Re: [Helpdesk #{number}] update", f"Message-ID: <at.{clock.now.timestamp()}@example.com>",
             "Content-Type: text/plain; charset=utf-8", "", body, ""]
    env = daemon_env(desk, clock)
    env.spool.accept("\r\n".join(lines).encode(), "test", ("helpdesk@example.com",))
    [outcome] = drain(env)
    assert outcome.status == "stored", outcome
