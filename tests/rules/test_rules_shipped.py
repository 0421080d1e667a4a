"""The shipped rules on the default mails of Nagios, Icinga 2, Zabbix, Alertmanager and
cron, through the real CLI (`mailgate deliver`): one ticket per problem, repeats counted on
it, recovery resolves, the team (alice, technician of `ops`) hears about it, the monitoring
system never gets an acknowledgement."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Gateway
from tests.rules.conftest import alert_bytes


def deliver(gw: Gateway, name: str, raw: bytes | None = None) -> str:
    """Deliver through the pipe command; returns the outcome status it reports (-v)."""
    result = gw.cli("-v", "deliver", "-r", "ops@example.com", input=raw or alert_bytes(name))
    assert result.exit_code == 0, result.output
    [status] = re.findall(r"^(\w+) ticket=", result.stderr, re.M)
    return status


def alert_row(gw: Gateway, fingerprint: str) -> dict:
    [row] = [r for r in gw.json("alerts", "list") if r["fingerprint"] == fingerprint]  # type: ignore[union-attr]
    return row


def mail_kinds(gw: Gateway) -> list[tuple[str, list[str]]]:
    return [(o["kind"], o["recipients"]) for o in gw.outbox()]


@pytest.mark.parametrize(("fixture", "rule", "fingerprint"), [
    ("nagios_service_problem.eml", "nagios-service-problem", "web-01/HTTP"),
    ("nagios_service_recovery.eml", "nagios-service-recovery", "web-01/HTTP"),
    ("nagios_service_ack.eml", "nagios-service-note", "web-01/HTTP"),
    ("nagios_host_problem.eml", "nagios-host-problem", "db-02"),
    ("nagios_host_recovery.eml", "nagios-host-recovery", "db-02"),
    ("icinga2_service_problem.eml", "icinga2-service-problem", "app-03.example.net/disk /var"),
    ("icinga2_service_ack.eml", "icinga2-service-note", "app-03.example.net/disk /var"),
    ("icinga2_service_recovery.eml", "icinga2-service-recovery", "app-03.example.net/disk /var"),
    ("icinga2_host_problem.eml", "icinga2-host-problem", "app-04.example.net"),
    ("icinga2_host_recovery.eml", "icinga2-host-recovery", "app-04.example.net"),
    ("zabbix_problem.eml", "zabbix-problem", "batch-07/High CPU utilization (over 90% for 5m)"),
    ("zabbix_recovery.eml", "zabbix-recovery", "batch-07/High CPU utilization (over 90% for 5m)"),
    ("alertmanager_firing.eml", "alertmanager-firing", "alertmanager:InstanceDown node"),
    ("alertmanager_resolved.eml", "alertmanager-resolved", "alertmanager:InstanceDown node"),
    ("cron_output.eml", "cron-output", "cron:root@backup01 /usr/local/sbin/nightly-backup --target s3://backups"),
])
def test_shipped_rule_recognises_its_mail(alert_gateway: Gateway, fixture: str, rule: str, fingerprint: str) -> None:
    path = alert_gateway.dir / fixture
    path.write_bytes(alert_bytes(fixture))
    [result] = alert_gateway.json("rules", "test", str(path))  # type: ignore[misc]
    assert result["matched"] == [rule]
    assert result["decision"]["fingerprint"] == fingerprint
    assert result["auto_class"] == "alert"  # never acknowledged, never answered


def test_nagios_problem_repeats_ack_and_recovery_make_one_ticket(alert_gateway: Gateway) -> None:
    gw = alert_gateway
    assert deliver(gw, "nagios_service_problem.eml") == "stored"
    [t] = gw.tickets()
    assert t["queue"] == "ops" and t["requester"] == "nagios@mon01.example.net" and t["status"] == "new"
    assert t["subject"] == "Nagios: HTTP on web-01"  # the rule's subject, not the mail's
    assert mail_kinds(gw) == [("alert-problem", ["alice@example.com"])]  # the team; no ack to Nagios
    problem_mail = gw.outbox()[0]["message"]
    assert "PROBLEM: web-01/HTTP is CRITICAL (new ticket" in problem_mail
    assert "Auto-Submitted: auto-generated" in problem_mail
    # a repeat, delivered twice by the MTA: counted once, no new message on the ticket, no mail
    assert deliver(gw, "nagios_service_problem_repeat.eml") == "recorded"
    assert deliver(gw, "nagios_service_problem_repeat.eml") == "duplicate"
    row = alert_row(gw, "web-01/HTTP")
    assert row["occurrences"] == 2 and row["ticket"] == t["id"] and row["state_text"] == "CRITICAL"
    detail = gw.ticket(t["id"])
    assert [m["thread_signal"] for m in detail["messages"] if m["direction"] == "in"] == ["new"]
    assert len(gw.outbox()) == 1
    # the acknowledgement is a note: stored on the open ticket, nobody mailed
    deliver(gw, "nagios_service_ack.eml")
    detail = gw.ticket(t["id"])
    assert [m["thread_signal"] for m in detail["messages"] if m["direction"] == "in"] == ["new", "alert-note"]
    assert len(gw.outbox()) == 1
    # recovery resolves and tells the team; a second copy changes nothing
    assert deliver(gw, "nagios_service_recovery.eml") == "recorded"
    assert deliver(gw, "nagios_service_recovery.eml") == "duplicate"
    [t] = gw.tickets()
    assert t["status"] == "resolved"
    assert [k for k, _ in mail_kinds(gw)] == ["alert-problem", "alert-recovery"]
    assert "RECOVERED: web-01/HTTP is OK" in gw.outbox()[1]["message"]
    status_events = [(e["old"], e["new"]) for e in gw.ticket(t["id"])["events"] if e["field"] == "status"]
    assert status_events == [("new", "resolved")]
    assert alert_row(gw, "web-01/HTTP")["occurrences"] == 3  # problem, repeat, recovery (the note is a message)


def test_host_and_service_alerts_are_separate_problems(alert_gateway: Gateway) -> None:
    gw = alert_gateway
    for name in ("icinga2_service_problem.eml", "icinga2_host_problem.eml", "icinga2_service_ack.eml",
                 "icinga2_host_recovery.eml"):
        deliver(gw, name)
    tickets = {t["id"]: t for t in gw.tickets()}
    service = alert_row(gw, "app-03.example.net/disk /var")
    host = alert_row(gw, "app-04.example.net")
    assert len(tickets) == 2
    assert tickets[service["ticket"]]["status"] == "new"
    assert tickets[host["ticket"]]["status"] == "resolved"
    ack = [m for m in gw.ticket(service["ticket"])["messages"] if m["thread_signal"] == "alert-note"]
    assert "Cleaning up old log archives" in ack[0]["body"]


def test_zabbix_problem_recovery_and_update(alert_gateway: Gateway) -> None:
    gw = alert_gateway
    deliver(gw, "zabbix_problem.eml")
    assert deliver(gw, "zabbix_update.eml") == "discarded"  # by rule: recorded, no ticket, no mail
    deliver(gw, "zabbix_recovery.eml")
    [t] = gw.tickets()
    assert t["status"] == "resolved" and t["subject"] == "Zabbix: High CPU utilization (over 90% for 5m) on batch-07"
    row = alert_row(gw, "batch-07/High CPU utilization (over 90% for 5m)")
    assert row["state_text"] == "resolved (event 821457)" and row["occurrences"] == 2
    assert [k for k, _ in mail_kinds(gw)] == ["alert-problem", "alert-recovery"]
    assert "Warning (event 821457)" in gw.outbox()[0]["message"]
    # the dropped update is a duplicate when it comes again, not a new drop
    assert deliver(gw, "zabbix_update.eml") == "duplicate"
    log = gw.json("rules", "log")
    assert [(r["rules"], r["outcome"], r["ticket"]) for r in reversed(log)] == [  # type: ignore[arg-type]
        (["zabbix-problem"], "stored", t["id"]), (["zabbix-update"], "discarded", None),
        (["zabbix-recovery"], "recorded", t["id"])]


def test_alertmanager_html_only_mail_firing_then_resolved(alert_gateway: Gateway) -> None:
    gw = alert_gateway
    deliver(gw, "alertmanager_firing.eml")
    [t] = gw.tickets()
    assert t["subject"] == "Alertmanager: InstanceDown node"
    assert "instance = web-02:9100" in gw.ticket(t["id"])["messages"][0]["body"]  # the HTML's text
    assert deliver(gw, "alertmanager_resolved.eml") == "recorded"
    assert gw.tickets()[0]["status"] == "resolved"
    assert alert_row(gw, "alertmanager:InstanceDown node")["state_text"] == "resolved"


def test_cron_output_of_the_same_job_is_one_ticket(alert_gateway: Gateway) -> None:
    gw = alert_gateway
    first = alert_bytes("cron_output.eml")
    deliver(gw, "cron_output.eml")
    second = first.replace(b"20261124023001.9F1B22E0C4", b"20261125023001.0A2C33F1D5")
    assert deliver(gw, "", second) == "recorded"
    [t] = gw.tickets()
    row = alert_row(gw, "cron:root@backup01 /usr/local/sbin/nightly-backup --target s3://backups")
    assert row["occurrences"] == 2 and row["ticket"] == t["id"]
    assert len([m for m in gw.ticket(t["id"])["messages"] if m["direction"] == "in"]) == 1


def test_recovery_without_open_ticket_is_recorded_and_dropped(alert_gateway: Gateway) -> None:
    gw = alert_gateway
    assert deliver(gw, "nagios_host_recovery.eml") == "discarded"
    assert gw.tickets() == [] and gw.outbox() == []
    assert deliver(gw, "nagios_host_recovery.eml") == "duplicate"
    row = alert_row(gw, "db-02")
    assert row["ticket"] is None and row["state_text"] == "UP"
