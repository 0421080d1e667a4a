"""The pipeline's lifecycle stage, between Commands and Notify.

- A `merge:` in this message moved the ticket: the message row follows it (the commands
  stage saved it on the old ticket) and Notify tells the surviving ticket's nosy list.
- The requester writing to a snoozed ticket wakes it early; the change rides along in the
  alert mail Notify sends about the message anyway.
- A child ticket's news goes to its parent's nosy list too, as the parent's queue says
  (`parent_sees`: all updates, status changes only, or none); people who hear of the child
  anyway (its own nosy list, the author) get no second copy.
"""

from __future__ import annotations

import logging

from mailgate.commands.base import Change
from mailgate.db.models import Message, Snooze, Ticket
from mailgate.lifecycle.merge import final_ticket
from mailgate.lifecycle.snooze import wake
from mailgate.mailer import queue_mail
from mailgate.nosy import alert_recipients
from mailgate.people import is_staff
from mailgate.stages.base import Env, Inbound
from mailgate.stages.rows import ticket_of

log = logging.getLogger("mailgate.lifecycle")


class Lifecycle:
    name = "lifecycle"

    def __call__(self, msg: Inbound, env: Env) -> None:
        if msg.ticket_id is None or msg.parsed is None:
            return
        mid = msg.parsed.message_id
        # Thread already followed earlier merges; only a `merge:` in this message (which set
        # the status on this very object) can have moved the ticket since
        merged = ticket_of(msg).status == "merged"
        final = final_ticket(msg.ticket_id) if merged else msg.ticket_id
        if final != msg.ticket_id:
            if msg.message_row_id is not None:
                Message.update(ticket=final).where(Message.id == msg.message_row_id).execute()
            log.info("message %s follows ticket #%s merged into #%s (stage lifecycle)", mid, msg.ticket_id,
                     final, extra={"message_id": mid, "stage": "lifecycle"})
            msg.ticket_id = final
        if msg.created or msg.auto_class:
            return
        ticket = ticket_of(msg)
        sender = (msg.parsed.from_addr or "").lower()
        if ticket.status == "stalled" and sender == ticket.requester.address \
                and Snooze.select().where(Snooze.ticket == ticket).exists():
            msg.changes.extend(wake(env, ticket, sender, "", tell=False))
            log.info("message %s: the requester wrote, ticket #%s woke early (stage lifecycle)", mid, ticket.id,
                     extra={"message_id": mid, "stage": "lifecycle"})
        if ticket.parent_id is not None:
            self._tell_parent(msg, env, ticket, sender)

    def _tell_parent(self, msg: Inbound, env: Env, ticket: Ticket, author: str) -> None:
        from mailgate.clean import REPLY_MARKER

        settings = env.settings
        parent: Ticket = ticket.parent
        queue = settings.queue_named(parent.queue.name)
        mode = queue.parent_sees if queue else "status"
        status_changes: list[Change] = [c for c in msg.changes if c.field == "status"]
        p = msg.parsed
        assert p is not None
        text = msg.body if msg.body is not None else (msg.clean.visible if msg.clean else p.text_plain)
        if mode == "none" or (mode == "status" and not status_changes) or not (text.strip() or msg.changes):
            return
        already = {r.address for r in alert_recipients(ticket, settings)} | {author}
        name = p.from_name or author
        for person in alert_recipients(parent, settings, exclude=already):
            shown = text if mode == "all" and (not msg.internal or is_staff(settings, person.address)) else ""
            queue_mail(env, ticket=ticket, kind="alert", recipient=person, template="alert.txt.j2",
                       context={"author": author, "author_name": name, "text": shown,
                                "changes": msg.changes if mode == "all" else status_changes, "created": False,
                                "internal": False, "listed": [], "attached": [], "marker": REPLY_MARKER},
                       from_name=f"{name} via {settings.gateway.name}", in_reply_to=p.message_id)
        log.info("message %s: parent #%s's nosy list told of child #%s (%s) (stage lifecycle)", p.message_id,
                 parent.id, ticket.id, mode, extra={"message_id": p.message_id, "stage": "lifecycle"})
