"""Tell people about the message: the acknowledgement, the command receipt and the alert
mails (the ticket service's `notify`; who gets what is explained there)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailgate.core.message import Inbound
from mailgate.mailer import ticket_references
from mailgate.stages.rows import act_of
from mailgate.tickets import TicketService

if TYPE_CHECKING:
    from mailgate.env import Env


class Notify:
    name = "notify"

    def __call__(self, msg: Inbound, env: Env) -> None:
        if msg.ticket_id is None or msg.auto_class or msg.message_row_id is None:
            return
        act = act_of(msg)
        references = ticket_references(act.ticket)  # before our own mails join the thread
        TicketService(env).notify(act, references)
