"""Who fetches an IMAP account: one node at a time (several nodes on one PostgreSQL).

A lease in the account's row (holder, held_until by the database's clock), not a session
advisory lock: a session-level lock belongs to a server connection, and PgBouncer in
transaction pooling hands that connection to other clients between transactions, so the
lock would be held (or released) for the wrong client. A row is plain data every pooler
passes through. The holder renews it with each heartbeat (mailgate/daemon/node.py); a node
that dies stops renewing, and another takes the account over once the lease is over (or
at once when a live node marks the dead one down).

The fetcher asks `still_held()` before each message and each IDLE: a node that lost the
lease (it was stalled for longer than the lease) stops instead of fetching beside the new
holder. Fetching twice would still store nothing twice (the source key, Message-ID and
content hash), it would only be wasted work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from mailgate.db.models import database_proxy

NOW = "(now() AT TIME ZONE 'UTC')"


class AlwaysHeld:
    """One daemon per spool folder: the account is this daemon's."""

    holder = ""

    async def acquire(self) -> bool:
        return True

    async def still_held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class AccountLease:
    def __init__(self, account: str, owner: str, lease: float, run: Callable[..., Awaitable[Any]]) -> None:
        """`run(fn, *args)`: run fn in the database thread."""
        self.account = account
        self.owner = owner
        self.lease = lease
        self.run = run
        self.holder = ""  # who has it, as last seen

    async def acquire(self) -> bool:
        self.holder = await self.run(self._acquire)
        return self.holder == self.owner

    async def still_held(self) -> bool:
        return await self.run(self._held)

    async def release(self) -> None:
        await self.run(self._release)

    # --- the database thread ----------------------------------------------------------------

    def _acquire(self) -> str:
        db = database_proxy.obj
        with db.atomic():
            db.execute_sql("INSERT INTO imap_account_state (account, holder, fetched, last_error)"
                           " VALUES (%s, '', 0, '') ON CONFLICT (account) DO NOTHING", (self.account,))
            db.execute_sql(f"UPDATE imap_account_state SET holder = %s, held_until = {NOW} + %s * interval '1 second'"
                           f" WHERE account = %s AND (holder IN ('', %s) OR held_until IS NULL OR held_until < {NOW})",
                           (self.owner, self.lease, self.account, self.owner))
            row = db.execute_sql("SELECT holder FROM imap_account_state WHERE account = %s", (self.account,)).fetchone()
        return row[0] if row else ""

    def _held(self) -> bool:
        row = database_proxy.obj.execute_sql(
            f"SELECT holder = %s AND held_until >= {NOW} FROM imap_account_state WHERE account = %s",
            (self.owner, self.account)).fetchone()
        return bool(row and row[0])

    def _release(self) -> None:
        database_proxy.obj.execute_sql("UPDATE imap_account_state SET holder = '', held_until = NULL"
                                       " WHERE account = %s AND holder = %s", (self.account, self.owner))
