"""Who searches, as SQL on the message `m`, its ticket `t` and queue `q`: the rules of
mailgate.access.visibility, applied inside the query so a hit nobody may see is never
fetched (and never counted).

    the operator (CLI)   everything
    admin / technician   every message of the tickets of their queues; on tickets they
                         requested themselves, what a requester sees
    requester            their own tickets, never an internal note
    a ticket-link session  that one ticket, with the view its person has of it
"""

from __future__ import annotations

from dataclasses import dataclass

from mailgate.access.visibility import STAFF, is_admin, staff_queues, view_of
from mailgate.config import Settings
from mailgate.db.models import Person, Ticket


@dataclass(frozen=True)
class Viewer:
    person_id: int | None = None  # None: the operator at the command line
    queues: tuple[str, ...] | None = None  # the queues they work; None: not staff
    everything: bool = False
    scope: int | None = None  # the one ticket a link-session may see
    nothing: bool = False

    def sql(self, p: str) -> tuple[str, list[object]]:
        """(condition, params); `p` is the database's parameter mark."""
        if self.nothing:
            return "1 = 0", []
        if self.everything or self.person_id is None:
            return "1 = 1", []
        public = f"(t.requester_id = {p} AND m.internal = {p})"
        if self.scope is not None:
            return f"t.id = {p}", [self.scope]  # a scoped staff view; a public one is `public_scope`
        if self.queues:
            marks = ", ".join([p] * len(self.queues))
            return f"(q.name IN ({marks}) OR {public})", [*self.queues, self.person_id, False]
        return public, [self.person_id, False]


OPERATOR = Viewer()


def viewer_for(settings: Settings, person: Person, scope: int | None = None) -> Viewer:
    if scope is not None:
        ticket = Ticket.get_or_none(Ticket.id == scope)
        view = view_of(settings, person, ticket, scope) if ticket is not None else None
        if view is None:
            return Viewer(person_id=person.id, nothing=True)
        if view == STAFF:
            return Viewer(person_id=person.id, scope=scope)
        return PublicScope(person_id=person.id, scope=scope)
    queues = staff_queues(settings, person)
    if queues is not None and (is_admin(settings, person) or set(queues) >= {q.name for q in settings.queues}):
        return Viewer(person_id=person.id, queues=queues, everything=True)
    return Viewer(person_id=person.id, queues=queues)


@dataclass(frozen=True)
class PublicScope(Viewer):
    """A link-session of someone who is not staff: that ticket, without internal notes."""

    def sql(self, p: str) -> tuple[str, list[object]]:
        return f"(t.id = {p} AND m.internal = {p})", [self.scope, False]
