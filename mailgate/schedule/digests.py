"""Daily reminder digests: each technician gets, once a day at `[lifecycle] reminder_time`
in the timezone of their (first) queue, the unowned open tickets of their queues and their
own open tickets. Nothing is sent when both lists are empty. The day's LifecycleMark is
written with the mail, so a restart or a second run the same day sends nothing again.

A digest is about many tickets, so it is not a ticket's mail: the outbox writer gives it the
same loop-safe headers but no ticket tag or reply token (a reply to it reaches the queue
address and opens a ticket like any mail)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from mailgate.config import PersonSettings, Settings
from mailgate.config.lifecycle import parse_hhmm
from mailgate.db.models import LifecycleMark, Outbox, Person, Queue, Ticket
from mailgate.mailer import queue_mail

if TYPE_CHECKING:
    from mailgate.env import Env

log = logging.getLogger("mailgate.lifecycle.reminders")

UNOWNED_STATUSES = ("new", "open")
OWN_STATUSES = ("new", "open", "stalled")
LISTED = 50


@dataclass(frozen=True)
class Digest:
    address: str
    day: str  # local date, YYYY-MM-DD
    unowned: list[Ticket]  # the first LISTED of them
    own: list[Ticket]
    unowned_total: int
    own_total: int


def staff_queues(settings: Settings, p: PersonSettings) -> list[str]:
    return list(p.queues) or [q.name for q in settings.queues]


def digest_for(settings: Settings, p: PersonSettings, day: str) -> Digest:
    """Most urgent first; at most LISTED tickets per section (a digest is read, not searched)."""
    queues = staff_queues(settings, p)
    unowned = (Ticket.select(Ticket, Queue).join(Queue)
               .where(Queue.name.in_(queues), Ticket.owner.is_null(), Ticket.status.in_(UNOWNED_STATUSES))
               .order_by(Ticket.priority, Ticket.id))
    own = (Ticket.select(Ticket, Queue).join(Queue).switch(Ticket).join(Person, on=Ticket.owner == Person.id)
           .where(Person.address == p.address.lower(), Ticket.status.in_(OWN_STATUSES))
           .order_by(Ticket.priority, Ticket.id))
    return Digest(p.address.lower(), day, list(unowned.limit(LISTED)), list(own.limit(LISTED)),
                  unowned.count(), own.count())


def send_digests(env: Env) -> str:
    """The scheduler job: digests that are due today and not sent yet."""
    settings = env.settings
    if not settings.lifecycle.reminder_time:
        return "reminders off"
    at = parse_hhmm(settings.lifecycle.reminder_time, "lifecycle.reminder_time")
    now = env.now()
    sent = 0
    for p in settings.people:
        if p.role != "technician":
            continue
        queue = settings.queue_named(staff_queues(settings, p)[0])
        local = now.replace(tzinfo=UTC).astimezone(ZoneInfo(queue.timezone if queue else "UTC"))
        if local.time() < at:
            continue
        day = local.date().isoformat()
        key = f"digest:{p.address.lower()}:{day}"
        if LifecycleMark.select().where(LifecycleMark.key == key).exists():
            continue
        LifecycleMark.create(key=key, at=now)  # also on an empty day: nothing to say, nothing sent
        digest = digest_for(settings, p, day)
        if digest.unowned or digest.own:
            _queue_digest(env, digest, queue.address if queue else settings.gateway.address)
            sent += 1
            log.info("digest for %s: %d unowned, %d own (stage lifecycle)", digest.address,
                     len(digest.unowned), len(digest.own), extra={"stage": "lifecycle"})
    return f"{sent} digest(s)"


def _queue_digest(env: Env, digest: Digest, sender: str) -> Outbox:
    return queue_mail(env, kind="digest", recipient=digest.address, template="digest.txt.j2",
                      context={"digest": digest}, sender=sender,
                      subject=f"{env.settings.gateway.name}: your tickets on {digest.day}")
