"""Naive auto-responders: two of them on a nosy list, answering every alert without
Auto-Submitted or Precedence, would keep mail going round for ever (each answer is an
update the other is told about). An address that answers our mails within seconds, again
and again, is paused: no mail goes to it for a while, and the ticket says so.

The signal is timing, which a person cannot produce and a robot cannot avoid: an answer
whose In-Reply-To is a mail we sent to that very address, arriving less than `[alerts]
loop_seconds` after we sent it. `loop_replies` such answers within an hour pause the
address for `loop_pause_hours`. The answers themselves are stored as usual (nothing is
lost); only our mail to the address stops.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from mailgate.core.changes import MAIL, SYSTEM
from mailgate.core.message import ParsedMessage
from mailgate.db.models import Message, Outbox, Ticket
from mailgate.db.pause_models import MailPause
from mailgate.history import record_change

if TYPE_CHECKING:
    from mailgate.env import Env

log = logging.getLogger("mailgate.loop_guard")
WINDOW = timedelta(hours=1)


def paused(address: str, now: datetime) -> bool:
    row = MailPause.get_or_none(MailPause.address == address.lower())
    return row is not None and row.paused_until is not None and row.paused_until > now


def paused_among(addresses: list[str], now: datetime) -> set[str]:
    """Which of these addresses are paused now (one query for all the recipients of an act)."""
    if not addresses:
        return set()
    query = MailPause.select(MailPause.address).where(MailPause.address.in_([a.lower() for a in addresses]),
                                                      MailPause.paused_until > now)
    return {row.address for row in query}


def _answers_our_mail_quickly(env: Env, p: ParsedMessage, now: datetime) -> bool:
    address = p.from_addr.lower()
    ids = list(p.in_reply_to)[:1]
    if not ids or not address:
        return False
    ours = Message.get_or_none(Message.message_id == ids[0], Message.direction == "out")
    if ours is None or address not in [r.lower() for r in (ours.recipients or [])]:
        return False
    sent = Outbox.select(Outbox.sent_at).where(Outbox.message_id == ids[0]).scalar()
    return sent is not None and now - sent <= timedelta(seconds=env.settings.alerts.loop_seconds)


def note_answer(env: Env, ticket: Ticket, p: ParsedMessage, row: Message) -> None:
    """After a person's mail is stored: count it if it is a quick answer to our mail, and
    pause its sender once the count reaches loop_replies within the hour."""
    limit = env.settings.alerts.loop_replies
    now = env.now()
    if limit <= 0 or not _answers_our_mail_quickly(env, p, now):
        return
    address = p.from_addr.lower()
    pause, _ = MailPause.get_or_create(address=address, defaults={"window_start": now})
    if now - pause.window_start > WINDOW:
        pause.window_start, pause.quick_replies = now, 0
    pause.quick_replies += 1
    if pause.quick_replies >= limit and not (pause.paused_until and pause.paused_until > now):
        pause.paused_until = now + timedelta(hours=env.settings.alerts.loop_pause_hours)
        pause.ticket = ticket
        record_change(env, ticket, "mail-pause", None,
                      f"{address} until {pause.paused_until:%Y-%m-%d %H:%M} UTC: answered {pause.quick_replies} "
                      f"of our mails within {env.settings.alerts.loop_seconds:g} s each (an auto-responder?)",
                      actor=SYSTEM, source=MAIL, message=row)
        log.warning("message %s: %s answered %d mails within seconds: no mail to it until %s (stage store)",
                    p.message_id, address, pause.quick_replies, pause.paused_until)
    pause.save()
