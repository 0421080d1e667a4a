"""Alert grouping over time (in-process pipeline, a clock the test moves): flap window,
re-notify interval, flapping, the storm guard; and the rules' ticket actions, drop and hold."""

from __future__ import annotations

from datetime import timedelta

from mailgate.db.models import AlertGroup, Event, Outbox, Quarantine, RuleMatch, Ticket, TicketTag
from tests.rules.conftest import nagios

MIN = timedelta(minutes=1)


def kinds() -> list[str]:
    return [o.kind for o in Outbox.select().order_by(Outbox.id)]


def group(fp: str) -> AlertGroup:
    return AlertGroup.get(AlertGroup.fingerprint == fp)


def test_problem_returning_within_flap_window_reopens_else_new_ticket(pipeline) -> None:  # noqa: ANN001
    p = pipeline("[monitoring]\nflap_window = 600.0\n")
    assert p.deliver(nagios("web-01", "HTTP", seq=1)).status == "stored"
    first = group("web-01/HTTP").ticket_id
    assert p.deliver(nagios("web-01", "HTTP", "RECOVERY", seq=2), after=5 * MIN).status == "recorded"
    assert Ticket.get_by_id(first).status == "resolved"
    outcome = p.deliver(nagios("web-01", "HTTP", seq=3), after=9 * MIN)  # within 10 minutes
    assert outcome.status == "recorded" and outcome.ticket_id == first
    assert Ticket.get_by_id(first).status == "open" and group("web-01/HTTP").reopened == 1
    p.deliver(nagios("web-01", "HTTP", "RECOVERY", seq=4), after=MIN)
    outcome = p.deliver(nagios("web-01", "HTTP", seq=5), after=11 * MIN)  # past the window
    assert outcome.status == "stored" and outcome.created and outcome.ticket_id != first
    assert Ticket.get_by_id(first).status == "resolved"
    assert group("web-01/HTTP").ticket_id == outcome.ticket_id
    statuses = [(e.old, e.new) for e in Event.select().where(Event.ticket == first, Event.field == "status")]
    assert statuses == [("new", "resolved"), ("resolved", "open"), ("open", "resolved")]


def test_repeats_mail_again_only_after_renotify_interval(pipeline) -> None:  # noqa: ANN001
    p = pipeline("[monitoring]\nrenotify_interval = 3600.0\n")
    p.deliver(nagios("db-01", "load", seq=0))
    for seq in range(1, 12):  # every 5 minutes for 55 minutes: counted, not mailed
        p.deliver(nagios("db-01", "load", seq=seq), after=5 * MIN)
    assert kinds() == ["alert-problem"]
    assert group("db-01/load").occurrences == 12
    p.deliver(nagios("db-01", "load", seq=12), after=5 * MIN)  # an hour after the first mail
    assert kinds() == ["alert-problem", "alert-reminder"]
    reminder = Outbox.select().order_by(Outbox.id.desc()).first().message
    assert "STILL A PROBLEM: db-01/load is CRITICAL" in reminder and "Alerts so far: 13" in reminder


def test_flapping_is_mailed_once_then_recorded_silently(pipeline) -> None:  # noqa: ANN001
    p = pipeline("[monitoring]\nflap_window = 900.0\n")
    p.deliver(nagios("sw-01", "SNMP", seq=0))
    for seq in range(1, 13):  # recover and fail every 2 minutes
        kind = "RECOVERY" if seq % 2 else "PROBLEM"
        p.deliver(nagios("sw-01", "SNMP", kind, seq=seq), after=2 * MIN)
    assert kinds() == ["alert-problem", "alert-recovery", "alert-problem", "alert-recovery", "alert-flapping"]
    g = group("sw-01/SNMP")
    assert g.reopened == 6 and Ticket.select().count() == 1
    assert Ticket.get_by_id(g.ticket_id).status == "open"  # the last mail was a PROBLEM


def test_storm_groups_new_tickets_under_one_incident(pipeline) -> None:  # noqa: ANN001
    p = pipeline("[monitoring]\nstorm_threshold = 3\nstorm_window = 120.0\n")
    for i in range(6):
        p.deliver(nagios(f"rack-{i}", "PING", seq=i), after=timedelta(seconds=10))
    incident = Ticket.get(Ticket.subject.startswith("Alert storm"))
    assert incident.subject == "Alert storm: 4 new alerts from nagios@mon01.example.net"
    children = [g.ticket for g in AlertGroup.select().order_by(AlertGroup.id)]
    assert [c.parent_id for c in children] == [incident.id] * 6
    # three problem mails before the storm was recognised, then one storm mail, then silence
    assert kinds() == ["alert-problem"] * 3 + ["alert-storm"]
    storm_mail = Outbox.select().where(Outbox.kind == "alert-storm").get().message
    assert "ALERT STORM: 4 new alert tickets from nagios@mon01.example.net within 120 seconds" in storm_mail
    for i in range(6):
        p.deliver(nagios(f"rack-{i}", "PING", "RECOVERY", seq=100 + i), after=MIN)
    assert all(c.status == "resolved" for c in Ticket.select().where(Ticket.parent == incident))
    assert Ticket.get_by_id(incident.id).status == "resolved"
    assert kinds()[-1] == "alert-storm" and len(kinds()) == 5  # one "storm over", no per-ticket recovery
    # an isolated problem later is an ordinary alert again
    p.deliver(nagios("rack-9", "PING", seq=200), after=30 * MIN)
    assert kinds()[-1] == "alert-problem" and group("rack-9/PING").ticket.parent_id is None


ROUTING = """
[[rule]]
name = "db-team"
match.from_domain = "customer.example"
match.subject = '(?i)database (?P<db>\\w+)'
actions = { queue = "ops", priority = 1, owner = "alice@example.com", nosy = ["dba@example.com"], tags = ["db", "{db}"], status = "open" }

[[rule]]
name = "newsletters"
match.header = { List-Id = "news" }
actions = { drop = "newsletter" }

[[rule]]
name = "legal"
match.subject = "(?i)subpoena"
actions = { hold = "legal must look first" }
"""


def mail(subject: str, extra: str = "", mid: str = "m1") -> bytes:
    return (f"From: Bob <bob@customer.example>\nTo: helpdesk@example.com\nSubject: {subject}\n"
            f"Message-ID: <{mid}@customer.example>\nDate: Tue, 24 Nov 2026 10:00:00 +0000\n{extra}\n"
            "Please have a look.\n").encode()


def test_routing_actions_apply_with_events_and_record_matches(pipeline) -> None:  # noqa: ANN001
    p = pipeline(rules=ROUTING)
    outcome = p.deliver(mail("Database billing is slow"))
    t = Ticket.get_by_id(outcome.ticket_id)
    assert (t.queue.name, t.priority, t.owner.address, t.status) == ("ops", 1, "alice@example.com", "open")
    assert sorted(tag.name for tag in TicketTag.select().where(TicketTag.ticket == t)) == ["billing", "db"]
    events = {(e.actor, e.field, e.new) for e in Event.select().where(Event.ticket == t)}
    assert {("rule:db-team", "priority", "1"), ("rule:db-team", "owner", "alice@example.com"),
            ("rule:db-team", "status", "open"), ("rule:db-team", "nosy", "+dba@example.com"),
            ("rule:db-team", "tags", "+billing")} <= events
    [match] = RuleMatch.select()
    assert match.rules == ["db-team"] and match.outcome == "stored" and match.message_row_id is not None
    # a requester's ordinary mail matches nothing and records nothing
    p.deliver(mail("Printer", mid="m2"))
    assert RuleMatch.select().count() == 1


def test_drop_is_recorded_and_hold_waits_for_a_person(pipeline, tmp_path) -> None:  # noqa: ANN001
    from tests.conftest import Gateway

    p = pipeline(rules=ROUTING)
    dropped = p.deliver(mail("Weekly news", "List-Id: <news.customer.example>\n", mid="n1"))
    assert dropped.status == "discarded" and "newsletter" in dropped.detail
    assert p.deliver(mail("Weekly news", "List-Id: <news.customer.example>\n", mid="n1")).status == "duplicate"
    held = p.deliver(mail("Subpoena for records", mid="s1"))
    assert held.status == "held" and Ticket.select().count() == 0
    [q] = Quarantine.select()
    assert q.stage == "rules" and "legal must look first" in q.error
    # a person releases it: the hold rule does not apply to the released copy
    gw = Gateway(tmp_path, tmp_path / "mailgate.toml")
    result = gw.cli("quarantine", "retry", str(q.id))
    assert result.exit_code == 0 and result.stdout.startswith("stored: ticket #")
    [t] = Ticket.select()
    assert t.subject == "Subpoena for records"
