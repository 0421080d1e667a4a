"""Archive, escalation, SLA milestones and daily digests with a controlled clock against the
real store. Each timer is run, then run again from a fresh Env (the daemon after a restart):
it fires when due, once, and what it did is in the history and the outbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from mailgate.config import CalendarSettings
from mailgate.lifecycle.calendar import Calendar
from tests.lifecycle.conftest import (
    ALICE,
    BOB,
    CAROL,
    TOM,
    Clock,
    events,
    mail_at,
    queued,
    run_job,
    staff_mail,
)
from tests.outbox.sink import Desk, body_text


def test_resolved_ticket_is_archived_after_the_period_and_a_reply_opens_a_linked_ticket(
        make_desk: Callable[..., Desk], clock: Clock) -> None:
    desk = make_desk("\n[lifecycle]\narchive_after_days = 60\n")
    desk.mail(BOB, "My mouse is broken.", subject="Mouse")
    [ack] = desk.to(BOB, desk.send())
    staff_mail(desk, 1, "status: resolved\n\nNew mouse on your desk.")
    clock.advance(days=59)
    assert run_job(desk, clock, "lifecycle-archive") == "archived 0"
    clock.advance(days=2)
    assert run_job(desk, clock, "lifecycle-archive") == "archived 1"  # a fresh Env: after a restart
    assert run_job(desk, clock, "lifecycle-archive") == "archived 0"
    t = desk.ticket(1)
    assert t["status"] == "archived" and events(t, "status")[-1] == ("system", "resolved", "archived")
    assert desk.gw.json("ticket", "list") == []
    assert [r["id"] for r in desk.gw.json("ticket", "list", "--all")] == [1]
    assert [r["id"] for r in desk.gw.json("ticket", "list", "--status", "archived")] == [1]
    assert [r["id"] for r in desk.gw.json("ticket", "list", "--search", "new MOUSE on your")] == [1]  # searchable
    assert desk.gw.json("ticket", "list", "--search", "keyboard") == []
    messages = len(t["messages"])
    desk.mail(BOB, "The new mouse broke too.", to=str(ack["Reply-To"]), subject="Re: [Helpdesk #1] Mouse")
    assert len(desk.ticket(1)["messages"]) == messages and desk.ticket(1)["status"] == "archived"  # read-only
    t2 = desk.ticket(2)
    assert t2["links"] == [{"ticket": 1, "kind": "follows-up"}] and t2["requester"] == BOB
    [ack2] = [m for m in desk.to(BOB, desk.send()) if m["X-Mailgate-Ticket"] == "2"]
    assert "Ticket #1 was archived, so a new ticket was opened" in body_text(ack2)


def test_archive_off_and_open_tickets_are_never_archived(make_desk: Callable[..., Desk], clock: Clock) -> None:
    desk = make_desk()
    desk.mail(BOB, "Still waiting.", subject="Open one")
    clock.advance(days=400)
    assert run_job(desk, clock, "lifecycle-archive") == "archived 0"
    assert desk.ticket(1)["status"] == "new"


def test_escalation_raises_priority_one_step_per_period_without_update(
        make_desk: Callable[..., Desk], clock: Clock) -> None:
    desk = make_desk(general="escalate_after_hours = 4.0\n")
    desk.mail(BOB, "Server room is warm.", subject="Warm server room")
    desk.mail(TOM, "ops ticket", subject="Ops thing", to="ops@example.com")  # ops: no escalation
    clock.advance(hours=3)
    assert run_job(desk, clock, "lifecycle-escalate") == "escalated 0"
    clock.advance(hours=1, minutes=1)
    assert run_job(desk, clock, "lifecycle-escalate") == "escalated 1: #1"
    assert run_job(desk, clock, "lifecycle-escalate") == "escalated 0"  # restart, same minute: not twice
    t = desk.ticket(1)
    assert t["priority"] == 2 and events(t, "priority") == [("system", "3", "2")]
    # the unowned ticket's queue technicians hear about it, once per step
    [told] = queued(desk, ALICE, "escalation")
    assert "had no update for 4 hours and was escalated from priority 3 to 2" in told.get_content()
    assert told["Subject"] == "[Helpdesk #1] Warm server room"
    assert queued(desk, TOM, "escalation") == []  # not a technician of this queue
    clock.advance(hours=4, minutes=1)
    assert run_job(desk, clock, "lifecycle-escalate") == "escalated 1: #1"
    assert len(queued(desk, ALICE, "escalation")) == 2
    clock.advance(hours=8)
    run_job(desk, clock, "lifecycle-escalate")
    assert desk.ticket(1)["priority"] == 1  # never beyond the top
    assert desk.ticket(2)["priority"] == 3


def test_an_update_restarts_the_escalation_clock(make_desk: Callable[..., Desk], clock: Clock) -> None:
    desk = make_desk(general="escalate_after_hours = 4.0\n")
    desk.mail(BOB, "Server room is warm.", subject="Warm server room")
    clock.advance(hours=3)
    mail_at(desk, clock, ALICE, 1, "owner: me\n\nLooking into it.")
    clock.advance(hours=3)  # 6 h after it was opened, 3 h after the update
    assert run_job(desk, clock, "lifecycle-escalate") == "escalated 0"
    clock.advance(hours=1, minutes=1)
    assert run_job(desk, clock, "lifecycle-escalate") == "escalated 1: #1"
    assert len(queued(desk, ALICE, "escalation")) == 1  # the owner


def test_business_hours_skip_nights_weekends_and_holidays() -> None:
    cal = Calendar.from_settings(CalendarSettings(holidays=("2026-11-30",)), "Europe/Berlin")
    friday_4pm = datetime(2026, 11, 27, 15, 0)  # 16:00 in Berlin
    assert cal.add_hours(friday_4pm, 0.5) == datetime(2026, 11, 27, 15, 30)
    # one hour left on Friday, Monday is a holiday: Tuesday 10:00 Berlin = 09:00 UTC
    assert cal.add_hours(friday_4pm, 2) == datetime(2026, 12, 1, 9, 0)
    saturday = datetime(2026, 11, 28, 12, 0)
    assert cal.add_hours(saturday, 8) == datetime(2026, 12, 1, 16, 0)  # a whole Tuesday
    # and back: the business hours between two moments (what a stalled stretch pauses)
    assert cal.hours_between(friday_4pm, datetime(2026, 12, 1, 9, 0)) == 2.0
    assert cal.hours_between(saturday, datetime(2026, 11, 30, 23, 0)) == 0.0  # weekend + holiday
    # across the change to summer time (29 March 2026): Monday 09:30 local is 07:30 UTC
    assert cal.add_hours(datetime(2026, 3, 27, 15, 0), 1.5) == datetime(2026, 3, 30, 7, 30)
    assert cal.start == time(9, 0) and cal.tz == ZoneInfo("Europe/Berlin")


SLA = """
[calendar]
working_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
start = "00:00"
end = "23:59"

[[sla]]
queue = "general"
priority = 3
first_response_hours = 2.0
resolution_hours = 10.0
"""


def test_sla_near_and_breach_mail_once_each_and_breach_is_in_the_history(
        make_desk: Callable[..., Desk], clock: Clock) -> None:
    desk = make_desk(SLA)
    desk.mail(BOB, "Laptop will not boot.", subject="Laptop")
    desk.send()
    t = desk.ticket(1)
    assert set(t["sla"]) == {"first_response", "resolution"} and t["sla"]["first_response"]["met_at"] is None
    assert "SLA first response: due" in desk.gw.cli("ticket", "show", "1").output
    clock.advance(hours=1)
    assert run_job(desk, clock, "lifecycle-sla") == "0 SLA mail(s)"
    clock.advance(minutes=45)  # 87% of the first-response target
    assert run_job(desk, clock, "lifecycle-sla") == "1 SLA mail(s)"
    assert run_job(desk, clock, "lifecycle-sla") == "0 SLA mail(s)"  # restart: not again
    [near] = queued(desk, ALICE, "sla-near")  # unowned: the queue's technicians
    assert "The first response target of ticket #1 is due" in body_text(near)
    assert queued(desk, TOM) == []  # tom is technician of ops only
    clock.advance(minutes=20)
    assert run_job(desk, clock, "lifecycle-sla") == "1 SLA mail(s)"
    [breach] = queued(desk, ALICE, "sla-breached")
    assert "The first response target of ticket #1 was due" in body_text(breach) and "has passed" in body_text(breach)
    assert events(desk.ticket(1), "sla") == [("system", None, "first response breached")]
    clock.advance(hours=1)
    assert run_job(desk, clock, "lifecycle-sla") == "0 SLA mail(s)"


def test_sla_goes_to_the_owner_and_a_met_response_is_not_warned_about(
        make_desk: Callable[..., Desk], clock: Clock) -> None:
    desk = make_desk(SLA)
    desk.mail(BOB, "Laptop will not boot.", subject="Laptop")
    staff_mail(desk, 1, "owner: tom@example.com\n\nTom will look at it.")
    desk.send()
    assert desk.ticket(1)["sla"]["first_response"]["met_at"] is not None
    clock.advance(hours=9)  # resolution near (90%), first response met by alice's reply
    assert run_job(desk, clock, "lifecycle-sla") == "1 SLA mail(s)"
    [near] = queued(desk, TOM, "sla-near")
    assert "The resolution target" in body_text(near)
    assert queued(desk, ALICE) == []
    clock.advance(days=3)  # resolved meanwhile: nothing more
    staff_mail(desk, 1, "status: resolved")
    assert run_job(desk, clock, "lifecycle-sla") == "0 SLA mail(s)"


def test_time_spent_stalled_does_not_count_against_the_sla(make_desk: Callable[..., Desk], clock: Clock) -> None:
    """Waiting on the requester (status stalled) stops the SLA clock: the targets move by the
    business hours spent stalled, so no warning fires while the ticket waits."""
    desk = make_desk(SLA)
    desk.mail(BOB, "Laptop will not boot.", subject="Laptop")
    clock.advance(hours=1)
    mail_at(desk, clock, ALICE, 1, "status: stalled\n\nPlease send the boot log.")  # also the first response
    clock.advance(hours=20)  # without the pause: resolution (10 h) breached long ago
    assert run_job(desk, clock, "lifecycle-sla") == "0 SLA mail(s)"
    mail_at(desk, clock, ALICE, 1, "status: open\n\nGot it, thanks.")
    clock.advance(hours=6)  # 1 + 6 = 7 h counted, under the 80% (8 h) mark
    assert run_job(desk, clock, "lifecycle-sla") == "0 SLA mail(s)"
    clock.advance(hours=1, minutes=5)  # 8 h 5 min counted: near
    assert run_job(desk, clock, "lifecycle-sla") == "1 SLA mail(s)"
    [near] = queued(desk, ALICE, "sla-near")
    assert "The resolution target of ticket #1 is due" in body_text(near)
    assert queued(desk, ALICE, "sla-breached") == []


DIGEST = """
[lifecycle]
reminder_time = "08:00"
"""


def test_daily_digest_lists_unowned_and_own_tickets_once_a_day(make_desk: Callable[..., Desk], clock: Clock) -> None:
    desk = make_desk(DIGEST)
    desk.mail(BOB, "Printer jam.", subject="Printer jam")
    desk.mail(CAROL, "Need a monitor.", subject="Monitor")
    desk.mail(CAROL, "Resolved already.", subject="Done thing")
    staff_mail(desk, 2, "owner: me")
    staff_mail(desk, 3, "owner: me\nstatus: resolved")
    tomorrow = (clock.now + timedelta(days=1)).replace(hour=7, minute=59, second=0, microsecond=0)
    clock.now = tomorrow
    assert run_job(desk, clock, "lifecycle-digest") == "0 digest(s)"  # before 08:00
    clock.advance(minutes=2)
    assert run_job(desk, clock, "lifecycle-digest") == "1 digest(s)"  # alice; tom has nothing
    assert run_job(desk, clock, "lifecycle-digest") == "0 digest(s)"  # restart: not twice a day
    [digest] = queued(desk, ALICE, "digest")
    text = body_text(digest)
    assert digest["Auto-Submitted"] == "auto-generated" and digest["X-Loop"] == "helpdesk@example.com"
    unowned, own = text.split("Your open tickets")
    assert "Tickets nobody owns yet in your queues (1):" in unowned and "#1  [new, priority 3, general]  Printer jam" in unowned
    assert "(1):\n  #2  [new, priority 3, general]  Monitor" in own and "Done thing" not in text
    assert queued(desk, TOM) == []  # nothing to say: nothing sent
    clock.advance(days=1)
    assert run_job(desk, clock, "lifecycle-digest") == "1 digest(s)"


def test_digest_time_is_in_the_queue_timezone(make_desk: Callable[..., Desk], clock: Clock) -> None:
    desk = make_desk(DIGEST, general='timezone = "America/New_York"\n')
    desk.mail(BOB, "Printer jam.", subject="Printer jam")
    clock.now = (clock.now + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)  # 07:00 EST
    assert run_job(desk, clock, "lifecycle-digest") == "0 digest(s)"
    clock.advance(hours=1, minutes=1)  # 08:01 in New York
    assert run_job(desk, clock, "lifecycle-digest") == "1 digest(s)"


def test_long_digest_lists_the_most_urgent_and_counts_the_rest(make_desk: Callable[..., Desk], clock: Clock,
                                                               monkeypatch) -> None:  # noqa: ANN001
    import mailgate.schedule.digests as reminders

    monkeypatch.setattr(reminders, "LISTED", 2)
    desk = make_desk(DIGEST)
    for n in range(4):
        desk.mail(BOB, f"Problem {n}.", subject=f"Problem {n}")
    staff_mail(desk, 3, "priority: 1")
    clock.now = (clock.now + timedelta(days=1)).replace(hour=8, minute=30)
    assert run_job(desk, clock, "lifecycle-digest") == "1 digest(s)"
    text = body_text(queued(desk, ALICE, "digest")[0])
    assert "in your queues (4):\n  #3  [new, priority 1, general]  Problem 2\n  #1  [new, priority 3, general]  Problem 0\n" \
        "  ... and 2 more (mailgate ticket list)" in text
