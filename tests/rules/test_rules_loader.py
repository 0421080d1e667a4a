"""Rule files are validated at load time: every error names the file, the rule and the key,
`mailgate rules check` exits 78 with it, a broken file defers mail instead of losing or
misfiling it, and a bad SIGHUP reload keeps the rules that were running."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Gateway, fixture_bytes
from tests.rules.conftest import alert_bytes

GOOD = """
[[rule]]
name = "r1"
match.subject = '^(?P<host>\\S+) down'
actions = { fingerprint = "{host}" }
"""

BAD_RULES = [
    ('match.sender = "x@y"\nactions.tags = ["a"]', "rule 'r1': match.sender: unknown condition"),
    ('match.subject = "x"\nactions.assign = "bob"', "rule 'r1': actions.assign: unknown action"),
    ('match.subject = "(unclosed"\nactions.tags = ["a"]', "rule 'r1': match.subject: invalid regular expression"),
    ("match.subject = '(?P<host>\\S+)'\nactions.fingerprint = \"{host}/{svc}\"",
     "rule 'r1': actions.fingerprint: {svc} is not a named group of this rule's match (named groups: host)"),
    ('match.subject = "x"\nactions.queue = "nope"', "rule 'r1': actions.queue: unknown queue 'nope' (known: general, ops)"),
    ('match.subject = "x"\nactions.priority = 7', "rule 'r1': actions.priority: expected 1 (highest) to 4, got 7"),
    ('match.subject = "x"\nactions.resolve = true', "rule 'r1': actions.resolve: needs a fingerprint"),
    ('match.subject = "x"\nactions.owner = "bob@customer.example"',
     "rule 'r1': actions.owner: expected the address of a technician or admin"),
    ('match.subject = "x"\nactions.status = "done"', "rule 'r1': actions.status: expected one of new, open"),
    ("match.any = [ { subject = 'a' }, { subjekt = 'b' } ]\nactions.tags = ['a']",
     "rule 'r1': match.any[1].subjekt: unknown condition"),
    ('enabled = false\nmatch.subject = "x"\nactions.tags = ["a"]', "rule 'r1': enabled: unknown key"),
    ('match.subject = "x"', "rule 'r1': actions: required table is missing"),
    ('match.subject = "x"\nactions = { drop = true, hold = "why" }', "rule 'r1': actions.hold: a rule cannot both"),
]


def write_rule(gateway: Gateway, body: str, name: str = "50-test.toml") -> Path:
    path = gateway.dir / "rules" / name
    path.write_text(f'[[rule]]\nname = "r1"\n{body}\n')
    return path


@pytest.mark.parametrize(("body", "expected"), BAD_RULES)
def test_bad_rule_names_file_rule_and_key(gateway: Gateway, body: str, expected: str) -> None:
    path = write_rule(gateway, body)
    result = gateway.cli("rules", "check")
    assert result.exit_code == 78
    assert f"{path}: {expected}" in result.stderr


def test_invalid_toml_and_duplicate_names_across_files(gateway: Gateway) -> None:
    (gateway.dir / "rules" / "10-a.toml").write_text(GOOD)
    (gateway.dir / "rules" / "20-b.toml").write_text(GOOD)
    result = gateway.cli("rules", "check")
    assert result.exit_code == 78 and "20-b.toml: rule 'r1': duplicate name (also in 10-a.toml)" in result.stderr
    (gateway.dir / "rules" / "20-b.toml").write_text("[[rule]\nname=")
    result = gateway.cli("rules", "check")
    assert result.exit_code == 78 and "20-b.toml: not valid TOML" in result.stderr


def test_shipped_rules_check_clean(alert_gateway: Gateway) -> None:
    data = alert_gateway.json("rules", "check")
    assert data["files"] == ["10-nagios.toml", "20-icinga2.toml", "30-zabbix.toml", "40-alertmanager.toml",
                             "50-cron.toml"]
    names = [r["name"] for r in data["rules"]]
    for expected in ("nagios-service-problem", "nagios-host-recovery", "icinga2-service-note", "zabbix-recovery",
                     "alertmanager-firing", "cron-output"):
        assert expected in names
    text = alert_gateway.cli("rules", "check")
    assert text.exit_code == 0 and f"OK: {len(names)} rule(s) in 5 file(s)" in text.stdout


def test_registry_refuses_duplicate_keys() -> None:
    from mailgate.rules.actions import ACTIONS, SetPriority
    from mailgate.rules.conditions import CONDITIONS, SubjectMatches

    with pytest.raises(RuntimeError, match="duplicate condition 'subject'"):
        CONDITIONS.register(type("Again", (SubjectMatches,), {}))
    with pytest.raises(RuntimeError, match="duplicate action 'priority'"):
        ACTIONS.register(type("Again", (SetPriority,), {}))


def test_broken_rules_defer_mail_until_fixed(alert_gateway: Gateway) -> None:
    """A typo in a rule file must not misfile monitoring mail as ordinary tickets: the MTA
    is told to retry (75), the bytes stay in the spool, and once fixed the mail is handled."""
    bad = write_rule(alert_gateway, 'match.subjekt = "x"\nactions.tags = ["a"]', "60-typo.toml")
    result = alert_gateway.deliver(alert_bytes("nagios_service_problem.eml"), "-r", "ops@example.com")
    assert result.exit_code == 0  # accepted into the spool; processing deferred
    assert "60-typo.toml: rule 'r1': match.subjekt: unknown condition" in result.stderr
    assert alert_gateway.tickets() == []
    bad.unlink()
    assert alert_gateway.cli("process").exit_code == 0
    [t] = alert_gateway.tickets()
    assert t["requester"] == "nagios@mon01.example.net"
    [row] = alert_gateway.json("alerts", "list")
    assert row["fingerprint"] == "web-01/HTTP" and row["ticket"] == t["id"]


def test_bad_reload_keeps_running_rules(tmp_path: Path) -> None:
    from mailgate.app import build_env
    from mailgate.config import load_settings
    from mailgate.core.errors import ConfigError
    from mailgate.daemon.reload import reload_env
    from mailgate.stages.rules import load_rules_into_env
    from tests.conftest import write_config

    config = write_config(tmp_path)
    (tmp_path / "rules" / "10-a.toml").write_text(GOOD)
    env = build_env(load_settings(config))
    load_rules_into_env(env)
    running = env.rules
    assert running is not None and [r.name for r in running.rules] == ["r1"]
    (tmp_path / "rules" / "20-b.toml").write_text('[[rule]]\nname = "r2"\nmatch.subject = "("\nactions.tags = ["a"]\n')
    with pytest.raises(ConfigError, match="20-b.toml: rule 'r2': match.subject: invalid regular expression"):
        reload_env(env, config)
    assert env.rules is running
    (tmp_path / "rules" / "20-b.toml").write_text('[[rule]]\nname = "r2"\nmatch.subject = "x"\nactions.tags = ["a"]\n')
    reload_env(env, config)
    assert [r.name for r in env.rules.rules] == ["r1", "r2"]


def test_rules_test_stores_nothing(alert_gateway: Gateway) -> None:
    path = alert_gateway.dir / "probe.eml"
    path.write_bytes(alert_bytes("zabbix_problem.eml"))
    plain = alert_gateway.dir / "plain.eml"
    plain.write_bytes(fixture_bytes("new_plain.eml"))
    result = alert_gateway.cli("rules", "test", str(path), str(plain))
    assert result.exit_code == 0, result.output
    assert "rule zabbix-problem: fingerprint = batch-07/High CPU utilization (over 90% for 5m)" in result.stdout
    assert "=> alert 'batch-07/High CPU utilization (over 90% for 5m)': opens a ticket" in result.stdout
    assert "=> no rule matched: handled as ordinary mail" in result.stdout
    assert not (alert_gateway.dir / "store").exists()
