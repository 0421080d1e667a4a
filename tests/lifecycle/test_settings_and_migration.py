"""The lifecycle's configuration keys are validated with the key named, and migration 7
adds its tables to a database from before it."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from mailgate.config import parse_settings
from mailgate.core.errors import ConfigError
from mailgate.db.connect import open_database
from mailgate.db.models import SchemaVersion

BASE: dict[str, Any] = {"gateway": {"secret": "s"}, "queue": [{"name": "general", "address": "help@example.com"}]}


def settings(**sections: Any) -> Any:
    data = {**BASE, **sections}
    return parse_settings(data, Path("/tmp/mailgate.toml"))


def test_defaults() -> None:
    s = settings()
    assert (s.lifecycle.archive_after_days, s.lifecycle.sla_warn_percent, s.lifecycle.reminder_time) == (60, 80, "")
    assert s.calendar.working_days == ("mon", "tue", "wed", "thu", "fri") and s.sla == ()
    q = s.queues[0]
    assert (q.wait_for_children, q.escalate_after_hours, q.parent_sees) == (False, 0.0, "status")


@pytest.mark.parametrize(("sections", "message"), [
    ({"lifecycle": {"reminder_time": "8am"}}, "lifecycle.reminder_time: expected a time HH:MM like 08:30, got '8am'"),
    ({"lifecycle": {"sla_warn_percent": 100}}, "lifecycle.sla_warn_percent: expected 1 to 99, got 100"),
    ({"lifecycle": {"archive_after_days": -1}}, "lifecycle.archive_after_days: expected 0 (never) or more days"),
    ({"lifecycle": {"check_interval": 0}}, "lifecycle.check_interval: expected a positive number of seconds"),
    ({"calendar": {"working_days": ["monday"]}}, "calendar.working_days: expected some of mon, tue"),
    ({"calendar": {"start": "18:00"}}, "calendar.end: expected a time after calendar.start (18:00)"),
    ({"calendar": {"holidays": ["25.12.2026"]}}, "calendar.holidays: expected dates YYYY-MM-DD, got '25.12.2026'"),
    ({"sla": [{"priority": 5}]}, "sla[0].priority: expected 1 to 4, got 5"),
    ({"sla": [{"priority": 1}], "calendar": {"working_days": []}}, "calendar.working_days: expected at least one day"),
    ({"sla": [{"priority": 1, "queue": "nope"}]}, "sla[0].queue: unknown queue 'nope' (known: *, general)"),
    ({"sla": [{"queue": "general"}]}, "sla[0].priority: required key is missing"),
    ({"queue": [{"name": "general", "address": "help@example.com", "timezone": "Mars/Base"}]},
     "queue[0].timezone: expected an IANA timezone like Europe/Berlin, got 'Mars/Base'"),
    ({"queue": [{"name": "general", "address": "help@example.com", "parent_sees": "some"}]},
     "queue[0].parent_sees: expected one of all, status, none, got 'some'"),
    ({"queue": [{"name": "general", "address": "help@example.com", "escalate_after_hours": -2}]},
     "queue[0].escalate_after_hours: expected 0 (never) or more hours"),
])
def test_bad_values_name_the_key(sections: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        settings(**sections)
    assert message in str(exc.value)


def test_migration_7_adds_the_lifecycle_tables_to_an_older_database(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = open_database(f"sqlite:///{path}")
    for table in ("snooze", "ticket_merge", "lifecycle_mark"):
        db.execute_sql(f'DROP TABLE "{table}"')
    SchemaVersion.delete().where(SchemaVersion.version >= 7).execute()
    db.close()
    db = open_database(f"sqlite:///{path}")
    with sqlite3.connect(path) as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"snooze", "ticket_merge", "lifecycle_mark"} <= tables
    assert SchemaVersion.select().where(SchemaVersion.version == 7).exists()
    db.close()
