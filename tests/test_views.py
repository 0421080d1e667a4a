"""What `ticket show` tells a technician beyond the messages: how often a monitoring problem
fired (repeats are counted, not stored), the rules' tags, and which messages are internal."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ROOT, Gateway, fixture_bytes, write_config


def shipped_rules_gateway(tmp_path: Path) -> Gateway:
    config = write_config(tmp_path)
    config.write_text(config.read_text().replace(f'rules = "{tmp_path / "rules"}"', f'rules = "{ROOT / "rules"}"'))
    return Gateway(tmp_path, config)


def test_alert_repeats_are_counted_on_the_ticket(tmp_path: Path) -> None:
    gw = shipped_rules_gateway(tmp_path)
    assert gw.deliver(fixture_bytes("alerts/nagios_service_problem.eml")).exit_code == 0
    assert gw.deliver(fixture_bytes("alerts/nagios_service_problem_repeat.eml")).exit_code == 0
    [t] = gw.tickets()
    detail = gw.ticket(t["id"])
    assert detail["alert"]["occurrences"] == 2
    assert detail["alert"]["state"] == "problem"
    assert "/" in detail["alert"]["fingerprint"]
    assert len([m for m in detail["messages"] if m["direction"] == "in"]) == 1
    text = gw.cli("ticket", "show", str(t["id"])).stdout
    assert f"alert: {detail['alert']['fingerprint']}" in text and "2 occurrences" in text


def test_plain_ticket_has_no_alert_and_messages_are_not_internal(gateway: Gateway) -> None:
    gateway.deliver(fixture_bytes("new_plain.eml"))
    [t] = gateway.tickets()
    detail = gateway.ticket(t["id"])
    assert detail["alert"] is None and detail["tags"] == []
    assert [m["internal"] for m in detail["messages"]] == [False] * len(detail["messages"])
