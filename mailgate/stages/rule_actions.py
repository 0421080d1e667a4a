"""Carry out the rules' ticket actions once the message is stored on its ticket: subject
(of a new ticket), priority, owner, status, nosy additions, tags; make a new monitoring
alert its fingerprint's ticket; record which rules matched. Runs after Store and before
Commands, so a person's command in the same message has the last word over a rule."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailgate.core.changes import RULE
from mailgate.core.message import Inbound
from mailgate.db.models import TicketTag
from mailgate.monitoring.groups import open_alert
from mailgate.nosy import add_to_nosy
from mailgate.people import person_for
from mailgate.rulematch import record_match
from mailgate.stages.rows import ticket_of
from mailgate.tickets import TicketService

if TYPE_CHECKING:
    from mailgate.env import Env


class RuleActions:
    name = "rule-actions"

    def __call__(self, msg: Inbound, env: Env) -> None:
        d = msg.rules
        if d is None or msg.ticket_id is None:
            return
        ticket = ticket_of(msg)
        service = TicketService(env)
        row = msg.message_row
        by = {action: f"rule:{rule}" for rule, action, _ in d.steps}
        fields: list[tuple[str, object]] = []
        if d.subject and msg.created:
            fields.append(("subject", d.subject))
        if d.priority is not None:
            fields.append(("priority", d.priority))
        if d.owner:
            fields.append(("owner", person_for(d.owner)))
        if d.status:
            fields.append(("status", d.status))
        for field, value in fields:  # saved once below, with the tags and nosy changes
            change = service.set_field(ticket, field, value, actor=by[field], source=RULE, message=row, save=False)
            if change is not None:
                msg.changes.append(change)
        for address in d.nosy:
            if add_to_nosy(ticket, person_for(address), env.settings):
                msg.changes.append(service.record(ticket, "nosy", None, f"+{address}", actor=by["nosy"],
                                                  source=RULE, message=row))
        for tag in d.tags:
            _, created = TicketTag.get_or_create(ticket=ticket, name=tag)
            if created:
                msg.changes.append(service.record(ticket, "tags", None, f"+{tag}", actor=by["tags"],
                                                  source=RULE, message=row))
        ticket.updated_at = env.now()
        ticket.save()
        if d.fingerprint and d.alert == "problem":
            open_alert(msg, env, ticket)
        record_match(msg, env, "stored", ticket_id=ticket.id)
