"""Signed links in mail: `/t/<ticket>?k=<person>.<expires>.<mac>`, made for one recipient
and one ticket (HMAC over gateway.secret, like the reply addresses). Opening one signs that
person in to that ticket only; it cannot be turned into another person's or another
ticket's link, and it stops working after `[web] ticket_link_days`. Stateless: nothing is
stored until someone opens it."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

SEP = "."


def _mac(secret: str, ticket_id: int, person_id: int, expires: int) -> str:
    data = f"ticket-link:{ticket_id}:{person_id}:{expires}".encode()
    return base64.urlsafe_b64encode(hmac.new(secret.encode(), data, hashlib.sha256).digest()[:18]).decode()


def ticket_key(secret: str, ticket_id: int, person_id: int, now: datetime, days: float) -> str:
    expires = int((now.replace(tzinfo=now.tzinfo or UTC) + timedelta(days=days)).timestamp())
    return SEP.join((str(person_id), str(expires), _mac(secret, ticket_id, person_id, expires)))


def check_ticket_key(secret: str, ticket_id: int, key: str, now: datetime) -> int | None:
    """The person a valid, unexpired key was made for; None otherwise."""
    parts = key.split(SEP)
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    person_id, expires = int(parts[0]), int(parts[1])
    if not hmac.compare_digest(parts[2], _mac(secret, ticket_id, person_id, expires)):
        return None
    if expires <= now.replace(tzinfo=now.tzinfo or UTC).timestamp():
        return None
    return person_id


def ticket_url(base_url: str, secret: str, ticket_id: int, person_id: int, now: datetime, days: float) -> str:
    return f"{base_url.rstrip('/')}/t/{ticket_id}?k={ticket_key(secret, ticket_id, person_id, now, days)}"


def attachment_url(base_url: str, secret: str, ticket_id: int, attachment_id: int, person_id: int, now: datetime,
                   days: float) -> str:
    """A file too large to attach, for one recipient: the same key as their ticket link."""
    key = ticket_key(secret, ticket_id, person_id, now, days)
    return f"{base_url.rstrip('/')}/t/{ticket_id}/attachments/{attachment_id}?k={key}"
