"""How many automatic mails of a kind one address got lately: the rate limit that keeps a
misbehaving autoresponder, or a forged sender, from turning the gateway into a mail loop.

`Outbox.recipients` is a JSON list, so the address is matched as its quoted JSON string with
LIKE. The pattern is written by hand: peewee's `contains()` on a JSON field passes the
pattern through the field's json.dumps, which quoted it again and made the limit never
match an address without `_` or `%` in it (found in issue 8's profiling; tested in
tests/notify/test_rate_limit.py).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from mailgate.db import fastsql
from mailgate.db.models import Outbox


def like_pattern(address: str) -> str:
    """`%"address"%` with LIKE's wildcards and the escape character escaped."""
    quoted = json.dumps(address.lower(), ensure_ascii=False)
    return "%" + quoted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def mails_since(kind: str, address: str, since: datetime) -> int:
    """Outbox rows of `kind` to `address` created at or after `since` (naive UTC)."""
    found = fastsql.rows(Outbox, "rate-count", lambda s: (
        f"SELECT COUNT(*) FROM {s.t(Outbox)} WHERE {s.c(Outbox.kind)} = {s.p}"
        f" AND {s.c(Outbox.created_at)} >= {s.p} AND LOWER({s.c(Outbox.recipients)}) LIKE {s.p} ESCAPE '\\'"),
        [kind, Outbox.created_at.db_value(since), like_pattern(address)])
    return int(found[0][0])


def over_limit(kind: str, address: str, now: datetime, per_hour: int) -> bool:
    """True when `address` already got `per_hour` mails of `kind` in the hour before `now`."""
    return mails_since(kind, address, now.replace(tzinfo=None) - timedelta(hours=1)) >= per_hour
