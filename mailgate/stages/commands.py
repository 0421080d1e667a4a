"""Run the commands of a stored message, through the ticket service.

Runs after Store (the ticket and the message row exist, so events can point at the message)
and before Lifecycle and Notify (which send the receipt and the alerts this stage
prepared). People in Cc of a new ticket's first mail join its nosy list here ([alerts]
nosy_cc): that much is the mail door's own; who may run what, and what it changes, is the
service's. Automatic mail never runs commands: an autoresponder quoting "status: closed"
changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailgate.core.message import Inbound
from mailgate.nosy import add_to_nosy
from mailgate.people import person_for
from mailgate.stages.rows import act_of, sync_from_act
from mailgate.tickets import TicketService

if TYPE_CHECKING:
    from mailgate.env import Env


class Commands:
    name = "commands"

    def __call__(self, msg: Inbound, env: Env) -> None:
        p = msg.parsed
        if p is None or msg.ticket_id is None or msg.message_row_id is None:
            return
        act = act_of(msg)
        if msg.created and not msg.auto_class and env.settings.alerts.nosy_cc:
            for name, address in p.cc:
                if address:
                    add_to_nosy(act.ticket, person_for(address, name), env.settings)
        TicketService(env).run_commands(act)
        sync_from_act(msg, act)
