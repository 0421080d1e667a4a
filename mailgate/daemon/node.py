"""This daemon as one node of several on one PostgreSQL (the spool in the database).

Every BEAT (a third of `[daemon] lease`, at most `heartbeat_interval`) the node, from a
thread and a connection of its own (a long group commit must not delay it):
- writes its heartbeat (the database's clock: hosts need not agree on the time);
- renews the leases of what it holds: claimed spool entries, the IMAP accounts it fetches,
  the job runs it is in the middle of;
- marks down every node whose heartbeat is older than the lease and frees what that node
  held, so another node (this one) takes it over: its spool entries go back to the queue
  (their attempt counts kept, for the crash counter), its IMAP accounts and job runs are
  free, its outbox mails in `sending` are sent again (same Message-ID).

A node that finds itself marked down (it was stalled longer than its lease) says so and
carries on: its commits check that their spool rows are still its own (DbSpool.hold), its
IMAP fetchers stop when their lease is gone. Rows of nodes stopped or down for a day go.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar

from mailgate.db.models import DaemonState, database_proxy, utcnow
from mailgate.db.task_health import clear_node

log = logging.getLogger("mailgate.daemon.node")

NOW = "(now() AT TIME ZONE 'UTC')"
RETENTION = timedelta(days=1)  # rows of nodes that stopped or went down, kept this long for status
T = TypeVar("T")


def _sql(sql: str, params: tuple[Any, ...] = ()) -> Any:
    return database_proxy.obj.execute_sql(sql, params)


class Node:
    def __init__(self, name: str, role: str, lease: float, interval: float,
                 processed: Callable[[], int]) -> None:
        self.name = name
        self.role = role
        self.lease = lease
        self.beat = max(0.2, min(interval, lease / 3))
        self.processed = processed
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mailgate-node")

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, functools.partial(fn, *args))

    # --- database side (the node's own thread) ------------------------------------------------

    def register(self) -> None:
        now = utcnow()
        with database_proxy.obj.atomic():
            DaemonState.insert(node=self.name, pid=os.getpid(), host=socket.gethostname(), role=self.role,
                               started_at=now, heartbeat_at=now, processed=0).execute()
            _sql(f"UPDATE daemon_state SET heartbeat_at = {NOW} WHERE node = %s", (self.name,))

    def heartbeat(self) -> list[str]:
        """One beat; returns the nodes it marked down."""
        db = database_proxy.obj
        with db.atomic():
            row = _sql("SELECT down_at FROM daemon_state WHERE node = %s FOR UPDATE", (self.name,)).fetchone()
            _sql(f"UPDATE daemon_state SET heartbeat_at = {NOW}, processed = %s, down_at = NULL WHERE node = %s",
                 (self.processed(), self.name))
            if row is not None and row[0] is not None:
                log.warning("this node (%s) was marked down by another: its heartbeat stopped for more than"
                            " %gs; what it held may have been taken over", self.name, self.lease,
                            extra={"stage": "node", "outcome": "was-down"})
            until = f"{NOW} + %s * interval '1 second'"
            # rows our own group transaction has locked are skipped: they are safe while locked
            _sql(f"UPDATE spool_entry SET claimed_until = {until} WHERE id IN (SELECT id FROM spool_entry"
                 " WHERE claimed_by = %s FOR UPDATE SKIP LOCKED)", (self.lease, self.name))
            _sql(f"UPDATE imap_account_state SET held_until = {until} WHERE holder = %s", (self.lease, self.name))
            _sql("UPDATE scheduled_job SET claimed_until = %s WHERE claimed_by = %s",
                 (utcnow() + timedelta(seconds=self.lease), self.name))
        return self.sweep()

    def sweep(self) -> list[str]:
        """Mark down the nodes whose heartbeat is older than the lease; free what they held."""
        db = database_proxy.obj
        with db.atomic():
            down = [r[0] for r in _sql(
                f"UPDATE daemon_state SET down_at = {NOW} WHERE stopped_at IS NULL AND down_at IS NULL"
                f" AND heartbeat_at < {NOW} - %s * interval '1 second' AND node <> %s RETURNING node",
                (self.lease, self.name)).fetchall()]
            for node in down:
                freed = free_leases(node)
                log.warning("node %s is down (no heartbeat for %gs): freed %s", node, self.lease,
                            ", ".join(f"{n} {what}" for what, n in freed.items() if n) or "nothing",
                            extra={"stage": "node", "outcome": "down"})
            cutoff = utcnow() - RETENTION
            DaemonState.delete().where((DaemonState.stopped_at < cutoff) | (DaemonState.down_at < cutoff)).execute()
        return down

    def stopped(self) -> None:
        with database_proxy.obj.atomic():
            DaemonState.update(stopped_at=utcnow(), processed=self.processed()).where(
                DaemonState.node == self.name).execute()
            free_leases(self.name)

    # --- the loop -----------------------------------------------------------------------------

    async def start(self) -> None:
        await self._in_thread(self.register)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._in_thread(self.heartbeat)
            except Exception:  # noqa: BLE001 - the database may be down: the next beat tries again
                log.warning("heartbeat failed; retrying in %.1fs", self.beat, exc_info=True,
                            extra={"stage": "node", "outcome": "error"})
            try:
                await asyncio.wait_for(stop.wait(), self.beat)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        """A clean stop: marked stopped, whatever it still holds freed for the others."""
        try:
            await self._in_thread(self.stopped)
        finally:
            self._thread.shutdown(wait=False)


def free_leases(node: str) -> dict[str, int]:
    """What `node` held goes back to everyone (inside the caller's transaction)."""
    spool = _sql("UPDATE spool_entry SET claimed_by = NULL, claimed_until = NULL WHERE id IN (SELECT id FROM"
                 " spool_entry WHERE claimed_by = %s FOR UPDATE SKIP LOCKED)", (node,)).rowcount
    imap = _sql("UPDATE imap_account_state SET holder = '', held_until = NULL WHERE holder = %s", (node,)).rowcount
    jobs = _sql("UPDATE scheduled_job SET claimed_by = '', claimed_until = NULL WHERE claimed_by = %s",
                (node,)).rowcount
    # a mail it was sending may have reached the relay before it died: sent again with the
    # same Message-ID (docs/scale-out.md), at once rather than after [outbox] sending_lease
    outbox = _sql("UPDATE outbox SET next_attempt_at = %s, claimed_by = '' WHERE state = 'sending'"
                  " AND claimed_by = %s", (utcnow(), node)).rowcount
    clear_node(node)  # its failing tasks are its own log's story now: status must not say so forever
    return {"spool entries": spool, "IMAP accounts": imap, "job runs": jobs, "outbox mails": outbox}
