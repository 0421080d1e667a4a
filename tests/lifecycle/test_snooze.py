"""Snooze: `sleep:` stalls a ticket with a stored wake-up time (queue's timezone); the wake
job opens it at that time (nosy told), once, across a restart; the requester writing wakes
it earlier. The value parser on its own, with a fixed clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from mailgate.lifecycle.snooze import BadWakeTime, parse_wake
from tests.lifecycle.conftest import ALICE, BOB, Clock, events, queued, run_job, staff_mail
from tests.outbox.sink import Desk, body_text

BERLIN = ZoneInfo("Europe/Berlin")
# Tuesday 24 November 2026, 13:30 UTC = 14:30 in Berlin
NOW = datetime(2026, 11, 24, 13, 30, tzinfo=UTC)


@pytest.mark.parametrize(("value", "expected"), [
    ("3d", datetime(2026, 11, 27, 13, 30)),
    ("4h", datetime(2026, 11, 24, 17, 30)),
    ("30m", datetime(2026, 11, 24, 14, 0)),
    ("2w", datetime(2026, 12, 8, 13, 30)),
    ("2026-12-01", datetime(2026, 12, 1, 8, 0)),  # 09:00 (business day start) in Berlin
    ("2026-12-01 14:15", datetime(2026, 12, 1, 13, 15)),
    ("monday 9:00", datetime(2026, 11, 30, 8, 0)),
    ("Monday", datetime(2026, 11, 30, 8, 0)),
    ("tue 16:00", datetime(2026, 11, 24, 15, 0)),  # later today
    ("tuesday 9:00", datetime(2026, 12, 1, 8, 0)),  # already past today: next week
    ("tomorrow", datetime(2026, 11, 25, 8, 0)),
    ("2027-07-01 09:00", datetime(2027, 7, 1, 7, 0)),  # summer time: UTC+2
])
def test_wake_times_in_the_queue_timezone(value: str, expected: datetime) -> None:
    assert parse_wake(value, NOW, BERLIN, time(9, 0)) == expected


@pytest.mark.parametrize(("value", "message"), [
    ("2026-11-01", "is in the past"),
    ("someday", "cannot read 'someday'; expected a duration"),
    ("monday 25:00", "cannot read the time '25:00'"),
])
def test_bad_wake_times_say_what_would_work(value: str, message: str) -> None:
    with pytest.raises(BadWakeTime, match=message):
        parse_wake(value, NOW, BERLIN, time(9, 0))


def snoozed_ticket(desk: Desk, value: str) -> str:
    """Bob's ticket #1 snoozed by Alice; returns Bob's reply address."""
    desk.mail(BOB, "Please call me back next week.", subject="Call back")
    [ack] = desk.to(BOB, desk.send())
    staff_mail(desk, 1, f"sleep: {value}\n\nWill call next week.")
    desk.send()
    return str(ack["Reply-To"])


def test_snooze_wakes_once_at_its_time_across_a_restart(make_desk: Callable[..., Desk], clock: Clock) -> None:
    desk = make_desk(general='timezone = "Europe/Berlin"\n')
    snoozed_ticket(desk, "3d")
    t = desk.ticket(1)
    assert t["status"] == "stalled" and t["wake_at"] is not None
    wake_at = datetime.fromisoformat(t["wake_at"].rstrip("Z")).replace(tzinfo=UTC)
    assert abs(wake_at - (clock.now + timedelta(days=3))) < timedelta(minutes=1)
    assert (ALICE, "new", "stalled") in events(t, "status")
    clock.advance(days=2)
    assert run_job(desk, clock, "lifecycle-wake") == "woke 0"
    assert desk.ticket(1)["status"] == "stalled" and desk.send() == []
    clock.now = wake_at + timedelta(seconds=1)  # a fresh Env: the daemon after a restart
    assert run_job(desk, clock, "lifecycle-wake") == "woke 1: #1"
    t = desk.ticket(1)
    assert t["status"] == "open" and t["wake_at"] is None
    assert events(t, "status")[-1] == ("system", "stalled", "open")
    [notice] = queued(desk, BOB, "alert")
    assert "was snoozed until" in body_text(notice) and "status: stalled -> open" in body_text(notice)
    assert notice["X-Mailgate-Ticket"] == "1" and notice["Auto-Submitted"] == "auto-generated"
    clock.advance(hours=1)
    assert run_job(desk, clock, "lifecycle-wake") == "woke 0"  # never twice
    assert len(queued(desk, BOB, "alert")) == 1


def test_requester_writing_wakes_the_ticket_early(make_desk: Callable[..., Desk], clock: Clock) -> None:
    desk = make_desk()
    reply = snoozed_ticket(desk, "2030-12-02 10:00")
    assert desk.ticket(1)["wake_at"] == "2030-12-02T10:00:00Z"
    desk.mail(BOB, "Actually, I am free today.", to=reply, subject="Re: Call back")
    t = desk.ticket(1)
    assert t["status"] == "open" and t["wake_at"] is None
    assert events(t, "status")[-1] == (BOB, "stalled", "open")
    [alert] = desk.to(ALICE, desk.send())
    assert "Actually, I am free today." in body_text(alert) and "status: stalled -> open" in body_text(alert)
    assert run_job(desk, clock, "lifecycle-wake") == "woke 0"


def test_staff_writing_does_not_wake_and_sleep_none_cancels(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk()
    snoozed_ticket(desk, "3d")
    staff_mail(desk, 1, "Left a voicemail.")
    assert desk.ticket(1)["status"] == "stalled"
    staff_mail(desk, 1, "sleep: none")
    t = desk.ticket(1)
    assert t["status"] == "open" and t["wake_at"] is None


def test_sleep_refusals_are_specific(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk()
    snoozed_ticket(desk, "2d")
    staff_mail(desk, 1, "sleep: 2020-01-01")
    staff_mail(desk, 1, "status: resolved\nsleep: 1d")  # (a later reply would reopen it first)
    receipts = "\n".join(body_text(m) for m in desk.to(ALICE, desk.send()) if m["Auto-Submitted"] == "auto-replied")
    assert "'2020-01-01' is in the past" in receipts
    assert "ticket #1 is resolved; reopen it (status: open) before snoozing it" in receipts
    assert desk.ticket(1)["wake_at"] is None  # resolving ended the snooze
