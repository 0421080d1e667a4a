"""How many automatic mails of a kind one address got lately: the rate limit that keeps a
misbehaving autoresponder, or a forged sender, from turning the gateway into a mail loop.

Counted by `Outbox.recipient` (the mail's one recipient, lowercased; indexed with kind and
creation time, migration 8), so the count reads only that address's rows: at most the limit
plus the ones before it, however many other people got replies in the hour. (Before issue
8's profiling the count matched the JSON recipients column with peewee's contains(), which
passed the pattern through json.dumps and never matched an ordinary address: the limit did
not apply. tests/notify/test_rate_limit.py.)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from mailgate.db import fastsql
from mailgate.db.models import Outbox


def mails_since(kind: str, address: str, since: datetime) -> int:
    """Outbox rows of `kind` to `address` created at or after `since` (naive UTC)."""
    found = fastsql.rows(Outbox, "rate-count", count_sql, [address.lower(), kind, Outbox.created_at.db_value(since)])
    return int(found[0][0])


def count_sql(s: fastsql.Sql) -> str:
    return (f"SELECT COUNT(*) FROM {s.t(Outbox)} WHERE {s.c(Outbox.recipient)} = {s.p}"
            f" AND {s.c(Outbox.kind)} = {s.p} AND {s.c(Outbox.created_at)} >= {s.p}")


def over_limit(kind: str, address: str, now: datetime, per_hour: int) -> bool:
    """True when `address` already got `per_hour` mails of `kind` in the hour before `now`."""
    return mails_since(kind, address, now.replace(tzinfo=None) - timedelta(hours=1)) >= per_hour
