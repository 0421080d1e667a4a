"""Signed reply addresses: helpdesk+t123p45-<mac>@example.com.

The token names the ticket and the person the mail was sent to, authenticated with an HMAC
over gateway.secret, so a reply through it identifies ticket and sender without trusting
headers a client may drop or a forger may write.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections import namedtuple

_TOKEN_RE = re.compile(r"^t(\d+)p(\d+)-([a-z2-7]{16})$")


# (ticket_id: int, person_id: int); a named tuple, not a dataclass: the MTA pipe checks
# reply addresses and importing dataclasses would cost each delivery ~8 ms
ReplyToken = namedtuple("ReplyToken", "ticket_id person_id")


def _mac(secret: str, ticket_id: int, person_id: int) -> str:
    digest = hmac.new(secret.encode(), f"{ticket_id}:{person_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode().lower()


def make_token(secret: str, ticket_id: int, person_id: int) -> str:
    return f"t{ticket_id}p{person_id}-{_mac(secret, ticket_id, person_id)}"


def reply_address(queue_address: str, secret: str, ticket_id: int, person_id: int) -> str:
    local, _, domain = queue_address.partition("@")
    return f"{local}+{make_token(secret, ticket_id, person_id)}@{domain}"


def parse_token(token: str, secret: str) -> ReplyToken | None:
    """A ReplyToken for a valid token, None for anything else (forged, mangled)."""
    m = _TOKEN_RE.match(token.lower())
    if not m:
        return None
    ticket_id, person_id = int(m.group(1)), int(m.group(2))
    if not hmac.compare_digest(m.group(3), _mac(secret, ticket_id, person_id)):
        return None
    return ReplyToken(ticket_id, person_id)


def split_plus(address: str) -> tuple[str, str | None]:
    """'helpdesk+tok@example.com' -> ('helpdesk@example.com', 'tok')."""
    local, _, domain = address.lower().partition("@")
    base, plus, tag = local.partition("+")
    return f"{base}@{domain}", (tag if plus else None)
