"""Changes nobody typed as a command: a rule's action, an alert's recovery, a wake-up, an
escalation. Each is saved, recorded with its actor and source, and returned as the Change
the alert mails list; `wake` also tells the nosy list when asked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailgate.alerting import tell_nosy
from mailgate.core.changes import Change
from mailgate.core.statuses import DONE
from mailgate.db.models import Message, Person, Ticket
from mailgate.history import record_change
from mailgate.lifecycle.snooze import cancel_snooze
from mailgate.thanks import is_bare_thanks

if TYPE_CHECKING:
    from mailgate.env import Env

# ticket fields a system change may set, and how a value is shown in the history
FIELDS = ("status", "priority", "subject", "owner")


def set_field(env: Env, ticket: Ticket, field: str, value: object, *, actor: str, source: str,
              message: Message | None = None, save: bool = True) -> Change | None:
    """Set one field (owner: a Person or None); None when it already had that value."""
    if field not in FIELDS:
        raise ValueError(f"not a ticket field a change may set: {field!r}")
    if field == "owner":
        old_owner: Person | None = ticket.owner
        new_owner = value if isinstance(value, Person) else None
        if (old_owner.id if old_owner else None) == (new_owner.id if new_owner else None):
            return None
        old, new = (old_owner.address if old_owner else None), (new_owner.address if new_owner else None)
        ticket.owner = new_owner
    else:
        old, new = getattr(ticket, field), value
        if old == new:
            return None
        setattr(ticket, field, new)
    change = record_change(env, ticket, field, old, new, actor=actor, source=source, message=message)
    if save:
        ticket.updated_at = env.now()
        ticket.save()
    return change


def wake(env: Env, ticket: Ticket, actor: str, reason: str, *, source: str, tell: bool = True) -> list[Change]:
    """Back to open: delete the snooze, record the change, tell the nosy list."""
    cancel_snooze(ticket)
    if ticket.status != "stalled":
        return []
    ticket.status = "open"
    ticket.save()
    change = record_change(env, ticket, "status", "stalled", "open", actor=actor, source=source)
    if tell:
        tell_nosy(env, ticket, [change], text=reason)
    return [change]


def reopen_on_reply(env: Env, ticket: Ticket, actor: str, text: str, message: Message | None, *,
                    source: str) -> bool:
    """A reply to a resolved (or recently closed) ticket reopens it, unless it is only a
    thank-you and [threading] thanks_reopens is false. The caller saves the ticket."""
    threading = env.settings.threading
    if ticket.status not in DONE or not threading.reopen_resolved:
        return False
    if not threading.thanks_reopens and is_bare_thanks(text):
        return False
    record_change(env, ticket, "status", ticket.status, "open", actor=actor, source=source, message=message)
    ticket.status = "open"
    return True
