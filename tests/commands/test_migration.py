"""Migration 3 adds Message.internal to a database made before it, and is a no-op on a
fresh one (migration 1 already creates the column from the current models)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mailgate.db.connect import open_database
from mailgate.db.migrations import LATEST
from mailgate.db.models import SchemaVersion


def columns(path: Path) -> set[str]:
    with sqlite3.connect(path) as con:
        return {row[1] for row in con.execute("PRAGMA table_info(message)")}


def test_migration_3_adds_the_column_to_an_older_database(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = open_database(f"sqlite:///{path}")
    assert "internal" in columns(path)  # fresh: created by migration 1, migration 3 skipped it
    # turn it into a database from before issue 4
    db.execute_sql("ALTER TABLE message DROP COLUMN internal")
    SchemaVersion.delete().where(SchemaVersion.version >= 3).execute()
    db.close()
    assert "internal" not in columns(path)
    db = open_database(f"sqlite:///{path}")
    assert "internal" in columns(path)
    assert SchemaVersion.select().where(SchemaVersion.version == 3).exists()
    assert LATEST >= 3
    db.close()
