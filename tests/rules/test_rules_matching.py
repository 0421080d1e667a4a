"""Conditions and combinators decide which rules match; actions build one Decision; named
groups flow into fingerprints and tags; `stop` ends the evaluation. Pure: no database."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailgate.rules import MailView, RuleSet
from mailgate.rules.loader import load_rule_file
from tests.conftest import write_config
from tests.rules.conftest import RULES_CONFIG


def view(**kw: object) -> MailView:
    base: dict[str, object] = dict(sender="nagios@mon01.example.net", sender_name="", recipients=("ops@example.com",),
                                   subject="", body="", headers=(), auto_class="")
    base.update(kw)
    return MailView(**base)  # type: ignore[arg-type]


@pytest.fixture
def ruleset(tmp_path: Path):  # noqa: ANN201
    from mailgate.config import load_settings

    settings = load_settings(write_config(tmp_path, base=RULES_CONFIG))

    def build(text: str) -> RuleSet:
        path = tmp_path / "rules" / "t.toml"
        path.write_text(text)
        return RuleSet(rules=tuple(load_rule_file(path, settings)))

    return build


def test_address_conditions(ruleset) -> None:  # noqa: ANN001
    rs = ruleset("""
[[rule]]
name = "glob"
match.from = ["nagios@*", "zabbix@zabbix.example.net"]
actions.tags = ["glob"]
[[rule]]
name = "domain"
match.from_domain = "example.net"
actions.tags = ["domain"]
[[rule]]
name = "recipient"
match.to = "ops@*"
actions.tags = ["to"]
""")
    assert rs.evaluate(view()).tags == ["glob", "domain", "to"]
    assert rs.evaluate(view(sender="root@backup.mon.example.net", recipients=("helpdesk@example.com",))).tags == ["domain"]
    assert rs.evaluate(view(sender="nagios@example.netx", recipients=())).matched == ["glob"]
    assert rs.evaluate(view(sender="bob@customer.example", recipients=())).matched == []


def test_regex_groups_header_and_auto_class(ruleset) -> None:  # noqa: ANN001
    rs = ruleset("""
[[rule]]
name = "alert"
match.subject = '^(?P<host>[\\w-]+) is (?P<state>DOWN|UP)'
match.body = '^Service: (?P<service>.+)$'
match.header = { X-Monitor = '^mon(?P<node>\\d+)$' }
match.auto_class = ["person", "auto-generated"]
actions = { fingerprint = "{host}/{service}", state = "{state} on node {node}", tags = ["{host}", "mon"] }
""")
    d = rs.evaluate(view(subject="web-01 is DOWN", body="intro\nService: HTTP\n", headers=(("X-Monitor", "mon2"),)))
    assert d.fingerprint == "web-01/HTTP" and d.alert == "problem"
    assert d.alert_state == "DOWN on node 2" and d.tags == ["web-01", "mon"]
    assert d.groups == {"host": "web-01", "state": "DOWN", "service": "HTTP", "node": "2"}
    # each condition must hold: no header, wrong class, body line not at a line start
    assert not rs.evaluate(view(subject="web-01 is DOWN", body="Service: HTTP")).matched
    assert not rs.evaluate(view(subject="web-01 is DOWN", body="Service: HTTP", headers=(("X-Monitor", "mon2"),),
                                auto_class="bounce")).matched
    assert not rs.evaluate(view(subject="web-01 is DOWN", body="x Service: HTTP", headers=(("X-Monitor", "mon2"),))).matched


def test_any_all_not(ruleset) -> None:  # noqa: ANN001
    rs = ruleset("""
[[rule]]
name = "combo"
match.any = [ { subject = '^PROBLEM (?P<what>\\S+)' }, { all = [ { from = "cron@*" }, { body = 'failed: (?P<what>\\S+)' } ] } ]
match.not = { subject = 'test' }
actions = { tags = ["{what}"] }
""")
    assert rs.evaluate(view(subject="PROBLEM disk")).tags == ["disk"]
    assert rs.evaluate(view(sender="cron@host", body="backup failed: upload")).tags == ["upload"]
    assert not rs.evaluate(view(sender="cron@host", body="all fine")).matched
    assert not rs.evaluate(view(subject="PROBLEM disk test")).matched


def test_order_overrides_and_stop(ruleset) -> None:  # noqa: ANN001
    rs = ruleset("""
[[rule]]
name = "first"
match.from_domain = "example.net"
actions = { priority = 3, queue = "ops", nosy = ["dba@example.com"], tags = ["a"] }
[[rule]]
name = "urgent"
match.subject = "URGENT"
actions = { priority = 1, nosy = ["boss@example.com"], tags = ["b"], stop = true }
[[rule]]
name = "never-after-stop"
match.from_domain = "example.net"
actions = { drop = "unreachable" }
""")
    d = rs.evaluate(view(subject="URGENT: db"))
    assert d.matched == ["first", "urgent"] and d.priority == 1 and d.queue == "ops"
    assert d.nosy == ["dba@example.com", "boss@example.com"] and d.tags == ["a", "b"] and d.drop is None
    assert rs.evaluate(view(subject="calm")).drop == "unreachable"
