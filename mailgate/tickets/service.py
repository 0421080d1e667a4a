"""TicketService: the front doors (CLI, API, web) and the system's changes, on the same
steps the mail pipeline runs (see the package docstring)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mailgate.alerting import tell_nosy
from mailgate.commands.parser import find_commands
from mailgate.core.changes import Change, CommandReport, Verdict
from mailgate.core.errors import Conflict, Forbidden, Invalid, NotFound
from mailgate.db.locks import lock_row
from mailgate.db.models import Message, Outbox, Person, Ticket
from mailgate.db.transaction import write_transaction
from mailgate.history import record_change, set_status
from mailgate.lifecycle.merge import final_ticket
from mailgate.mailer import ticket_references
from mailgate.people import is_staff, person_for
from mailgate.tickets.act import Act, Receipt
from mailgate.tickets.changes import reopen_on_reply, set_field, wake
from mailgate.tickets.commands import run_commands
from mailgate.tickets.follow_up import follow_merge, tell_parent, wake_for_requester
from mailgate.tickets.notify import notify
from mailgate.tickets.opening import OpenRequest, open_ticket
from mailgate.tickets.store import NewAttachment, store_message

if TYPE_CHECKING:
    from mailgate.env import Env

# how a front door proved who acts (the mail door's proofs are in mailgate.verify)
VERIFIED_BY = {"cli": "cli", "api": "api-token", "web": "session"}


class TicketService:
    def __init__(self, env: Env) -> None:
        self.env = env

    # --- the front doors ---------------------------------------------------------------

    def command(self, ticket_id: int, actor: str, text: str, *, source: str = "cli") -> Receipt:
        """What a mail with this text to the ticket would do: `name: value` lines at the
        top are commands, the rest (if any) a public message."""
        return self._act(ticket_id, actor, text, source=source, commands=True)

    def reply(self, ticket_id: int, actor: str, text: str, *, source: str = "cli",
              attachments: Sequence[NewAttachment] = ()) -> Receipt:
        """A public message, mailed to the requester and the nosy list; never commands."""
        return self._act(ticket_id, actor, text, source=source, attachments=attachments)

    def note(self, ticket_id: int, actor: str, text: str, *, source: str = "cli",
             attachments: Sequence[NewAttachment] = ()) -> Receipt:
        """An internal note: stored, mailed to staff on the nosy list only; staff only."""
        if not is_staff(self.env.settings, actor):
            raise Forbidden(f"{actor} is not staff: only technicians and admins write internal notes")
        return self._act(ticket_id, actor, text, source=source, internal=True, attachments=attachments)

    def open(self, request: OpenRequest) -> Receipt:
        """A new ticket for a requester (the API's POST /tickets): acknowledged to the
        requester and alerted to the queue's watchers, as a new ticket by mail is."""
        with write_transaction():
            return open_ticket(self.env, request)

    def ticket(self, ticket_id: int) -> Ticket:
        """The ticket a front door names, after merges; refused when it is read-only."""
        try:
            # locked until the change commits: mail to this ticket on another node waits, and
            # so does this change for a mail in progress, so neither overwrites the other
            ticket = lock_row(Ticket, final_ticket(ticket_id), wait=True)
        except Ticket.DoesNotExist:
            raise NotFound(f"there is no ticket #{ticket_id}") from None
        if ticket.status == "archived":
            raise Conflict(f"ticket #{ticket.id} is archived (read-only); write to its requester's new ticket")
        return ticket

    def _act(self, ticket_id: int, address: str, text: str, *, source: str, commands: bool = False,
             internal: bool = False, attachments: Sequence[NewAttachment] = ()) -> Receipt:
        """One transaction: the message, its history and its mails commit together."""
        with write_transaction():
            return self._act_in_transaction(ticket_id, address, text, source=source, commands=commands,
                                            internal=internal, attachments=attachments)

    def _act_in_transaction(self, ticket_id: int, address: str, text: str, *, source: str, commands: bool,
                            internal: bool, attachments: Sequence[NewAttachment]) -> Receipt:
        env = self.env
        ticket = self.ticket(ticket_id)
        actor = person_for(address)
        if not text.strip() and not attachments:
            raise Invalid("nothing to add: the text is empty")
        references = ticket_references(ticket)  # before the act's own mails join the thread
        first_outbox = Outbox.select(Outbox.id).order_by(Outbox.id.desc()).scalar() or 0
        # commands and nothing else say nothing: no message is stored, the history has them
        only_commands = commands and not attachments and not find_commands(text, "", env.commands).body.strip()
        message = None if only_commands else self.store_message(ticket, actor, text, source, internal, attachments)
        act = Act(ticket=ticket, actor=actor, source=source, author=actor.address, author_name=actor.name,
                  text=text, message=message, message_id=message.message_id if message else "",
                  verdict=Verdict(True, VERIFIED_BY.get(source, source)), commands=commands,
                  internal=internal, has_attachments=bool(attachments))
        if message is not None:  # as a mail from this person would: a reply to a resolved ticket reopens it
            reopen_on_reply(env, ticket, actor.address, text, message, source=source)
        ticket.updated_at = env.now()
        ticket.save()
        self.act(act, references)
        queued = Outbox.select(Outbox.id).where(Outbox.id > first_outbox).order_by(Outbox.id)
        return Receipt(ticket=act.ticket.id, message_id=act.message_id, internal=act.internal,
                       report=act.report or CommandReport(verified_by=act.verdict.how if act.verdict else ""),
                       changes=tuple(act.changes), outbox=tuple(o.id for o in queued))

    def store_message(self, ticket: Ticket, actor: Person, text: str, source: str, internal: bool,
                      attachments: Sequence[NewAttachment]) -> Message:
        return store_message(self.env, ticket, actor, text, source, internal, attachments)

    # --- the steps (the mail pipeline's commands, lifecycle and notify stages) -------------

    def act(self, act: Act, references: list[str]) -> None:
        self.run_commands(act)
        self.follow_up(act)
        self.notify(act, references)

    def run_commands(self, act: Act) -> None:
        run_commands(self.env, act)

    def follow_up(self, act: Act) -> None:
        follow_merge(act)
        if act.created or act.auto:
            return
        wake_for_requester(self.env, act)
        tell_parent(self.env, act)

    def notify(self, act: Act, references: list[str]) -> None:
        notify(self.env, act, references)

    # --- the system's changes ----------------------------------------------------------

    def set_status(self, ticket: Ticket, status: str, *, actor: str, source: str,
                   message: Message | None = None) -> Change:
        return set_status(ticket, status, actor, self.env, source=source, message=message)

    def set_field(self, ticket: Ticket, field: str, value: object, *, actor: str, source: str,
                  message: Message | None = None, save: bool = True) -> Change | None:
        return set_field(self.env, ticket, field, value, actor=actor, source=source, message=message, save=save)

    def record(self, ticket: Ticket, field: str, old: object, new: object, *, actor: str, source: str,
               message: Message | None = None) -> Change:
        """A history entry that changes no field (created, link, bounce, sla, tags, nosy)."""
        return record_change(self.env, ticket, field, old, new, actor=actor, source=source, message=message)

    def wake(self, ticket: Ticket, actor: str, reason: str, *, source: str, tell: bool = True) -> list[Change]:
        return wake(self.env, ticket, actor, reason, source=source, tell=tell)

    def tell(self, ticket: Ticket, changes: Sequence[Change], text: str = "") -> int:
        """Tell the nosy list about changes the system made."""
        return tell_nosy(self.env, ticket, changes, text=text)
