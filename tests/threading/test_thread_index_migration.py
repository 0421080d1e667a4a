"""Migration 5 adds Message.thread_index (and its index) to a database made before it, and
threading by Thread-Index works on the upgraded database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mailgate.db.connect import open_database
from mailgate.db.models import SchemaVersion


def columns(path: Path) -> set[str]:
    with sqlite3.connect(path) as con:
        return {row[1] for row in con.execute("PRAGMA table_info(message)")}


def test_migration_5_adds_thread_index_to_an_older_database(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = open_database(f"sqlite:///{path}")
    assert "thread_index" in columns(path)  # fresh: made by migration 1 from the current models
    db.execute_sql("DROP INDEX IF EXISTS message_thread_index")
    db.execute_sql("ALTER TABLE message DROP COLUMN thread_index")
    SchemaVersion.delete().where(SchemaVersion.version >= 5).execute()
    db.close()
    assert "thread_index" not in columns(path)
    db = open_database(f"sqlite:///{path}")
    assert "thread_index" in columns(path)
    assert SchemaVersion.select().where(SchemaVersion.version == 5).exists()
    with sqlite3.connect(path) as con:
        indexed = {row[1] for row in con.execute("PRAGMA index_list(message)")}
    assert any("thread_index" in name for name in indexed)
    db.close()
