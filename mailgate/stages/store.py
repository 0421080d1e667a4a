"""Store the message on its ticket (creating the ticket when there is none)."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING

from mailgate.attachments import store_attachment
from mailgate.bounces import failed_addresses
from mailgate.clean import sanitize_html
from mailgate.commands.parser import find_commands
from mailgate.core.changes import MAIL, SYSTEM
from mailgate.core.message import Inbound
from mailgate.db.models import Attachment, Message, Nosy, Queue, Ticket, TicketLink
from mailgate.loop_guard import note_answer
from mailgate.nosy import insert_nosy
from mailgate.people import person_for
from mailgate.search import index_message
from mailgate.stages.classify import AUTO_GENERATED, AUTO_REPLY, BOUNCE
from mailgate.stages.rows import remember_ticket, sender_of, ticket_of
from mailgate.stages.thread import thread_index_key
from mailgate.subject import clean_subject
from mailgate.tickets import TicketService
from mailgate.tickets.changes import reopen_on_reply

if TYPE_CHECKING:
    from mailgate.env import Env


def add_nosy(ticket: Ticket, address: str, name: str = "") -> bool:
    person = person_for(address, name)
    _, created = Nosy.get_or_create(ticket=ticket, person=person)
    return created


class Store:
    name = "store"

    def __call__(self, msg: Inbound, env: Env) -> None:
        p = msg.parsed
        assert p is not None and msg.queue is not None
        settings = env.settings
        now = env.now()
        sender = sender_of(msg)
        if msg.ticket_id is None:
            queue = Queue.named(msg.queue.name, msg.queue.address)
            ticket = Ticket.create(
                queue=queue, subject=clean_subject(p.subject, settings.gateway.subject_tag),
                status="new", priority=msg.queue.default_priority, requester=sender,
                root_message_id=p.message_id, created_at=now, updated_at=now,
            )
            msg.ticket_id, msg.created = ticket.id, True
            remember_ticket(msg, ticket)
        else:
            ticket = ticket_of(msg)
        row = self._message(msg, env, ticket)
        service = TicketService(env)
        if msg.created:
            service.record(ticket, "created", None, ticket.subject, actor=p.from_addr, source=MAIL, message=row)
            if p.from_addr:  # the requester is the sender: no second lookup, one statement
                insert_nosy(ticket.id, sender.id)
            else:
                add_nosy(ticket, p.from_addr, p.from_name)
            for other, kind in msg.link_to:
                TicketLink.create(ticket=ticket, other=other, kind=kind)
                service.record(ticket, "link", None, f"#{other}", actor=SYSTEM, source=MAIL, message=row)
        elif msg.auto_class in (BOUNCE, AUTO_REPLY, AUTO_GENERATED):
            # automatic mail is a note: it never reopens, and does not count as activity
            # (the closed_reopen_days clock keeps running)
            if msg.auto_class == BOUNCE:
                service.record(ticket, "bounce", None, ", ".join(failed_addresses(p)) or None, actor=SYSTEM,
                               source=MAIL, message=row)
            return
        else:
            # commands alone say nothing to reopen for ("status: closed" to a resolved
            # ticket closes it, as the same command from the CLI or the web does)
            said = find_commands(msg.text, p.subject, env.commands).body if env.settings.commands.enabled else msg.text
            if said.strip():
                reopen_on_reply(env, ticket, p.from_addr, said, row, source=MAIL)
            if not msg.auto_class:
                note_answer(env, ticket, p, row)
        ticket.updated_at = now
        ticket.save()

    def _message(self, msg: Inbound, env: Env, ticket: Ticket) -> Message:
        p, clean = msg.parsed, msg.clean
        assert p is not None
        row = Message.create(
            ticket=ticket, message_id=p.message_id, content_hash=p.content_hash, direction="in",
            sender=p.from_addr, sender_name=p.from_name, recipients=p.recipients,
            date=p.date.astimezone(UTC).replace(tzinfo=None) if p.date else None, subject=p.subject,
            body=clean.visible if clean else p.text_plain, quoted=clean.quoted if clean else "",
            signature=clean.signature if clean else "", html=self._html(msg),
            raw_sha256=msg.entry.sha256, source=msg.entry.source[:255], thread_signal=msg.thread_signal,
            auto_class=msg.auto_class, created_at=env.now(),
            thread_index=thread_index_key(p.header("Thread-Index")),
        )
        msg.message_row_id, msg.message_row = row.id, row
        for att in p.attachments:
            # a worker process may have written the file already (durably, before it
            # handed the message back): then only the row is left to write
            sha = att.sha256 or store_attachment(env.settings.attachments_dir, att.payload)
            Attachment.create(message=row, filename=att.filename, content_type=att.content_type,
                              size=att.stored_size if att.sha256 else len(att.payload), sha256=sha,
                              content_id=att.content_id)
        index_message(env, row, [att.filename for att in p.attachments])  # findable from this commit on
        return row

    @staticmethod
    def _html(msg: Inbound) -> str:
        """Sanitized by the clean stage (in a worker process) unless the message skipped it."""
        if msg.safe_html is not None:
            return msg.safe_html
        p = msg.parsed
        return sanitize_html(p.text_html) if p is not None and p.text_html else ""
