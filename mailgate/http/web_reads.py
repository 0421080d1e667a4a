"""What the web desk's pages show, read in a reader thread: the queue page (keyset paging,
so page 2,000 costs what page 1 does), the status counts, SLA marks for the tickets on the
page, and a ticket's page data (the same detail as the API, plus its alert occurrences and
its children's latest news)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee as pw

from mailgate.access.visibility import (
    PUBLIC,
    narrows_by_queue,
    public_detail,
    readable,
    staff_queues,
    view_of,
)
from mailgate.config import Settings
from mailgate.core.statuses import ACTIVE, STATUSES
from mailgate.db.models import AlertOccurrence, Message, Person, Queue, Ticket, utcnow
from mailgate.http.auth import Caller
from mailgate.lifecycle.calendar import Calendar
from mailgate.lifecycle.sla import first_responses, milestones, stalled_spans
from mailgate.lifecycle.view import lifecycle_fields
from mailgate.views import ticket_detail

Owner, Requester = Person.alias("w_owner"), Person.alias("w_requester")
SORTS = {"newest": (Ticket.id, True), "updated": (Ticket.updated_at, True), "priority": (Ticket.priority, False)}
PAGE = 50


@dataclass(frozen=True)
class QueueFilters:
    status: str = "active"  # active | any | one of STATUSES
    queue: str = ""
    owner: str = "anyone"  # me | nobody | anyone
    priority: int | None = None
    requester: str = ""
    sort: str = "newest"


def _cursor(values: tuple[Any, ...]) -> str:
    data = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _uncursor(text: str, sort: str) -> tuple[Any, int] | None:
    try:
        key, tid = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        if sort == "updated":
            key = datetime.fromisoformat(key)
        if not isinstance(tid, int) or (sort != "updated" and not isinstance(key, int)):
            return None
    except (binascii.Error, ValueError, TypeError):
        return None
    return key, tid


def _filtered(settings: Settings, person: Person, f: QueueFilters, scope: int | None) -> pw.ModelSelect:
    query = (Ticket.select(Ticket.id, Ticket.subject, Ticket.status, Ticket.priority, Ticket.created_at,
                           Ticket.updated_at, Ticket.owner, Queue.name, Owner.address, Requester.address)
             .join(Queue).switch(Ticket)
             .join(Owner, pw.JOIN.LEFT_OUTER, on=(Ticket.owner == Owner.id)).switch(Ticket)
             .join(Requester, on=(Ticket.requester == Requester.id)))
    return _narrowed(settings, person, f, scope, query)


def _narrowed(settings: Settings, person: Person, f: QueueFilters, scope: int | None,
              query: pw.ModelSelect) -> pw.ModelSelect:
    query = readable(settings, person, query, scope)
    if f.queue:
        query = query.where(Queue.name == f.queue)
    if f.owner == "me":
        query = query.where(Ticket.owner == person.id)
    elif f.owner == "nobody":
        query = query.where(Ticket.owner.is_null())
    if f.priority:
        query = query.where(Ticket.priority == f.priority)
    if f.requester:
        query = query.where(Requester.address == f.requester.strip().lower())
    return query


def status_counts(settings: Settings, person: Person, f: QueueFilters, scope: int | None) -> dict[str, int]:
    """Joined only with what the filters name: the page's three joins cost a lookup each
    per ticket counted (56 against 4 ms on 100,000 tickets, bench/api.py's store)."""
    query = Ticket.select(Ticket.status, pw.fn.COUNT(Ticket.id))
    if f.queue or narrows_by_queue(settings, person, scope):
        query = query.join(Queue).switch(Ticket)
    if f.requester:
        query = query.join(Requester, on=(Ticket.requester == Requester.id))
    rows = _narrowed(settings, person, f, scope, query).group_by(Ticket.status).tuples()
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: n for status, n in rows})
    return counts


def queue_page(settings: Settings, caller: Caller, f: QueueFilters, cursor: str = "") -> dict[str, Any]:
    person = Person.get_by_id(caller.person_id)
    query = _filtered(settings, person, f, caller.scope)
    counts = status_counts(settings, person, f, caller.scope)
    column, descending = SORTS.get(f.sort, SORTS["newest"])
    # newest first: SQLite took the status index, then sorted every active ticket to keep
    # 50 (47 ms on 100,000 tickets, 20,000 active: bench/api.py); walking the ids from the
    # newest down and testing the status (`|| ''` keeps the index out) takes 0.3 ms
    status = Ticket.status.concat("") if column is Ticket.id else Ticket.status
    if f.status == "active":
        query = query.where(status.in_(ACTIVE))
    elif f.status in STATUSES:
        query = query.where(status == f.status)
    after = _uncursor(cursor, f.sort) if cursor else None
    if after is not None:
        key, tid = after
        if column is Ticket.id:
            query = query.where(Ticket.id < tid)
        elif descending:
            query = query.where((column < key) | ((column == key) & (Ticket.id < tid)))
        else:
            query = query.where((column > key) | ((column == key) & (Ticket.id < tid)))
    order = [column.desc() if descending else column.asc()] + ([] if column is Ticket.id else [Ticket.id.desc()])
    rows = list(query.order_by(*order).limit(PAGE + 1).tuples())
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    tickets = [{"id": r[0], "subject": r[1], "status": r[2], "priority": r[3], "created_at": r[4], "updated_at": r[5],
                "unowned": r[6] is None, "queue": r[7], "owner": r[8], "requester": r[9]} for r in rows]
    _mark_sla(settings, tickets)
    last = rows[-1] if rows else None
    next_cursor = ""
    if more and last is not None:
        value = {"newest": last[0], "updated": last[5], "priority": last[3]}.get(f.sort, last[0])
        next_cursor = _cursor((value, last[0]))
    return {"tickets": tickets, "counts": counts, "next": next_cursor,
            "staff": staff_queues(settings, person) is not None}


def _mark_sla(settings: Settings, rows: list[dict[str, Any]]) -> None:
    """`sla`: breached | near | "" for each active ticket on the page (bulk lookups)."""
    if not settings.sla or not rows:
        for r in rows:
            r["sla"] = ""
        return
    ids = [r["id"] for r in rows if r["status"] in ACTIVE]
    responded, stalled = first_responses(settings, ids), stalled_spans(ids)
    calendars: dict[str, Calendar] = {}
    now = utcnow()
    tickets = {t.id: t for t in Ticket.select(Ticket, Queue).join(Queue).where(Ticket.id.in_(ids))} if ids else {}
    for r in rows:
        r["sla"] = ""
        ticket = tickets.get(r["id"])
        if ticket is None:
            continue
        for m in milestones(ticket, settings, responded.get(ticket.id), calendars, stalled.get(ticket.id, []), now):
            if m.met_at is None and now >= m.due:
                r["sla"] = "breached"
            elif m.met_at is None and now >= m.near and not r["sla"]:
                r["sla"] = "near"


def ticket_page(settings: Settings, caller: Caller, ticket_id: int) -> dict[str, Any] | None:
    ticket = Ticket.get_or_none(Ticket.id == ticket_id)
    if ticket is None:
        return None
    person = Person.get_by_id(caller.person_id)
    view = view_of(settings, person, ticket, caller.scope)
    if view is None:
        return None
    data = ticket_detail(ticket)
    if view == PUBLIC:
        data = public_detail(data)
        data.update(view=PUBLIC, occurrences=[], children_news=[], staff=[])
        return data
    data.update(lifecycle_fields(ticket, settings))
    data["view"] = "staff"
    data["occurrences"] = [
        {"at": o.at, "kind": o.kind, "state": o.state_text}
        for o in AlertOccurrence.select().where(AlertOccurrence.ticket == ticket).order_by(AlertOccurrence.id.desc())
        .limit(50)]
    data["children_news"] = _children_news(ticket)
    data["staff"] = [p.address for p in settings.people if p.role in ("technician", "admin")]
    data["queues"] = [q.name for q in settings.queues]
    return data


def _children_news(ticket: Ticket) -> list[dict[str, Any]]:
    """A parent shows its children's latest visible message (the master/child view)."""
    news = []
    for child in Ticket.select().where(Ticket.parent == ticket).order_by(Ticket.id):
        last = (Message.select(Message.body, Message.sender, Message.created_at)
                .where(Message.ticket == child, Message.direction == "in", Message.internal == False)  # noqa: E712
                .order_by(Message.id.desc()).first())
        news.append({"id": child.id, "subject": child.subject, "status": child.status,
                     "last": (last.body or "")[:200] if last else "", "by": last.sender if last else "",
                     "at": last.created_at if last else None})
    return news
