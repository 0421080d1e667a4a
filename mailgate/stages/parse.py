"""Parse the raw bytes; refuse what is too large to be a help request.

A message over gateway.max_message_size is not truncated: it is held in the quarantine
whole (an operator can retry it after raising the limit) and its sender is told, in a
notice that names the size and the limit and says what to do instead. `mailgate deliver`
refuses such mail before the spool (exit 65) so the MTA's bounce says it; this path covers
IMAP and imported mail, which arrive already accepted.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from mailgate.core.message import Inbound
from mailgate.mailer import queue_mail
from mailgate.parse import parse_message
from mailgate.ratelimit import over_limit
from mailgate.stages.classify import classify_headers

if TYPE_CHECKING:
    from mailgate.env import Env

log = logging.getLogger("mailgate.parse")

REFUSAL_KIND = "refused-too-large"


class MessageTooLarge(ValueError):
    pass


class Parse:
    name = "parse"

    def __call__(self, msg: Inbound, env: Env) -> None:
        limit = env.settings.gateway.max_message_size
        if len(msg.raw) > limit:
            # the headers still tell us whom to answer
            msg.parsed = parse_message(msg.raw, headers_only=True)
            raise MessageTooLarge(
                f"message is {len(msg.raw)} bytes, over gateway.max_message_size ({limit})"
            )
        gateway = env.settings.gateway  # too deep or too many parts: quarantined before the costly parse
        msg.parsed = parse_message(msg.raw, max_depth=gateway.max_mime_depth, max_parts=gateway.max_mime_parts)


def human_size(size: int) -> str:
    if size >= 1_048_576:
        return f"{size / 1_048_576:.1f} MB"
    return f"{size / 1024:.1f} KB" if size >= 1024 else f"{size} bytes"


def tell_sender_too_large(msg: Inbound, env: Env, quarantine_id: int, error: str) -> bool:
    """Queue the too-large notice for a message just quarantined by Parse. Never to
    automatic mail or our own addresses, at most gateway.ack_rate_limit per sender and hour.
    Runs inside the quarantine's transaction. Returns True when a notice was queued."""
    p = msg.parsed
    if p is None or not error.startswith(MessageTooLarge.__name__):
        return False
    settings = env.settings
    ours = {settings.gateway.address.lower()} | {q.address.lower() for q in settings.queues}
    reply_to = p.reply_to[0][1] if p.reply_to and p.reply_to[0][1] else p.from_addr
    if not reply_to or "@" not in reply_to or reply_to in ours or classify_headers(p):
        return False
    if over_limit(REFUSAL_KIND, reply_to, env.clock(), settings.gateway.ack_rate_limit):
        log.warning("message %s: too-large notice to %s suppressed by the rate limit (stage parse)",
                    p.message_id, reply_to)
        return False
    queue_address = settings.queues[0].address
    for address in p.recipients:
        queue = settings.queue_for_address(address)
        if queue is not None:
            queue_address = queue.address
            break
    queue_mail(env, kind=REFUSAL_KIND, recipient=reply_to, template="too_large.txt.j2", sender=queue_address,
               subject=f"Not delivered: {p.subject or '(no subject)'}", auto_submitted="auto-replied",
               in_reply_to=p.message_id,
               context={"subject": p.subject, "size": human_size(p.size),
                        "limit": human_size(settings.gateway.max_message_size), "reference": quarantine_id})
    log.info("message %s: too-large notice queued to %s (stage parse)", p.message_id, reply_to)
    return True
