"""The reports count what the fixture store holds (tests/reports/conftest.py), at the
month boundaries of each queue's time zone."""

from __future__ import annotations

import csv
import io
import json

from tests.reports.conftest import Desk


def rows(desk: Desk, *args: str) -> list[dict]:
    result = desk.gw.cli("report", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["rows"]


def test_tickets_per_month_across_month_boundaries_and_time_zones(desk: Desk) -> None:
    got = rows(desk, "monthly", "--from", "2024-01", "--to", "2024-03")
    short = [(r["month"], r["created"], r["requests"], r["alerts"], r["resolved"], r["open_at_end"]) for r in got]
    assert short == [("2024-01", 1, 1, 0, 0, 1),  # #2 (UTC); #1 is a February ticket in Berlin
                     ("2024-02", 3, 2, 1, 1, 3),  # #1 #3 #4 new; #1 resolved; #2 #3 #4 open at the end
                     ("2024-03", 0, 0, 0, 1, 2)]  # #2 resolved at 00:00 on 1 March: still open at February's end
    feb = got[1]
    assert feb["median_first_response_hours"] == 2.0 and feb["median_resolution_hours"] == 48.0
    by_queue = rows(desk, "monthly", "--from", "2024-01", "--to", "2024-02", "--by-queue")
    assert [(r["month"], r["queue"], r["created"]) for r in by_queue] == [
        ("2024-01", "general", 0), ("2024-01", "ops", 1), ("2024-02", "general", 2), ("2024-02", "ops", 1)]
    general = rows(desk, "monthly", "--from", "2024-02", "--to", "2024-02", "--queue", "general")
    assert [(r["month"], r["created"], r["resolved"], r["open_at_end"]) for r in general] == [("2024-02", 2, 1, 1)]


def test_csv_has_the_same_rows(desk: Desk) -> None:
    result = desk.gw.cli("report", "monthly", "--from", "2024-01", "--to", "2024-03", "--csv")
    assert result.exit_code == 0
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["month"], r["created"], r["open_at_end"]) for r in table] == [
        ("2024-01", "1", "1"), ("2024-02", "3", "3"), ("2024-03", "0", "2")]


def test_sla_met_and_breached_per_queue_and_month(desk: Desk) -> None:
    desk.at("2024-04-01T00:00:00")  # the report looks back from here
    got = [r for r in rows(desk, "sla", "--from", "2024-02", "--to", "2024-02") if r["queue"] == "general"]
    # #1: answered before business hours began (met), resolved within 24 business hours (met);
    # #4: never answered, never resolved, long past both targets
    assert got == [{"month": "2024-02", "queue": "general", "first_response_met": 1, "first_response_breached": 1,
                    "first_response_pending": 0, "resolution_met": 1, "resolution_breached": 1,
                    "resolution_pending": 0}]


def test_bad_options_say_what_works(desk: Desk) -> None:
    result = desk.gw.cli("report", "monthly", "--from", "2024-13")
    assert result.exit_code == 2 and "expected a month like 2024-05" in result.output
    result = desk.gw.cli("report", "monthly", "--queue", "nope")
    assert result.exit_code == 2 and "unknown queue 'nope'" in result.output
