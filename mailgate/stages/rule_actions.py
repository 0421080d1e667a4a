"""Carry out the rules' ticket actions once the message is stored on its ticket: subject
(of a new ticket), priority, owner, status, nosy additions, tags; link a new monitoring alert to its fingerprint; record
which rules matched. Runs after Store and before Commands, so a person's command in the
same message has the last word over a rule."""

from __future__ import annotations

from mailgate.commands.base import Change
from mailgate.db.models import Message, Person, TicketTag
from mailgate.history import record_event
from mailgate.nosy import add_to_nosy
from mailgate.people import person_for
from mailgate.stages.alerts import now_of, open_alert, record_match
from mailgate.stages.base import Env, Inbound
from mailgate.stages.rows import ticket_of


class RuleActions:
    name = "rule-actions"

    def __call__(self, msg: Inbound, env: Env) -> None:
        d = msg.rules
        if d is None or msg.ticket_id is None:
            return
        ticket = ticket_of(msg)
        row = Message.get_by_id(msg.message_row_id) if msg.message_row_id else None
        by = {action: f"rule:{rule}" for rule, action, _ in d.steps}

        def change(field: str, old: object, new: object) -> None:
            record_event(ticket, by[field], field, old, new, row, env)
            msg.changes.append(Change(field=field, old=None if old is None else str(old),
                                      new=None if new is None else str(new), actor=by[field]))

        if d.subject and msg.created and ticket.subject != d.subject:
            change("subject", ticket.subject, d.subject)
            ticket.subject = d.subject
        if d.priority is not None and ticket.priority != d.priority:
            change("priority", ticket.priority, d.priority)
            ticket.priority = d.priority
        if d.owner:
            owner = person_for(d.owner)
            if ticket.owner_id != owner.id:
                old: Person | None = ticket.owner
                change("owner", old.address if old else None, owner.address)
                ticket.owner = owner
        if d.status and ticket.status != d.status:
            change("status", ticket.status, d.status)
            ticket.status = d.status
        for address in d.nosy:
            if add_to_nosy(ticket, person_for(address), env.settings):
                change("nosy", None, f"+{address}")
        for tag in d.tags:
            _, created = TicketTag.get_or_create(ticket=ticket, name=tag)
            if created:
                change("tags", None, f"+{tag}")
        ticket.updated_at = now_of(env)
        ticket.save()
        if d.fingerprint and d.alert == "problem":
            open_alert(msg, env, ticket)
        record_match(msg, env, "stored", ticket_id=ticket.id)
