"""The alert-storm benchmark's scenario at small size, for correctness (not timing): storm,
steady problems, flapping, persistent problems, repeats and MTA redeliveries."""

from __future__ import annotations

from pathlib import Path

from bench.alert_storm import run as run_storm
from bench.alert_storm import scenario


def test_small_alert_storm_keeps_every_promise(tmp_path: Path) -> None:
    mails = scenario(pairs=10, mails=150, seed=3)
    assert {m.kind for m in mails} == {"PROBLEM", "RECOVERY"}
    result = run_storm(mails, tmp_path, redeliver=0.05, storm_threshold=3, seed=3)
    assert result["violations"] == 0, result["violation_examples"]
    assert result["lost"] == 0
    assert result["fingerprints"] == 10
    assert result["outcomes"].get("duplicate", 0) == result["deliveries"] - result["mails"] > 0
    # every recovery that arrived while its ticket was open resolved it, and only those did
    assert result["resolved_on_recovery"] == result["recoveries_sent"]
    assert result["storm_incident_tickets"] == 1
    # one full message per ticket opened; everything else compact
    assert result["inbound_messages_stored"] == result["tickets_opened"]
    assert result["occurrences_recorded"] == result["mails"]
    assert result["alert_mails_queued"] < 40 and result["other_mails_queued"] == 0
