"""What follows from an act in the ticket's lifecycle, after its commands ran:

- a `merge:` moved the ticket: the act's message follows it, and the alerts go to the
  surviving ticket's nosy list;
- the requester writing to a snoozed ticket wakes it early; the change rides along in the
  alert mail the act sends anyway;
- a child ticket's news goes to its parent's nosy list too, as the parent's queue says
  (`parent_sees`: all updates, status changes only, or none); people who hear of the child
  anyway (its own nosy list, the author) get no second copy.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from mailgate.alerting import News, send_alert
from mailgate.core.changes import Change
from mailgate.db.models import Message, Snooze, Ticket
from mailgate.lifecycle.merge import final_ticket
from mailgate.nosy import alert_recipients
from mailgate.people import is_staff
from mailgate.tickets.act import Act
from mailgate.tickets.changes import wake

if TYPE_CHECKING:
    from mailgate.env import Env

log = logging.getLogger("mailgate.lifecycle")


def follow_merge(act: Act) -> None:
    """Thread already followed earlier merges; only a `merge:` in this act (which set the
    status on this very object) can have moved the ticket since."""
    if act.ticket.status != "merged":
        return
    final = final_ticket(act.ticket.id)
    if final == act.ticket.id:
        return
    if act.message is not None:
        Message.update(ticket=final).where(Message.id == act.message.id).execute()
        act.message.ticket = final
    log.info("message %s follows ticket #%s merged into #%s (stage lifecycle)", act.message_id, act.ticket.id,
             final, extra={"message_id": act.message_id, "stage": "lifecycle"})
    act.ticket = Ticket.get_by_id(final)


def wake_for_requester(env: Env, act: Act) -> None:
    """The requester wrote to their stalled, snoozed ticket: it wakes now."""
    ticket = act.ticket
    if ticket.status == "stalled" and act.author == ticket.requester.address \
            and Snooze.select().where(Snooze.ticket == ticket).exists():
        act.changes.extend(wake(env, ticket, act.author, "", source=act.source, tell=False))
        log.info("message %s: the requester wrote, ticket #%s woke early (stage lifecycle)", act.message_id,
                 ticket.id, extra={"message_id": act.message_id, "stage": "lifecycle"})


def tell_parent(env: Env, act: Act) -> None:
    ticket = act.ticket
    if ticket.parent_id is None:
        return
    settings = env.settings
    parent: Ticket = ticket.parent
    queue = settings.queue_named(parent.queue.name)
    mode = queue.parent_sees if queue else "status"
    status_changes: list[Change] = [c for c in act.changes if c.field == "status"]
    text = act.shown_text
    if mode == "none" or (mode == "status" and not status_changes) or not (text.strip() or act.changes):
        return
    already = {r.address for r in alert_recipients(ticket, settings)} | {act.author}
    news = News(author=act.author, author_name=act.author_name or act.author,
                changes=act.changes if mode == "all" else status_changes, in_reply_to=act.message_id or None)
    for person in alert_recipients(parent, settings, exclude=already):
        shown = text if mode == "all" and (not act.internal or is_staff(settings, person.address)) else ""
        send_alert(env, ticket, person, news, text=shown)
    log.info("message %s: parent #%s's nosy list told of child #%s (%s) (stage lifecycle)", act.message_id,
             parent.id, ticket.id, mode, extra={"message_id": act.message_id, "stage": "lifecycle"})
