"""Nosy lists: who hears about a ticket.

On the list: the requester (added when the ticket is stored), the owner, people in Cc of the
opening mail (`[alerts] nosy_cc`), everyone who writes to the ticket (`[alerts] nosy_writers`)
and people added with `nosy: +addr`. Queue watchers (`[[queue]] watchers`) are not on any
list but get every alert of their queue. The gateway's own addresses never join a list, so
an alert can never be addressed to the gateway itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from mailgate.config import Settings
from mailgate.core.message import ParsedMessage
from mailgate.db import fastsql
from mailgate.db.models import Nosy, Person, Ticket, database_proxy
from mailgate.people import is_staff, person_for
from mailgate.tokens import split_plus


def own_addresses(settings: Settings) -> set[str]:
    return {settings.gateway.address.lower()} | {q.address.lower() for q in settings.queues}


def is_own_address(settings: Settings, address: str) -> bool:
    """The gateway's address, a queue's, or a reply address (queue+token) of ours."""
    return split_plus(address.strip().lower())[0] in own_addresses(settings)


def add_to_nosy(ticket: Ticket, person: Person, settings: Settings) -> bool:
    """Add; returns False when already on the list or the address is one of ours."""
    if is_own_address(settings, person.address) or "@" not in person.address:
        return False
    return insert_nosy(ticket.id, person.id)


def insert_nosy(ticket_id: int, person_id: int) -> bool:
    """One statement instead of get_or_create's two: True when the row is new."""
    cursor = database_proxy.obj.execute_sql(fastsql.cached(
        Nosy, "insert-ignore", lambda s: (
            f"INSERT INTO {s.t(Nosy)} ({s.n(Nosy.ticket)}, {s.n(Nosy.person)}) VALUES ({s.p}, {s.p})"
            f" ON CONFLICT DO NOTHING")), [ticket_id, person_id])
    return cursor.rowcount > 0


def remove_from_nosy(ticket: Ticket, person: Person) -> bool:
    return Nosy.delete().where(Nosy.ticket == ticket, Nosy.person == person).execute() > 0


def nosy_people(ticket: Ticket) -> list[Person]:
    return fastsql.select_where(
        Person, "nosy-of-ticket",
        lambda s: (f"JOIN {s.t(Nosy)} ON {s.c(Nosy.person)} = {s.c(Person.id)} WHERE {s.c(Nosy.ticket)} = {s.p}"
                   f" ORDER BY {s.c(Person.address)}"),
        [ticket.id])


def add_participants(ticket: Ticket, parsed: ParsedMessage, created: bool, auto: bool, settings: Settings,
                     writer: Person | None = None) -> None:
    """People who take part in the conversation join its nosy list (never automatic mail).
    `writer` is the sender's Person when the caller has it already (saves a lookup)."""
    if auto:
        return
    if created and settings.alerts.nosy_cc:
        for name, address in parsed.cc:
            if address:
                add_to_nosy(ticket, person_for(address, name), settings)
    if not created and settings.alerts.nosy_writers and parsed.from_addr:
        add_to_nosy(ticket, writer or person_for(parsed.from_addr, parsed.from_name), settings)


def alert_recipients(ticket: Ticket, settings: Settings, *, exclude: Iterable[str] = (),
                     staff_only: bool = False) -> list[Person]:
    """The nosy list plus the queue's watchers, minus our own addresses, bouncing addresses
    and `exclude` (the author); only staff for internal notes."""
    excluded = {a.lower() for a in exclude}
    people = {p.address: p for p in nosy_people(ticket)}
    queue = settings.queue_named(ticket.queue.name)
    for address in queue.watchers if queue else ():
        people.setdefault(address.lower(), person_for(address))
    chosen = []
    for address, person in sorted(people.items()):
        if address in excluded or person.bouncing or is_own_address(settings, address) or "@" not in address:
            continue
        if staff_only and not is_staff(settings, address):
            continue
        chosen.append(person)
    return chosen
