"""Parent/child trees: cycle checks, open children, the close cascade and the tree view.

A split assignment is the typical use: a new-phone request is the parent, the order handled
by Facilities and the set-up handled by IT are its children, each with its own owner and
nosy list. Resolving or closing the parent resolves or closes the open children.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mailgate.alerting import tell_nosy
from mailgate.core.errors import Refused
from mailgate.core.statuses import ACTIVE
from mailgate.db.models import Message, Snooze, Ticket
from mailgate.history import record_change

if TYPE_CHECKING:
    from mailgate.config import Settings
    from mailgate.env import Env

MAX_DEPTH = 1000  # a guard against a cycle written into the database by hand


def ancestors(ticket: Ticket) -> list[Ticket]:
    """Parent, grandparent, ... (nearest first)."""
    found: list[Ticket] = []
    seen = {ticket.id}
    node = ticket.parent
    while node is not None and node.id not in seen and len(found) < MAX_DEPTH:
        found.append(node)
        seen.add(node.id)
        node = node.parent
    return found


def would_cycle(child: Ticket, parent: Ticket) -> bool:
    """Making `parent` the parent of `child` would close a loop: `parent` is `child` itself
    or one of its descendants."""
    return parent.id == child.id or any(a.id == child.id for a in ancestors(parent))


def children(ticket: Ticket) -> list[Ticket]:
    return list(Ticket.select().where(Ticket.parent == ticket).order_by(Ticket.id))


def open_children(ticket: Ticket) -> list[Ticket]:
    return [c for c in children(ticket) if c.status in ACTIVE]


def cascade_status(env: Env, ticket: Ticket, status: str, actor: str, message: Message | None, *,
                   source: str) -> list[int]:
    """Give every open descendant `status` (resolved or closed): one event each, its snooze
    ended, and its nosy list told. Returns the ticket numbers changed, depth first."""
    changed: list[int] = []
    stack = list(reversed(open_children(ticket)))
    seen = {ticket.id}
    while stack:
        child = stack.pop()
        if child.id in seen:
            continue
        seen.add(child.id)
        stack.extend(reversed(open_children(child)))
        old, child.status = child.status, status
        child.save()
        Snooze.delete().where(Snooze.ticket == child).execute()
        change = record_change(env, child, "status", old, status, actor=actor, source=source)
        tell_nosy(env, child, [change], text=f"Parent ticket #{ticket.id} was {status} by {actor}, "
                  f"so this ticket is {status} too.")
        changed.append(child.id)
    return changed


def root_of(ticket: Ticket) -> Ticket:
    up = ancestors(ticket)
    return up[-1] if up else ticket


def tree_dict(ticket: Ticket) -> dict[str, Any]:
    """The whole tree the ticket belongs to, from its root: {id, subject, status, owner,
    children: [...]}."""
    seen: set[int] = set()

    def node(t: Ticket) -> dict[str, Any]:
        seen.add(t.id)
        return {"id": t.id, "subject": t.subject, "status": t.status,
                "owner": t.owner.address if t.owner_id else None,
                "children": [node(c) for c in children(t) if c.id not in seen]}

    return node(root_of(ticket))


def tree_lines(tree: dict[str, Any], mark: int, depth: int = 0) -> list[str]:
    """Indented text lines, the shown ticket marked with '*'."""
    here = "*" if tree["id"] == mark else " "
    lines = [f"{'  ' * depth}{here}#{tree['id']} [{tree['status']}] {tree['subject']}"
             + (f" (owner {tree['owner']})" if tree["owner"] else "")]
    for c in tree["children"]:
        lines.extend(tree_lines(c, mark, depth + 1))
    return lines


def check_children(ticket: Ticket, role: str, settings: Settings, wanted: str, force: bool) -> None:
    """A parent in a wait-for-children queue is not resolved or closed while children are
    open, unless staff force it (`status: closed!`). Raises Refused with what would work."""
    if force and role not in ("technician", "admin"):
        raise Refused("not permitted: only staff may force a status with '!'")
    queue = settings.queue_named(ticket.queue.name)
    waiting = open_children(ticket)
    if force or not waiting or queue is None or not queue.wait_for_children:
        return
    numbers = ", ".join(f"#{c.id}" for c in waiting)
    raise Refused(f"ticket #{ticket.id} waits for its open child ticket{'s' if len(waiting) > 1 else ''} "
                  f"{numbers}; finish them first, or write 'status: {wanted}!' to {wanted[:-1] if wanted.endswith('d') else wanted} "
                  "it and them now")
