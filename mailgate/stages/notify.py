"""Tell people: an acknowledgement to the requester of a new ticket.

Never in reply to automatic mail (no backscatter), never to our own addresses, and at most
gateway.ack_rate_limit acknowledgements per sender per hour, so a misbehaving autoresponder
that slips past classification cannot start a loop.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from mailgate.db.models import Outbox, Person, Ticket
from mailgate.mailer import queue_mail
from mailgate.stages.base import Env, Inbound

log = logging.getLogger("mailgate.notify")


def own_addresses(env: Env) -> set[str]:
    return {env.settings.gateway.address.lower()} | {q.address.lower() for q in env.settings.queues}


class Notify:
    name = "notify"

    def __call__(self, msg: Inbound, env: Env) -> None:
        if not msg.created or msg.auto_class:
            return
        p = msg.parsed
        assert p is not None and msg.ticket_id is not None
        ticket = Ticket.get_by_id(msg.ticket_id)
        requester: Person = ticket.requester
        if requester.address in own_addresses(env) or requester.bouncing or "@" not in requester.address:
            return
        if self._rate_limited(requester.address, env):
            log.warning("acknowledgement to %s suppressed: over %s per hour (message %s)",
                        requester.address, env.settings.gateway.ack_rate_limit, p.message_id)
            return
        queue_mail(
            env, ticket=ticket, kind="ack", recipient=requester, template="ack.txt.j2",
            context={"notes": msg.notes, "message": p}, auto_submitted="auto-replied",
            in_reply_to=p.message_id,
        )

    def _rate_limited(self, address: str, env: Env) -> bool:
        since = env.clock().replace(tzinfo=None) - timedelta(hours=1)
        count = (Outbox.select().where(Outbox.kind == "ack", Outbox.created_at >= since,
                                       Outbox.recipients.contains(f'"{address}"')).count())
        return count >= env.settings.gateway.ack_rate_limit
