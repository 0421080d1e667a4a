"""Lifecycle fields added to `ticket show` (text and JSON; fields are only ever added) and
`mailgate person show`: the tree, merges, the wake-up time and the SLA due times."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mailgate.config import Settings
from mailgate.db import fastsql
from mailgate.db.models import ACTIVE_STATUSES, Nosy, Person, Snooze, Ticket
from mailgate.lifecycle.merge import merged_from, merged_into
from mailgate.lifecycle.sla import milestones
from mailgate.lifecycle.tree import tree_dict, tree_lines
from mailgate.views import ticket_summary

HIDDEN_BY_DEFAULT = ("archived", "merged")


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() + "Z" if dt else None


def lifecycle_fields(t: Ticket, settings: Settings) -> dict[str, Any]:
    snooze = Snooze.get_or_none(Snooze.ticket == t)
    sla = {}
    for m in milestones(t, settings):
        sla[m.name] = {"due": _iso(m.due), "near": _iso(m.near), "met_at": _iso(m.met_at)}
    return {"tree": tree_dict(t), "merged_into": merged_into(t), "merged_from": merged_from(t),
            "wake_at": _iso(snooze.wake_at) if snooze else None, "sla": sla}


def lifecycle_text(data: dict[str, Any]) -> list[str]:
    lines = []
    if data["merged_into"]:
        lines.append(f"merged into: #{data['merged_into']}")
    if data["merged_from"]:
        lines.append(f"merged from: {', '.join(f'#{n}' for n in data['merged_from'])}")
    if data["wake_at"]:
        lines.append(f"snoozed until: {data['wake_at'][:16].replace('T', ' ')} UTC")
    for name, m in data["sla"].items():
        state = f"met {m['met_at'][:16].replace('T', ' ')}" if m["met_at"] else "open"
        lines.append(f"SLA {name.replace('_', ' ')}: due {m['due'][:16].replace('T', ' ')} UTC ({state})")
    if data["tree"]["children"]:
        lines.append("tree:")
        lines.extend("  " + line for line in tree_lines(data["tree"], data["id"]))
    return lines


def person_view(address: str) -> dict[str, Any] | None:
    """A person's tickets, open and past: requested, owned, or watched (nosy)."""
    person = Person.get_or_none(Person.address == address.strip().lower())
    if person is None:
        return None
    rows: dict[int, dict[str, Any]] = {}
    for relation, query in (
        ("requester", Ticket.select().where(Ticket.requester == person)),
        ("owner", Ticket.select().where(Ticket.owner == person)),
        ("nosy", Ticket.select().join(Nosy).where(Nosy.person == person)),
    ):
        for t in query:
            entry = rows.setdefault(t.id, {**ticket_summary(t), "relations": []})
            entry["relations"].append(relation)
    tickets = sorted(rows.values(), key=lambda r: r["id"], reverse=True)
    open_count = sum(1 for r in tickets if r["status"] in ("new", "open", "stalled"))
    return {"address": person.address, "name": person.name, "role": person.role,
            "open": open_count, "total": len(tickets), "tickets": tickets}


def other_open_tickets(ticket: Ticket, limit: int | None = None) -> list[Ticket]:
    """The requester's other open tickets, newest first, for the acknowledgement. A query,
    not the `requested` backref: a requester's history can be long."""
    # every acknowledgement asks: the statement's text is cached
    return fastsql.select_where(Ticket, ("other-open", bool(limit)), lambda s: (
        f"WHERE {s.c(Ticket.requester)} = {s.p} AND {s.c(Ticket.id)} <> {s.p}"
        f" AND {s.c(Ticket.status)} IN ({', '.join(repr(x) for x in ACTIVE_STATUSES)}) ORDER BY {s.c(Ticket.id)} DESC"
        + (f" LIMIT {s.p}" if limit else "")), [ticket.requester_id, ticket.id, *([limit] if limit else [])])
