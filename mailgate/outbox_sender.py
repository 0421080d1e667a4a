"""Deliver the outbox through the configured SMTP relay ([relay]), with retries.

Exactly once, as seen by the recipient:
- a row is marked `sending` in a committed transaction BEFORE the SMTP transaction starts, so
  a crash can never leave a mail that went out looking unsent-and-fresh;
- the mark carries a lease (`[outbox] sending_lease`): a row still `sending` after it (the
  process died between the relay's 250 and our "sent" mark) is sent again, byte for byte,
  with the SAME Message-ID. The one case that can produce a second copy is therefore a
  recognisable duplicate that clients and list servers that de-duplicate by Message-ID
  drop, instead of a new mail; a send that failed before the 250 simply completes.
- The lease also keeps two senders (the daemon and a one-shot `mailgate outbox send`) from
  sending the same row: claiming is a compare-and-set on (state, next_attempt_at). On
  PostgreSQL (several nodes), a sender claims the next due row with FOR UPDATE SKIP LOCKED,
  one at a time (a node that dies strands one mail, not a batch), and marks it with its node
  name; a node marked down has its `sending` rows sent again at once (mailgate/daemon/node.py).

Failures: a 4xx answer or a connection error retries with exponential backoff
(`backoff_initial` doubling up to `backoff_max`, `max_attempts` tries); a 5xx answer marks the
row failed, and a 5xx for a recipient marks that Person as bouncing so alerts skip them.
`mailgate outbox retry` puts failed rows back.

peewee is synchronous: every database call runs in one dedicated thread, off the loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import aiosmtplib
import peewee as pw

from mailgate.db.models import Outbox, Person, database_proxy
from mailgate.db.transaction import write_transaction
from mailgate.env import Env

log = logging.getLogger("mailgate.outbox")


@functools.cache
def this_host() -> str:
    """The FQDN for EHLO without `[relay] helo_name`, looked up once (aiosmtplib would ask
    the resolver at every connection)."""
    return socket.getfqdn()
T = TypeVar("T")
BATCH = 100


@dataclass
class SendStats:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class _Temporary(Exception):
    """Try again later (4xx, connection trouble)."""


class _Permanent(Exception):
    """Do not try again (5xx); `bouncing` lists recipients the relay refused for good."""

    def __init__(self, text: str, bouncing: list[str] | None = None) -> None:
        super().__init__(text)
        self.bouncing = bouncing or []


class OutboxSender:
    def __init__(self, env: Env, owner: str = "") -> None:
        self.env = env
        self.owner = owner  # the node name on the rows it is sending
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mailgate-outbox-db")
        self.last = SendStats()

    async def _in_db(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._db, functools.partial(fn, *args))

    def _now(self) -> datetime:
        return self.env.clock().replace(tzinfo=None)

    # -- database side (runs in the outbox thread) ---------------------------------------

    def _due_ids(self) -> list[int]:
        query = (Outbox.select(Outbox.id)
                 .where(Outbox.state.in_(("pending", "sending")), Outbox.next_attempt_at <= self._now())
                 .order_by(Outbox.next_attempt_at, Outbox.id))
        return [r.id for r in query]

    def _claim(self, row_id: int) -> Outbox | None:
        """Mark the row `sending` (committed) if it is still due; None if someone else has it."""
        now = self._now()
        with write_transaction():
            row = Outbox.get_or_none(Outbox.id == row_id)
            if row is None or row.state not in ("pending", "sending") or row.next_attempt_at > now:
                return None
            lease = now + timedelta(seconds=self.env.settings.outbox.sending_lease)
            changed = (Outbox.update(state="sending", next_attempt_at=lease)
                       .where(Outbox.id == row_id, Outbox.state == row.state,
                              Outbox.next_attempt_at == row.next_attempt_at)
                       .execute())
        if changed != 1:
            return None
        return row

    def _claim_next(self) -> Outbox | None:
        """PostgreSQL: the next due row, marked `sending` for this node (committed), skipping
        rows another sender is claiming; None when nothing is due."""
        now = self._now()
        lease = now + timedelta(seconds=self.env.settings.outbox.sending_lease)
        found = database_proxy.obj.execute_sql(
            "WITH c AS (SELECT id, state FROM outbox WHERE state IN ('pending', 'sending') AND next_attempt_at <= %s"
            " ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
            " UPDATE outbox o SET state = 'sending', next_attempt_at = %s, claimed_by = %s FROM c WHERE o.id = c.id"
            " RETURNING o.id, c.state", (now, lease, self.owner)).fetchone()
        if found is None:
            return None
        row = Outbox.get_by_id(found[0])
        row.state = found[1]  # as it was before the claim (the log says when it is a resend)
        return row

    async def _claimed_rows(self) -> AsyncIterator[Outbox]:
        """Every due row, each claimed for this sender before it is sent."""
        if isinstance(database_proxy.obj, pw.PostgresqlDatabase):
            while (row := await self._in_db(self._claim_next)) is not None:
                yield row
            return
        for row_id in await self._in_db(self._due_ids):
            row = await self._in_db(self._claim, row_id)
            if row is not None:
                yield row

    def _mark_sent(self, row_id: int, note: str) -> None:
        with write_transaction():
            Outbox.update(state="sent", sent_at=self._now(), attempts=Outbox.attempts + 1, last_error=note) \
                .where(Outbox.id == row_id).execute()

    def _mark_failed(self, row_id: int, error: str, bouncing: list[str]) -> None:
        with write_transaction():
            Outbox.update(state="failed", attempts=Outbox.attempts + 1, last_error=error) \
                .where(Outbox.id == row_id).execute()
            if bouncing:
                Person.update(bouncing=True).where(Person.address.in_([b.lower() for b in bouncing])).execute()

    def _mark_deferred(self, row_id: int, error: str) -> str:
        """Back off, or give up after max_attempts; returns the new state."""
        settings = self.env.settings.outbox
        with write_transaction():
            row = Outbox.get_by_id(row_id)
            attempts = row.attempts + 1
            if attempts >= settings.max_attempts:
                state, error = "failed", f"gave up after {attempts} attempts: {error}"
                when = row.next_attempt_at
            else:
                state = "pending"
                delay = min(settings.backoff_max, settings.backoff_initial * 2 ** (attempts - 1))
                when = self._now() + timedelta(seconds=delay)
            Outbox.update(state=state, attempts=attempts, last_error=error, next_attempt_at=when) \
                .where(Outbox.id == row_id).execute()
        return state

    # -- SMTP side (on the loop) ------------------------------------------------------------

    async def _connect(self) -> aiosmtplib.SMTP:
        relay = self.env.settings.relay
        client = aiosmtplib.SMTP(hostname=relay.host, port=relay.port, timeout=relay.timeout,
                                 start_tls=True if relay.starttls else False,
                                 username=relay.username or None, password=relay.password or None,
                                 local_hostname=relay.helo_name or this_host())
        await client.connect()
        return client

    async def _deliver(self, client: aiosmtplib.SMTP, row: Outbox) -> str:
        """One SMTP transaction; returns a note about refused recipients ("" when none)."""
        recipients = list(row.recipients or [])
        try:
            refused, _ = await client.sendmail(row.sender, recipients, row.message.encode("utf-8"))
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [(r.recipient, r.code, r.message) for r in exc.recipients]
            text = "; ".join(f"{rcpt}: {code} {message}" for rcpt, code, message in codes)
            if all(code >= 500 for _, code, _ in codes):
                raise _Permanent(text, [rcpt for rcpt, _, _ in codes]) from exc
            raise _Temporary(text) from exc
        except aiosmtplib.SMTPResponseException as exc:
            text = f"{exc.code} {exc.message}"
            if exc.code >= 500:
                raise _Permanent(text) from exc
            raise _Temporary(text) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise _Temporary(f"{type(exc).__name__}: {exc}") from exc
        if refused:
            bouncing = [r for r, resp in refused.items() if resp.code >= 500]
            if bouncing:
                await self._in_db(self._mark_bouncing, bouncing)
            return "; ".join(f"{r}: {resp.code} {resp.message}" for r, resp in refused.items())
        return ""

    def _mark_bouncing(self, addresses: list[str]) -> None:
        Person.update(bouncing=True).where(Person.address.in_([a.lower() for a in addresses])).execute()

    async def send_due(self) -> int:
        """Send every row that is due now, once; returns how many were sent."""
        stats = SendStats()
        self.last = stats
        client: aiosmtplib.SMTP | None = None
        try:
            async for row in self._claimed_rows():
                if row.state == "sending":
                    log.warning("outbox #%s message %s stage outbox: left 'sending' by an earlier run; resending "
                                "with the same Message-ID", row.id, row.message_id,
                                extra={"message_id": row.message_id})
                try:
                    if client is None:
                        try:
                            client = await self._connect()
                        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                            raise _Temporary(f"relay {self.env.settings.relay.host}:{self.env.settings.relay.port}: "
                                             f"{type(exc).__name__}: {exc}") from exc
                    note = await self._deliver(client, row)
                except _Permanent as exc:
                    await self._in_db(self._mark_failed, row.id, str(exc), exc.bouncing)
                    stats.failed += 1
                    stats.errors.append(f"#{row.id}: {exc}")
                    log.error("outbox #%s message %s stage outbox: failed for good: %s", row.id, row.message_id, exc,
                              extra={"message_id": row.message_id})
                    client = await _reset(client)
                    continue
                except _Temporary as exc:
                    state = await self._in_db(self._mark_deferred, row.id, str(exc))
                    stats.errors.append(f"#{row.id}: {exc}")
                    if state == "failed":
                        stats.failed += 1
                    else:
                        stats.deferred += 1
                    log.warning("outbox #%s message %s stage outbox: %s (%s)", row.id, row.message_id,
                                "gave up" if state == "failed" else "will retry", exc, extra={"message_id": row.message_id})
                    client = await _reset(client)
                    continue
                await self._in_db(self._mark_sent, row.id, note)
                stats.sent += 1
                log.info("outbox #%s message %s stage outbox: sent to %s", row.id, row.message_id,
                         ", ".join(row.recipients or []), extra={"message_id": row.message_id})
        finally:
            if client is not None:
                await _reset(client)
        return stats.sent

    async def run(self, stop: asyncio.Event) -> None:
        """Drain due rows until `stop` is set; look again every `[outbox] poll_interval`."""
        interval = self.env.settings.outbox.poll_interval
        while not stop.is_set():
            try:
                await self.send_due()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the sender
                log.exception("message - stage outbox: sending pass failed; retrying in %ss", interval)
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except TimeoutError:
                pass

    def close(self) -> None:
        self._db.shutdown(wait=True)


async def _reset(client: aiosmtplib.SMTP | None) -> None:
    """Drop the connection after an error: a fresh one is cheaper than guessing its state."""
    if client is None:
        return None
    try:
        if client.is_connected:
            await client.quit()
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        client.close()
    return None
