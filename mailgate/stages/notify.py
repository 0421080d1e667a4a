"""Tell people: the acknowledgement, the command receipt and the alert mails.

- acknowledgement: to the requester of a new ticket (rate-limited per sender and hour);
- receipt: to the sender of a message with commands, listing applied and refused ones;
- alerts: to the nosy list and the queue's watchers, minus the author (unless
  `[alerts] notify_author`), on new tickets, new visible text and status/owner changes.
  A message that only carried commands alerts nobody unless it changed status or owner.
  An internal note (`comment:`) goes to staff only.

Never in reply to automatic mail (no backscatter), never to our own addresses, never to
addresses that bounce. All of it goes into the outbox inside the message's transaction.
"""

from __future__ import annotations

import logging

from mailgate.attachments import attachment_path
from mailgate.db.models import Attachment, Person, Ticket
from mailgate.lifecycle.view import other_open_tickets
from mailgate.mailer import queue_mail, ticket_references
from mailgate.nosy import alert_recipients, is_own_address
from mailgate.people import is_staff
from mailgate.ratelimit import over_limit
from mailgate.safe_text import safe_filename
from mailgate.stages.base import Env, Inbound
from mailgate.stages.rows import sender_of, ticket_of

log = logging.getLogger("mailgate.notify")

# changes that are news for everyone on the ticket; others ride along when there is text
ALERT_FIELDS = ("status", "owner")


def _reachable(person: Person, env: Env) -> bool:
    return "@" in person.address and not person.bouncing and not is_own_address(env.settings, person.address)


# the acknowledgement lists at most this many other open tickets of the requester
OTHERS_SHOWN = 10


class Notify:
    name = "notify"

    def __call__(self, msg: Inbound, env: Env) -> None:
        if msg.ticket_id is None or msg.auto_class:
            return
        p = msg.parsed
        assert p is not None
        ticket = ticket_of(msg)
        references = ticket_references(ticket)  # before our own mails join the thread
        if msg.created:
            self._acknowledge(msg, env, ticket)
        if msg.command_report is not None:
            self._receipt(msg, env, ticket)
        self._alerts(msg, env, ticket, references)

    def _acknowledge(self, msg: Inbound, env: Env, ticket: Ticket) -> None:
        p = msg.parsed
        assert p is not None
        requester: Person = ticket.requester
        if not _reachable(requester, env) or self._rate_limited("ack", requester.address, env, p.message_id):
            return
        queue_mail(
            env, ticket=ticket, kind="ack", recipient=requester, template="ack.txt.j2",
            context={"notes": msg.notes, "message": p, "others": other_open_tickets(ticket, OTHERS_SHOWN + 1)},
            auto_submitted="auto-replied",
            in_reply_to=p.message_id,
        )

    def _receipt(self, msg: Inbound, env: Env, ticket: Ticket) -> None:
        from mailgate.commands import COMMANDS, help_text

        p = msg.parsed
        assert p is not None and msg.command_report is not None
        sender = sender_of(msg)
        if not _reachable(sender, env) or self._rate_limited("receipt", sender.address, env, p.message_id):
            return
        report = msg.command_report
        queue_mail(
            env, ticket=ticket, kind="receipt", recipient=sender, template="receipt.txt.j2",
            context={"report": report, "message": p,
                     "help": help_text(COMMANDS) if report.help_requested or (report.refused and not report.unverified) else ""},
            auto_submitted="auto-replied", in_reply_to=p.message_id,
        )

    def _alerts(self, msg: Inbound, env: Env, ticket: Ticket, references: list[str]) -> None:
        from mailgate.clean import REPLY_MARKER

        p = msg.parsed
        assert p is not None
        settings = env.settings
        text = msg.body if msg.body is not None else (msg.clean.visible if msg.clean else p.text_plain)
        news = [c for c in msg.changes if c.field in ALERT_FIELDS]
        if not text.strip() and not news and not msg.created:
            return  # commands only: the ticket changed, nobody needs an empty update
        author = p.from_addr.lower()
        exclude = set() if settings.alerts.notify_author else {author}
        if msg.created:
            exclude.add(ticket.requester.address)  # the requester has the acknowledgement
        attached, listed = self._attachments(msg, env)
        staff_entry = settings.person(author)
        author_name = p.from_name or (staff_entry.name if staff_entry else "") or author
        for person in alert_recipients(ticket, settings, exclude=exclude):
            staff = is_staff(settings, person.address)
            shown = text if staff or not msg.internal else ""
            if not shown.strip() and not news and not msg.created:
                continue  # an internal note: non-staff hear only about status/owner changes
            queue_mail(
                env, ticket=ticket, kind="alert", recipient=person, template="alert.txt.j2",
                html_template="alert.html.j2" if settings.alerts.html else None,
                context={"author": author, "author_name": author_name, "text": shown, "changes": msg.changes,
                         "created": msg.created, "internal": msg.internal and staff, "listed": listed,
                         "attached": [a[0] for a in attached], "marker": REPLY_MARKER},
                from_name=f"{author_name} via {settings.gateway.name}", in_reply_to=p.message_id,
                references=references, originator=author if staff else "",
                attachments=attached if shown.strip() else (),
            )

    def _attachments(self, msg: Inbound, env: Env) -> tuple[list[tuple[str, str, bytes]], list[tuple[str, int]]]:
        """Small files go along; larger ones are listed by name and size."""
        limit = env.settings.alerts.attach_max_bytes
        attached: list[tuple[str, str, bytes]] = []
        listed: list[tuple[str, int]] = []
        if msg.parsed is not None and not msg.parsed.attachments:
            return attached, listed  # Store wrote no Attachment rows: no query (most mail)
        for a in Attachment.select().where(Attachment.message == msg.message_row_id).order_by(Attachment.id):
            path = attachment_path(env.settings.attachments_dir, a.sha256)
            name = safe_filename(a.filename, "(unnamed)")  # what we emit: a safe base name (issue 17)
            if a.size <= limit and path.exists():
                attached.append((name, a.content_type, path.read_bytes()))
            else:
                listed.append((name, a.size))
        return attached, listed

    def _rate_limited(self, kind: str, address: str, env: Env, message_id: str) -> bool:
        """At most gateway.ack_rate_limit automatic replies of a kind per sender and hour, so a
        misbehaving autoresponder that slips past classification cannot start a loop."""
        limited = over_limit(kind, address, env.clock(), env.settings.gateway.ack_rate_limit)
        if limited:
            log.warning("message %s stage notify: %s to %s suppressed: over %s per hour", message_id, kind,
                        address, env.settings.gateway.ack_rate_limit, extra={"message_id": message_id})
        return limited
