"""Alert grouping on a real PostgreSQL server (the multi-node store): one ticket per
problem, repeats and redeliveries counted once, recovery resolves."""

from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import ROOT, Gateway
from tests.pg import PostgresServer, pg_bindir
from tests.rules.conftest import RULES_CONFIG, alert_bytes, nagios, shipped_rules

pytestmark = pytest.mark.skipif(pg_bindir() is None, reason="PostgreSQL server not installed (make test installs it)")


def pg_alert_gateway(tmp_path: Path, postgres: PostgresServer) -> Gateway:
    url = postgres.create_database(f"mg_{uuid.uuid4().hex[:12]}")
    (tmp_path / "rules").mkdir()
    shipped_rules(tmp_path)
    text = RULES_CONFIG.format(templates=ROOT / "templates", rules=tmp_path / "rules")
    config = tmp_path / "mailgate.toml"
    config.write_text(text.replace('database = "sqlite:///store/mailgate.db"', f'database = "{url}"'))
    return Gateway(tmp_path, config)


def test_alert_lifecycle_on_postgres(tmp_path: Path, postgres: PostgresServer) -> None:
    gw = pg_alert_gateway(tmp_path, postgres)

    def deliver(name: str) -> str:
        result = gw.cli("-v", "deliver", "-r", "ops@example.com", input=alert_bytes(name))
        assert result.exit_code == 0, result.output
        return re.findall(r"^(\w+) ticket=", result.stderr, re.M)[0]

    assert deliver("nagios_service_problem.eml") == "stored"
    assert deliver("nagios_service_problem_repeat.eml") == "recorded"
    assert deliver("nagios_service_problem_repeat.eml") == "duplicate"
    assert deliver("nagios_service_recovery.eml") == "recorded"
    assert deliver("nagios_host_recovery.eml") == "discarded"  # nothing open for db-02
    [t] = gw.tickets()
    assert t["status"] == "resolved"
    rows = {r["fingerprint"]: r for r in gw.json("alerts", "list")}  # type: ignore[union-attr]
    assert rows["web-01/HTTP"]["occurrences"] == 3 and rows["web-01/HTTP"]["ticket"] == t["id"]
    assert rows["db-02"]["ticket"] is None
    assert [o["kind"] for o in gw.outbox()] == ["alert-problem", "alert-recovery"]


def test_concurrent_first_alerts_open_one_ticket(tmp_path: Path, postgres: PostgresServer) -> None:
    """Four MTA pipes deliver alerts of one new problem at once (as several nodes would):
    one ticket, every alert counted once; a pipe that lost the race leaves its mail in the
    spool (exit 0) and `mailgate process` finishes it."""
    gw = pg_alert_gateway(tmp_path, postgres)
    # the fingerprint is known, nothing open: the race is about who opens the ticket
    assert gw.deliver(nagios("web-09", "HTTP", "RECOVERY", seq=99), "-r", "ops@example.com").exit_code == 0
    raws = [nagios("web-09", "HTTP", seq=n) for n in range(4)]
    with ThreadPoolExecutor(4) as pool:
        procs = list(pool.map(lambda raw: gw.pipe(raw, "-r", "ops@example.com"), raws))
    assert all(p.returncode == 0 for p in procs), [p.stderr for p in procs]
    assert gw.cli("process").exit_code == 0
    [t] = gw.tickets()
    [row] = gw.json("alerts", "list")  # type: ignore[misc]
    assert row["ticket"] == t["id"] and row["occurrences"] == 4 and row["ticket_status"] == "new"
    assert [o["kind"] for o in gw.outbox()] == ["alert-problem"]

