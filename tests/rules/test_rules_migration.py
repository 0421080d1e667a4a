"""Migration 4 (rules and alerts) landed after 5, 6 and 7: a store created without it
must still get it on the next start, and the alert pipeline then works on that store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.conftest import Gateway
from tests.rules.conftest import alert_bytes

RULE_TABLES = ("rule_match", "ticket_tag", "alert_group", "alert_occurrence", "alert_storm")


def test_store_migrated_past_4_without_it_gets_it(alert_gateway: Gateway) -> None:
    assert alert_gateway.cli("ticket", "list").exit_code == 0  # creates and migrates the store
    db = Path(alert_gateway.dir / "store" / "mailgate.db")
    with sqlite3.connect(db) as c:  # as if the store had been migrated before 4 existed
        for table in RULE_TABLES:
            c.execute(f"DROP TABLE {table}")
        c.execute("DELETE FROM schema_version WHERE version = 4")
        assert c.execute("SELECT max(version) FROM schema_version").fetchone()[0] > 4
    result = alert_gateway.deliver(alert_bytes("nagios_service_problem.eml"), "-r", "ops@example.com")
    assert result.exit_code == 0 and "deferred" not in result.output
    with sqlite3.connect(db) as c:
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert set(RULE_TABLES) <= tables
        assert c.execute("SELECT count(*) FROM schema_version WHERE version = 4").fetchone()[0] == 1
    [row] = alert_gateway.json("alerts", "list")
    assert row["fingerprint"] == "web-01/HTTP" and row["occurrences"] == 1
