"""Locks that let several nodes change the same rows safely (issue 16), PostgreSQL only.

Inside a group transaction a message never waits for a lock: it tries, and raises LockBusy
when another transaction holds it. The group then commits the messages before it, and the
next transaction waits for that one lock before anything else (holding nothing but its own
spool rows), so two nodes can never wait for each other: no deadlock, however their groups
overlap. Everything is transaction-scoped (advisory xact locks, row locks), so it holds
through PgBouncer's transaction pooling.

On SQLite (one writer at a time) every lock is granted at once.
"""

from __future__ import annotations

import hashlib

import peewee as pw

from mailgate.core.errors import LockBusy
from mailgate.db.models import database_proxy


def _postgres() -> bool:
    return isinstance(database_proxy.obj, pw.PostgresqlDatabase)


def key_of(name: str) -> int:
    """A 64-bit advisory lock key for a name ("mid:<Message-ID>", "alert:<fingerprint>")."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8", "surrogateescape")).digest()[:8], "big", signed=True)


def take_key(name: str) -> None:
    """The advisory key `name` for this transaction, or LockBusy."""
    if not _postgres():
        return
    key = key_of(name)
    (got,) = database_proxy.obj.execute_sql("SELECT pg_try_advisory_xact_lock(%s)", (key,)).fetchone()
    if not got:
        raise LockBusy(name, "SELECT pg_advisory_xact_lock(%s)", (key,))


def lock_row(model: type[pw.Model], row_id: int, wait: bool = False) -> pw.Model:
    """The row, locked FOR UPDATE for this transaction (LockBusy when another holds it, or
    with `wait` once it is free: for a transaction that holds nothing else yet, such as a
    change through the CLI or the API); DoesNotExist when there is none. On SQLite: the row."""
    if not _postgres():
        return model.get_by_id(row_id)
    table = model._meta.table_name
    found = list(model.raw(f'SELECT * FROM "{table}" WHERE id = %s FOR UPDATE{"" if wait else " SKIP LOCKED"}',
                           row_id))
    if found:
        return found[0]
    if not model.select().where(model._meta.primary_key == row_id).exists():
        raise model.DoesNotExist(f"{table} {row_id} does not exist")
    raise LockBusy(f"{table} #{row_id}", f'SELECT id FROM "{table}" WHERE id = %s FOR UPDATE', (row_id,))


def wait_for(busy: LockBusy) -> None:
    """At the start of a transaction: wait until the lock is ours."""
    database_proxy.obj.execute_sql(busy.wait_sql, busy.params).fetchall()
