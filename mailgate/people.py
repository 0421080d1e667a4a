"""People in the store: the staff directory from the configuration plus every requester."""

from __future__ import annotations

import peewee as pw

from mailgate.config import Settings
from mailgate.db import fastsql
from mailgate.db.models import Person, database_proxy


def person_for(address: str, name: str = "") -> Person:
    """The Person row for an address, created on first sight (what `get_or_create` does, with
    the lookup's SQL text cached: every message makes it)."""
    address = address.strip().lower()
    found = fastsql.select_where(Person, "by-address", lambda s: f"WHERE {s.c(Person.address)} = {s.p} LIMIT 1",
                                 [address])
    if not found:
        if isinstance(database_proxy.obj, pw.PostgresqlDatabase):
            # several nodes: another may be creating it right now. ON CONFLICT waits for its
            # commit and then does nothing, where a plain insert would fail (an error in the
            # server's log, and a savepoint to roll back)
            Person.insert(address=address, name=name).on_conflict_ignore().execute()
            return Person.get(Person.address == address)
        try:
            with database_proxy.atomic():  # a savepoint: a concurrent writer may create it first
                return Person.create(address=address, name=name)
        except pw.IntegrityError:
            return Person.get(Person.address == address)
    person = found[0]
    if name and not person.name:
        person.name = name
        person.save()
    return person


def sync_staff(settings: Settings) -> None:
    """Bring staff rows in line with [[person]] entries (on start-up and SIGHUP)."""
    configured = {p.address.lower(): p for p in settings.people}
    for address, p in configured.items():
        person = person_for(address, p.name)
        if person.role != p.role or (p.name and person.name != p.name):
            person.role, person.name = p.role, p.name or person.name
            person.save()
    # someone removed from the directory loses staff rights
    (Person.update(role="requester")
     .where(Person.role != "requester", Person.address.not_in(list(configured) or [""]))
     .execute())


def is_staff(settings: Settings, address: str) -> bool:
    p = settings.person(address)
    return p is not None and p.role in ("technician", "admin")
