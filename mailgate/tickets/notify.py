"""Tell people about an act: the acknowledgement, the command receipt and the alert mails.

- acknowledgement: to the requester of a new ticket (rate-limited per sender and hour);
- receipt: to the sender of a mail with commands, listing applied and refused ones (the
  other doors answer in their own way: the CLI prints the receipt, the API returns it);
- alerts: to the nosy list and the queue's watchers, minus the author (unless
  `[alerts] notify_author`), on new tickets, new visible text and status/owner changes.
  An act that only carried commands alerts nobody unless it changed status or owner.
  An internal note goes to staff only.

Never in reply to automatic mail (no backscatter), never to our own addresses, never to
addresses that bounce. All of it goes into the outbox inside the act's transaction.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from mailgate.alerting import Attached, News, send_alert
from mailgate.attachments import attachment_path
from mailgate.commands import help_text
from mailgate.core.changes import MAIL
from mailgate.db.models import Attachment, Person
from mailgate.lifecycle.view import other_open_tickets
from mailgate.loop_guard import paused, paused_among
from mailgate.mailer import queue_mail
from mailgate.nosy import alert_recipients, is_own_address
from mailgate.people import is_staff
from mailgate.ratelimit import over_limit
from mailgate.safe_text import safe_filename
from mailgate.tickets.act import Act

if TYPE_CHECKING:
    from mailgate.env import Env

log = logging.getLogger("mailgate.notify")

# changes that are news for everyone on the ticket; others ride along when there is text
ALERT_FIELDS = ("status", "owner")
# the acknowledgement lists at most this many other open tickets of the requester
OTHERS_SHOWN = 10


def reachable(person: Person, env: Env) -> bool:
    return ("@" in person.address and not person.bouncing and not is_own_address(env.settings, person.address)
            and not paused(person.address, env.now()))


def rate_limited(env: Env, kind: str, address: str, message_id: str) -> bool:
    """At most gateway.ack_rate_limit automatic replies of a kind per address and hour, so
    a misbehaving autoresponder that slips past classification cannot start a loop."""
    limited = over_limit(kind, address, env.clock(), env.settings.gateway.ack_rate_limit)
    if limited:
        log.warning("message %s stage notify: %s to %s suppressed: over %s per hour", message_id, kind,
                    address, env.settings.gateway.ack_rate_limit, extra={"message_id": message_id})
    return limited


def acknowledge(env: Env, act: Act) -> None:
    requester: Person = act.ticket.requester
    if not reachable(requester, env) or rate_limited(env, "ack", requester.address, act.message_id):
        return
    queue_mail(
        env, ticket=act.ticket, kind="ack", recipient=requester, template="ack.txt.j2",
        context={"notes": act.notes, "message": act.mail,
                 "others": other_open_tickets(act.ticket, OTHERS_SHOWN + 1)},
        auto_submitted="auto-replied", in_reply_to=act.message_id or None,
    )


def receipt(env: Env, act: Act) -> None:
    report = act.report
    assert report is not None
    if not reachable(act.actor, env) or rate_limited(env, "receipt", act.actor.address, act.message_id):
        return
    wants_help = report.help_requested or (report.refused and not report.unverified)
    queue_mail(
        env, ticket=act.ticket, kind="receipt", recipient=act.actor, template="receipt.txt.j2",
        context={"report": report, "message": act.mail, "help": help_text(env.commands) if wants_help else ""},
        auto_submitted="auto-replied", in_reply_to=act.message_id or None,
    )


def alerts(env: Env, act: Act, references: list[str]) -> None:
    settings = env.settings
    text = act.shown_text
    news_changes = [c for c in act.changes if c.field in ALERT_FIELDS]
    if not text.strip() and not news_changes and not act.created:
        return  # commands only: the ticket changed, nobody needs an empty update
    author = act.author
    exclude = set() if settings.alerts.notify_author else {author}
    if act.created:
        exclude.add(act.ticket.requester.address)  # the requester has the acknowledgement
    attached, listed = _attachments(env, act)
    staff_entry = settings.person(author)
    author_name = act.author_name or (staff_entry.name if staff_entry else "") or author
    news = News(author=author, author_name=author_name, changes=act.changes, created=act.created,
                in_reply_to=act.message_id or None, listed=listed, attached=attached)
    recipients = alert_recipients(act.ticket, settings, exclude=exclude)
    stopped = paused_among([p.address for p in recipients], env.now())  # naive auto-responders (loop_guard)
    for person in recipients:
        if person.address in stopped:
            continue
        staff = is_staff(settings, person.address)
        shown = text if staff or not act.internal else ""
        if not shown.strip() and not news_changes and not act.created:
            continue  # an internal note: non-staff hear only about status/owner changes
        send_alert(env, act.ticket, person, news, text=shown, internal=act.internal and staff,
                   references=references, originator=author if staff else "", html=settings.alerts.html)


def _attachments(env: Env, act: Act) -> tuple[list[Attached], list[tuple[str, int, int]]]:
    """Small files go along; larger ones are listed by name and size (with a link)."""
    limit = env.settings.alerts.attach_max_bytes
    attached: list[Attached] = []
    listed: list[tuple[str, int, int]] = []
    if not act.has_attachments or act.message is None:
        return attached, listed  # no Attachment rows: no query (most mail)
    for a in Attachment.select().where(Attachment.message == act.message.id).order_by(Attachment.id):
        path = attachment_path(env.settings.attachments_dir, a.sha256)
        name = safe_filename(a.filename, "(unnamed)")  # what we emit: a safe base name (issue 17)
        if a.size <= limit and path.exists():
            attached.append((name, a.content_type, path.read_bytes()))
        else:
            listed.append((name, a.size, a.id))
    return attached, listed


def notify(env: Env, act: Act, references: list[str]) -> None:
    """`references`: the ticket's thread as it was before this act's own mails joined it."""
    if act.auto:
        return
    if act.created:
        acknowledge(env, act)
    if act.report is not None and act.source == MAIL:
        receipt(env, act)
    alerts(env, act, references)
