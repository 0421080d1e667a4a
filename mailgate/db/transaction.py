"""Write transactions that take SQLite's write lock up front.

A deferred SQLite transaction that reads first and writes later fails at once with
SQLITE_BUSY (busy_timeout cannot help) when another process committed in between, which is
the normal case with several `mailgate deliver` processes, the daemon's worker and the outbox
sender. BEGIN IMMEDIATE waits for the lock instead. PostgreSQL needs nothing special.
"""

from __future__ import annotations

import peewee as pw

from mailgate.db.models import database_proxy


def write_transaction() -> pw._atomic:
    db = database_proxy.obj
    if isinstance(db, pw.SqliteDatabase) and not db.in_transaction():
        return db.atomic("IMMEDIATE")
    return db.atomic()
