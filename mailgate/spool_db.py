"""The spool in PostgreSQL rows (`[store] spool = "database"`): any node may finish what
another accepted, so a node that dies for good loses nothing.

    accept          raw bytes and a queue row in one transaction, synchronous_commit = on:
                    DURABILITY POINT 1 (then 250 / exit 0 / IMAP move)
    claim_group     FOR UPDATE SKIP LOCKED, with a lease (claimed_by, claimed_until) and the
                    attempt counted (the crash counter works across nodes)
    hold / settle   inside the group's transaction: its rows locked, then deleted with the
                    messages they became (the claim and the commit are one step for others)

The database's clock, not the nodes', times every lease. A claim whose lease ran out (its
node died; live nodes renew theirs with each heartbeat) is claimed again by any node.

Ordering: an entry is claimed only once every earlier entry of its conversation (the
ticket of a reply address, else the References root, else the Message-ID) is committed or
in this node's own hands (its groups commit in order), so a reply is committed after the
message it answers, as with one node; the same holds for the messages that answer nothing
from one sender (a monitoring system's problem, repeats and recovery stay in order).

No peewee here: `mailgate deliver` writes a row with psycopg2 alone (PlainPostgres). The
daemon and the CLI pass peewee's database (its `execute_sql` and `atomic`), so a row is
deleted in the same transaction as the message it became.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from mailgate.core.entry import SpoolEntry
from mailgate.core.errors import TransientError
from mailgate.core.spool import Claimed

log = logging.getLogger("mailgate.spool")

NOW = "(now() AT TIME ZONE 'UTC')"  # timestamps are naive UTC, as peewee stores them
# pg_advisory_xact_lock key serialising claims (milliseconds each): with SKIP LOCKED alone,
# two claimers would not see each other's claims of earlier entries of one conversation
CLAIM_LOCK = 0x2F0C5E61B7D3A914
# an earlier entry not in this node's hands (waiting, another node's, or a dead node's):
# what comes after it in its conversation, or from its sender, waits for it
NOT_MINE = f"(o.claimed_by IS NULL OR o.claimed_by <> %s OR o.claimed_until < {NOW})"
_COLUMNS = "e.id, e.sha256, e.source, e.recipients, e.received_at, e.attempts, e.extra"


class Database(Protocol):
    """peewee's Database, or PlainPostgres for the MTA pipe."""

    def execute_sql(self, sql: str, params: Any = None) -> Any: ...

    def atomic(self) -> Any: ...

    def in_transaction(self) -> bool: ...


class PlainPostgres:
    """One psycopg2 connection, for `mailgate deliver` (no peewee on the MTA's path)."""

    def __init__(self, url: str) -> None:
        import psycopg2

        try:
            self.conn = psycopg2.connect(url, connect_timeout=10)
        except psycopg2.Error as exc:
            raise TransientError(f"spool cannot store message: database: {str(exc).strip()}") from None
        self.conn.autocommit = True

    def in_transaction(self) -> bool:
        return False  # atomic() is the only way in, and accept() does not nest it

    def execute_sql(self, sql: str, params: Any = None) -> Any:
        cur = self.conn.cursor()
        cur.execute(sql, params)
        return cur

    @contextmanager
    def atomic(self) -> Iterator[None]:
        self.execute_sql("BEGIN")
        try:
            yield
        except BaseException:
            self.execute_sql("ROLLBACK")
            raise
        self.execute_sql("COMMIT")


def node_name() -> str:
    """This process as a node: host, pid and a tag (a pid comes back after a reboot)."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(2).hex()}"[:250]


class DbSpool:
    """SpoolStore in PostgreSQL. `owner` names this process in the claims it makes."""

    def __init__(self, db: Database, owner: str = "", lease: float = 30.0) -> None:
        self.db = db
        self.owner = owner or node_name()
        self.lease = lease

    @contextmanager
    def _tx(self, durable: bool) -> Iterator[None]:
        # per transaction, not per session: PgBouncer's transaction pooling keeps it
        with self.db.atomic():
            self.db.execute_sql(f"SET LOCAL synchronous_commit = {'on' if durable else 'off'}")
            yield

    # --- accepting: the first durability point -------------------------------------------

    def accept(self, raw: bytes, source: str, recipients: tuple[str, ...] = (), **extra: object) -> SpoolEntry:
        """Raw bytes and the queue row committed (synchronous_commit = on) before this
        returns; TransientError (451 / exit 75) when the database cannot take them."""
        sha = hashlib.sha256(raw).hexdigest()
        now = time.time()
        insert = ("WITH raw AS (INSERT INTO spool_raw (sha256, raw) VALUES (%s, %s) ON CONFLICT (sha256) DO NOTHING)"
                  " INSERT INTO spool_entry (sha256, source, recipients, extra, conv, origin, received_at)"
                  " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id")
        params = (sha, raw, sha, source[:255], json.dumps(list(recipients)), json.dumps(extra),
                  conversation_key(raw, recipients, sha), origin_key(raw), now)
        try:
            if self.db.in_transaction():  # inside the caller's transaction: it commits
                with self._tx(durable=True):
                    cur = self.db.execute_sql(insert, params)
            else:
                # one round trip: several statements in one query are one transaction, and
                # SET LOCAL holds for it (its commit waits for the disk, whatever the server says)
                cur = self.db.execute_sql("SET LOCAL synchronous_commit = on; " + insert, params)
            (row_id,) = cur.fetchone()
        except TransientError:
            raise
        except Exception as exc:  # noqa: BLE001 - any database failure: the sender retries later
            raise TransientError(f"spool cannot store message: database: {_one_line(exc)}") from exc
        return SpoolEntry(str(row_id), sha, source, tuple(recipients), now, 0, dict(extra))

    def accept_claimed(self, batch: list[tuple[bytes, str]]) -> list[SpoolEntry]:
        """Accept and claim for this process in one transaction (`mailgate import`)."""
        entries = []
        try:
            with self._tx(durable=True):
                for raw, source in batch:
                    sha = hashlib.sha256(raw).hexdigest()
                    now = time.time()
                    cur = self.db.execute_sql(
                        "WITH raw AS (INSERT INTO spool_raw (sha256, raw) VALUES (%s, %s) ON CONFLICT (sha256) DO NOTHING)"
                        " INSERT INTO spool_entry (sha256, source, conv, origin, received_at, attempts, claimed_by,"
                        f" claimed_until) VALUES (%s, %s, %s, %s, %s, 1, %s, {NOW} + %s * interval '1 second')"
                        " RETURNING id", (sha, raw, sha, source[:255], conversation_key(raw, (), sha), origin_key(raw),
                                          now, self.owner, self.lease))
                    (row_id,) = cur.fetchone()
                    entries.append(SpoolEntry(str(row_id), sha, source, (), now, 1, {}))
        except Exception as exc:  # noqa: BLE001
            raise TransientError(f"spool cannot store message: database: {_one_line(exc)}") from exc
        return entries

    def store_raw(self, raw: bytes) -> str:
        sha = hashlib.sha256(raw).hexdigest()
        self.db.execute_sql("INSERT INTO spool_raw (sha256, raw) VALUES (%s, %s) ON CONFLICT (sha256) DO NOTHING",
                            (sha, raw))
        return sha

    def read_raw(self, sha256: str) -> bytes:
        row = self.db.execute_sql("SELECT raw FROM spool_raw WHERE sha256 = %s", (sha256,)).fetchone()
        if row is None:
            raise FileNotFoundError(f"no raw bytes {sha256} in the database spool")
        return bytes(row[0])

    # --- claiming ----------------------------------------------------------------------------

    def pending(self) -> list[str]:
        cur = self.db.execute_sql(
            f"SELECT id FROM spool_entry WHERE claimed_until IS NULL OR claimed_until < {NOW} ORDER BY id")
        return [str(r[0]) for r in cur.fetchall()]

    def claim(self, name: str) -> SpoolEntry | None:
        with self._tx(durable=False):
            got = self._claim_ids([int(name)])
        return got[0][0] if got else None

    def claim_group(self, limit: int, alone: bool) -> tuple[Claimed, int]:
        """SpoolStore.claim_group across nodes. The attempt counts are committed without
        waiting for the disk (synchronous_commit = off), as the folder spool's are not
        fsync'd: a claim lost with the server's power costs one more attempt, never mail."""
        with self._tx(durable=False):
            self.db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (CLAIM_LOCK,))
            # each candidate with the latest earlier entry of its conversation (and of its
            # sender, for mail that answers nothing) that is not in this node's hands
            rows = self.db.execute_sql(
                "SELECT e.id, e.attempts,"
                f" (SELECT max(o.id) FROM spool_entry o WHERE o.conv = e.conv AND o.id < e.id AND {NOT_MINE}),"
                " CASE WHEN e.origin = 0 THEN NULL ELSE (SELECT max(o.id) FROM spool_entry o"
                f" WHERE o.origin = e.origin AND o.id < e.id AND {NOT_MINE}) END"
                f" FROM spool_entry e WHERE (e.claimed_until IS NULL OR e.claimed_until < {NOW})"
                " ORDER BY e.id LIMIT %s FOR UPDATE OF e SKIP LOCKED", (self.owner, self.owner, 4 * limit)).fetchall()
            chosen = _choose(rows, limit, alone)
            group = self._claim_ids(chosen) if chosen else []
            waiting = self.db.execute_sql(
                "SELECT count(*) FROM (SELECT 1 FROM spool_entry"
                f" WHERE claimed_until IS NULL OR claimed_until < {NOW} LIMIT 5000) w").fetchone()[0]
        return group, int(waiting) + len(group)

    def _claim_ids(self, ids: list[int]) -> Claimed:
        cur = self.db.execute_sql(
            f"UPDATE spool_entry e SET claimed_by = %s, claimed_until = {NOW} + %s * interval '1 second',"
            " attempts = e.attempts + 1 FROM spool_raw r WHERE e.id = ANY(%s) AND r.sha256 = e.sha256"
            f" AND (e.claimed_until IS NULL OR e.claimed_until < {NOW} OR e.claimed_by = %s)"
            f" RETURNING {_COLUMNS}, r.raw", (self.owner, self.lease, ids, self.owner))
        out = sorted(cur.fetchall(), key=lambda r: r[0])
        return [(_entry(r), bytes(r[7])) for r in out]

    # --- the group's transaction ----------------------------------------------------------

    def hold(self, entries: list[SpoolEntry]) -> set[str]:
        if not entries:
            return set()
        ids = [int(e.name) for e in entries]
        cur = self.db.execute_sql("SELECT id FROM spool_entry WHERE id = ANY(%s) AND claimed_by = %s FOR UPDATE",
                                  (ids, self.owner))
        ours = {str(r[0]) for r in cur.fetchall()}
        for e in entries:
            if e.name not in ours:
                log.warning("spool entry %s is no longer this node's (its lease ran out and another node took it,"
                            " or it is done): left to that node", e.name,
                            extra={"message_id": e.sha256[:12], "stage": "commit", "outcome": "taken-over"})
        return ours

    def settle(self, entries: list[SpoolEntry]) -> None:
        if entries:
            self.db.execute_sql("DELETE FROM spool_entry WHERE id = ANY(%s) AND claimed_by = %s",
                                ([int(e.name) for e in entries], self.owner))

    def done(self, entry: SpoolEntry) -> None:
        self.settle([entry])

    def forget(self, entries: list[SpoolEntry]) -> None:
        """Nothing left to do: `settle` deleted them in their transaction."""

    def flush(self) -> None:
        pass

    def release(self, entry: SpoolEntry) -> None:
        self.db.execute_sql("UPDATE spool_entry SET claimed_by = NULL, claimed_until = NULL"
                            " WHERE id = %s AND claimed_by = %s", (int(entry.name), self.owner))

    # --- what there is ------------------------------------------------------------------------

    def recover(self) -> int:
        """Nothing: a new process is a new node, and a dead node's claims end with its lease
        (or when a live node marks it down, mailgate/daemon/node.py)."""
        return 0

    def backlog(self) -> int:
        return int(self.db.execute_sql("SELECT count(*) FROM spool_entry").fetchone()[0])

    def counts(self) -> dict[str, int]:
        row = self.db.execute_sql(
            f"SELECT count(*) FILTER (WHERE claimed_until IS NULL OR claimed_until < {NOW}),"
            f" count(*) FILTER (WHERE claimed_until >= {NOW}) FROM spool_entry").fetchone()
        return {"queued": int(row[0]), "processing": int(row[1]), "set_aside": 0}

    def daemon_running(self) -> bool:
        """A node whose heartbeat is within its lease will claim what is accepted now."""
        row = self.db.execute_sql(
            "SELECT 1 FROM daemon_state WHERE stopped_at IS NULL AND down_at IS NULL"
            f" AND heartbeat_at >= {NOW} - %s * interval '1 second' LIMIT 1", (self.lease,)).fetchone()
        return row is not None

    def hold_daemon_lock(self) -> int | None:
        return None  # several nodes share this spool


def _choose(rows: list[tuple], limit: int, alone: bool) -> list[int]:
    """The ids to claim, in order: an entry waits while an earlier one of its conversation or
    sender is neither claimed in this same step nor this node's already; one claimed before
    (its process died, or its group was deferred) comes alone, and only when `alone`."""
    chosen: list[int] = []
    taken: set[int] = set()
    for row_id, attempts, after_conv, after_origin in rows:
        if len(chosen) >= limit:
            break
        if (after_conv is not None and after_conv not in taken) or (after_origin is not None
                                                                    and after_origin not in taken):
            continue  # its turn comes after the one before it
        suspect = attempts > 0
        if suspect and (chosen or not alone):
            break  # its turn comes when nothing else is in hand
        chosen.append(row_id)
        taken.add(row_id)
        if suspect:
            break
    return chosen


def _entry(row: tuple) -> SpoolEntry:
    return SpoolEntry(str(row[0]), row[1].strip(), row[2], tuple(json.loads(row[3] or "[]")), float(row[4]),
                      int(row[5]), json.loads(row[6] or "{}"))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


_MSGID = re.compile(rb"<([^<>\s]+)>")
_ADDRESS = re.compile(rb"<([^<>\s]+@[^<>\s]+)>|([^\s<>,;:\"]+@[^\s<>,;:\"]+)")
_TOKEN = re.compile(r"\+t(\d+)p\d+-[a-z2-7]{16}@", re.IGNORECASE)
_KEYS = (b"references", b"in-reply-to", b"from", b"message-id")  # the headers _header_keys reads


def conversation_key(raw: bytes, recipients: tuple[str, ...] | list[str], sha: str) -> int:
    """A 64-bit key shared by a message and the replies to it, for claiming them in the
    order they arrived across nodes: the ticket a reply address names, else the root of
    References, else In-Reply-To, else the Message-ID (two copies of one message share it).
    Only a hint for ordering: the database's locks and unique keys decide what is stored."""
    key = ""
    for address in recipients:
        m = _TOKEN.search(address)
        if m:
            key = f"ticket:{int(m.group(1))}"
            break
    found = _header_keys(raw) if not key else {}
    for name in (b"references", b"in-reply-to", b"message-id"):
        if not key and name in found:
            key = "id:" + found[name].decode("ascii", "replace")
    return _key(key or f"raw:{sha}")


def origin_key(raw: bytes) -> int:
    """For a message that answers nothing: its sender, so a monitoring system's problem,
    repeats and recovery (or anyone's new mails) are claimed in order too; 0 for a reply."""
    found = _header_keys(raw)
    if b"references" in found or b"in-reply-to" in found or b"from" not in found:
        return 0
    return _key("from:" + found[b"from"].decode("ascii", "replace").lower())


def _key(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True) or 1


def _header_keys(raw: bytes) -> dict[bytes, bytes]:
    """The first Message-ID of References, In-Reply-To and Message-ID, the From address."""
    found: dict[bytes, bytes] = {}
    head = raw[:65536].replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].replace(b"\n ", b" ").replace(b"\n\t", b" ")
    for line in head.split(b"\n"):
        name, colon, value = line.partition(b":")
        name = name.strip().lower()
        if not colon or name not in _KEYS or name in found:
            continue
        m = (_ADDRESS if name == b"from" else _MSGID).search(value)
        if m:
            found[name] = next(g for g in m.groups() if g) if name == b"from" else m.group(1)
    return found
