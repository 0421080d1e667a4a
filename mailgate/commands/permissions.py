"""Who may run which command on which ticket.

Roles are decided per ticket: an admin everywhere; a technician on tickets in their queues
(all queues when their [[person]] entry lists none); the requester on their own ticket;
anyone else. The defaults below can be replaced per role and queue with [[permission]]
entries in the configuration. Which statuses a requester may set is limited separately by
`[commands] requester_statuses`, and `nosy: -me` works for everyone on the list.
"""

from __future__ import annotations

from mailgate.config import Settings
from mailgate.db.models import Person, Ticket

DEFAULT_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "admin": ("*",),
    "technician": ("*",),
    "requester": ("status", "nosy", "help"),
    "anyone": ("help",),
}


def role_for(person: Person, ticket: Ticket, settings: Settings) -> str:
    staff = settings.person(person.address)
    if staff is not None and staff.role == "admin":
        return "admin"
    if staff is not None and staff.role == "technician" and (not staff.queues or ticket.queue.name in staff.queues):
        return "technician"
    if ticket.requester_id == person.id:
        return "requester"
    return "anyone"


def allowed_commands(role: str, queue: str, settings: Settings) -> tuple[str, ...]:
    if role == "admin":
        return ("*",)
    for wanted in (queue, "*"):
        for perm in settings.permissions:
            if perm.role == role and perm.queue == wanted:
                return perm.commands
    return DEFAULT_PERMISSIONS[role]


def permitted(role: str, command: str, queue: str, settings: Settings) -> bool:
    allowed = allowed_commands(role, queue, settings)
    return "*" in allowed or command in allowed
