"""A message written through a front door (CLI, API, web), stored as a mail would be: a
Message row with its own Message-ID, and its attachments written durably before the
commit that refers to them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mailgate.attachments import store_attachment
from mailgate.db.models import Attachment, Message, Person, Ticket
from mailgate.outgoing import new_message_id
from mailgate.search import index_message

if TYPE_CHECKING:
    from mailgate.env import Env

NewAttachment = tuple[str, str, bytes]  # file name, content type, bytes


def store_message(env: Env, ticket: Ticket, actor: Person, text: str, source: str, internal: bool,
                  attachments: Sequence[NewAttachment]) -> Message:
    now = env.now()
    domain = ticket.queue.address.partition("@")[2]
    row = Message.create(
        ticket=ticket, message_id=new_message_id(domain, ticket.id), direction="in", sender=actor.address,
        sender_name=actor.name, subject=ticket.subject, body=text, internal=internal, source=source,
        thread_signal=source, date=now, created_at=now,
    )
    for name, content_type, payload in attachments:
        sha = store_attachment(env.settings.attachments_dir, payload)
        Attachment.create(message=row, filename=name, content_type=content_type, size=len(payload), sha256=sha)
    index_message(env, row, [name for name, _, _ in attachments])
    return row
