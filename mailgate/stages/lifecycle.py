"""What follows from the message in the ticket's lifecycle, between Commands and Notify: a
`merge:` moves the message to the surviving ticket, the requester writing wakes a snoozed
ticket early, a child's news reaches its parent's nosy list (the ticket service's
`follow_up`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailgate.core.message import Inbound
from mailgate.stages.rows import act_of, sync_from_act
from mailgate.tickets import TicketService

if TYPE_CHECKING:
    from mailgate.env import Env


class Lifecycle:
    name = "lifecycle"

    def __call__(self, msg: Inbound, env: Env) -> None:
        if msg.ticket_id is None or msg.parsed is None or msg.message_row_id is None:
            return
        act = act_of(msg)
        TicketService(env).follow_up(act)
        sync_from_act(msg, act)
