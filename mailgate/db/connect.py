"""Open the database named by the configuration and bring its schema up to date."""

from __future__ import annotations

from pathlib import Path

import peewee as pw
from playhouse.db_url import connect

from mailgate.core.errors import ConfigError, TransientError
from mailgate.db.migrations import migrate
from mailgate.db.models import database_proxy

# WAL lets readers (CLI listings) run while the daemon writes; synchronous=FULL makes the
# commit that marks a message done survive power loss, not just a process crash.
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "full",
    "busy_timeout": 30000,
}


def open_database(url: str) -> pw.Database:
    """Connect, apply pragmas, migrate. Raises ConfigError/TransientError with one clear line."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"store.database: cannot create folder for {path}: {exc.strerror}") from None
        db = pw.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, timeout=30)
    else:
        try:
            db = connect(url)
        except (ImportError, RuntimeError) as exc:
            raise ConfigError(f"store.database: {exc} (install mailgate[postgres])") from None
    database_proxy.initialize(db)
    try:
        db.connect(reuse_if_open=True)
        migrate(db)
    except pw.OperationalError as exc:
        raise TransientError(f"database {url}: {exc}") from None
    return db


def connect_only(url: str) -> pw.Database:
    """Connect without migrating: a process started by a daemon that has migrated already
    (a listener process, which only spools)."""
    try:
        db = connect(url)
    except (ImportError, RuntimeError) as exc:
        raise ConfigError(f"store.database: {exc} (install mailgate[postgres])") from None
    database_proxy.initialize(db)
    return db
