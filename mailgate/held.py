"""What a person does with mail that is held: a quarantined message released into the spool
again (after a fix, or to get past a rule's hold), a failed outbox mail queued again. Shared
by the CLI and the web desk's admin pages."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from mailgate.core.entry import SpoolEntry
from mailgate.core.errors import Conflict, NotFound
from mailgate.db.models import Outbox, Person, Quarantine

if TYPE_CHECKING:
    from mailgate.spool import Spool


def release(spool: Spool, quarantine_id: int) -> SpoolEntry:
    """Put a held message back in the spool (the rules' hold skips it: its source says it was
    released) and mark the quarantine entry retried. The caller's transaction commits the mark;
    the spool entry is durable before that."""
    q = Quarantine.get_or_none(Quarantine.id == quarantine_id)
    if q is None:
        raise NotFound(f"no quarantined message #{quarantine_id}")
    if q.state != "held":
        raise Conflict(f"quarantined message #{quarantine_id} is already {q.state}")
    entry = spool.accept(spool.read_raw(q.raw_sha256), f"quarantine-retry:{q.id}", tuple(q.recipients or ()))
    q.state = "retried"
    q.save()
    return entry


def discard(quarantine_id: int) -> None:
    """Mark a held message discarded (its raw bytes stay in the spool, for the record)."""
    q = Quarantine.get_or_none(Quarantine.id == quarantine_id)
    if q is None:
        raise NotFound(f"no quarantined message #{quarantine_id}")
    q.state = "discarded"
    q.save()


def retry_outbox(rows: list[Outbox], now: datetime) -> list[str]:
    """Queue entries again, sendable now; their recipients are no longer marked bouncing
    (retrying says the address works again). Returns those recipients."""
    for row in rows:
        if row.state in ("sent", "sending"):
            raise Conflict(f"outbox entry #{row.id} is {row.state}; only pending or failed entries can be retried")
    recipients = sorted({r for row in rows for r in (row.recipients or [])})
    if rows:
        (Outbox.update(state="pending", attempts=0, next_attempt_at=now)
         .where(Outbox.id.in_([r.id for r in rows])).execute())
    if recipients:
        Person.update(bouncing=False).where(Person.address.in_(recipients)).execute()
    return recipients
