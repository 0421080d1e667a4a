"""People in the store: the staff directory from the configuration plus every requester."""

from __future__ import annotations

from mailgate.config import Settings
from mailgate.db.models import Person


def person_for(address: str, name: str = "") -> Person:
    address = address.strip().lower()
    person, created = Person.get_or_create(address=address, defaults={"name": name})
    if not created and name and not person.name:
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
