"""Run a query: messages within tickets, best first, each with a highlighted snippet.

The words are looked up in the index (mailgate.search.backends); the operators and who may
see what (mailgate.search.viewer) are conditions on the message, its ticket and its queue
in the same statement, so the limit counts only hits the viewer may see. A query with only
operators lists the matching messages, newest first.

With `in:quoted`, a hit in a message's quoted history is moved to the message that first
wrote the words: the earliest message of the same ticket whose own text has them (one more
lookup per such hit); when the ticket has none, the quoting message itself is the hit.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import peewee as pw

from mailgate.core.statuses import ACTIVE
from mailgate.db.models import Attachment, Message, Queue, Ticket, database_proxy
from mailgate.db.search_schema import UNINDEXED_BELOW, SearchState
from mailgate.search.backends import backend_for
from mailgate.search.query import Query, QueryError, parse_query
from mailgate.search.ranked import best, scored, tables
from mailgate.search.text import SNIPPET_WORDS, snippet
from mailgate.search.viewer import Viewer

MAX_LIMIT = 1000
# an act with commands only leaves a message without text: no hit for an operator-only query
SAYS_SOMETHING = "(m.body <> '' OR EXISTS (SELECT 1 FROM attachment a WHERE a.message_id = m.id))"


@dataclass(frozen=True)
class Hit:
    ticket: int
    message: int  # the message's row id
    message_id: str  # its Message-ID
    subject: str
    ticket_subject: str
    status: str
    queue: str
    sender: str
    date: str | None
    internal: bool
    score: float
    snippet: str  # HTML-escaped text, the query's words in <mark>
    quoted_in: tuple[int, ...] = ()  # in:quoted: the messages whose quoted history matched

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "quoted_in": list(self.quoted_in)}


@dataclass
class Result:
    hits: list[Hit] = field(default_factory=list)
    note: str = ""  # e.g. that part of the store is not indexed yet


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _when(db: pw.Database, value: datetime) -> object:
    return value if isinstance(db, pw.PostgresqlDatabase) else value.strftime("%Y-%m-%d %H:%M:%S")


def _in(values: list[object], p: str) -> str:
    return "(" + ", ".join([p] * len(values)) + ")"


def _filters(q: Query, viewer: Viewer, db: pw.Database) -> tuple[list[str], list[object]]:
    p = db.param
    where, params = ["m.direction = 'in'"], []
    cond, values = viewer.sql(p)
    where.append(cond)
    params += values
    for s in q.senders:
        where.append(f"lower(m.sender) = {p}" if "@" in s else f"lower(m.sender) LIKE {p} ESCAPE '\\'")
        params.append(s if "@" in s else _like(s))
    for r in q.recipients:
        where.append(f"lower(m.recipients) LIKE {p} ESCAPE '\\'")
        params.append(_like(r))
    for name, values_ in (("q.name", q.queues), ("t.status", q.statuses), ("t.id", q.tickets),
                          ("m.message_id", q.message_ids)):
        if values_:
            where.append(f"{name} IN {_in(values_, p)}")
            params += values_
    for owner in q.owners:
        if owner == "none":
            where.append("t.owner_id IS NULL")
        elif owner == "me":
            if viewer.person_id is None:
                raise QueryError("owner:me: the command line searches as nobody; use --as ADDRESS or owner:ADDRESS")
            where.append(f"t.owner_id = {p}")
            params.append(viewer.person_id)
        else:
            test = f"= {p}" if "@" in owner else f"LIKE {p} ESCAPE '\\'"
            where.append(f"t.owner_id IN (SELECT id FROM person WHERE address {test})")
            params.append(owner if "@" in owner else _like(owner))
    if q.is_open is not None:
        where.append(f"t.status {'IN' if q.is_open else 'NOT IN'} {_in(list(ACTIVE), p)}")
        params += list(ACTIVE)
    if q.has_attachment:
        where.append("EXISTS (SELECT 1 FROM attachment a WHERE a.message_id = m.id)")
    for op, value in (("<", q.before), (">=", q.after)):
        if value is not None:
            where.append(f"COALESCE(m.date, m.created_at) {op} {p}")
            params.append(_when(db, value))
    return where, params


def _listing(db: pw.Database, where: list[str], params: list[object], limit: int, offset: int) -> list[int]:
    """Operators only: the matching messages, newest first."""
    p = db.param
    sql = (f"SELECT m.id FROM message m {tables(db)} WHERE {' AND '.join(where)} ORDER BY m.id DESC "
           f"LIMIT {p} OFFSET {p}")
    return [r[0] for r in db.execute_sql(sql, [*params, limit, offset]).fetchall()]


def _narrow(q: Query, viewer: Viewer, p: str) -> tuple[str, list[object]] | None:
    """The few messages a query can only be about, as a subquery (see mailgate.search.ranked)."""
    base = "SELECT m2.id FROM message m2"
    if viewer.scope is not None:
        return f"{base} WHERE m2.ticket_id = {p}", [viewer.scope]
    if q.tickets:
        return f"{base} WHERE m2.ticket_id IN {_in(list(q.tickets), p)}", list(q.tickets)
    if q.message_ids:
        return f"{base} WHERE m2.message_id IN {_in(list(q.message_ids), p)}", list(q.message_ids)
    exact = [s for s in q.senders if "@" in s]
    if exact:
        return f"{base} WHERE lower(m2.sender) = {p}", [exact[0]]
    if viewer.person_id is not None and not viewer.everything and not viewer.queues:
        return (f"{base} JOIN ticket t2 ON t2.id = m2.ticket_id WHERE t2.requester_id = {p}", [viewer.person_id])
    return None


def _original(db: pw.Database, q: Query, viewer: Viewer, ticket: int, before: int) -> int | None:
    """The earliest message of `ticket` before `before` whose own text has the words."""
    p = db.param
    match = backend_for(db).match(q, "visible")
    mine = f" AND {match.id} IN (SELECT id FROM message WHERE ticket_id = {p} AND id < {p})"
    for mid, _ in scored(db, match, mine, [ticket, before], 100, order=f"{match.id} ASC"):
        cond, values = viewer.sql(p)
        if db.execute_sql(f"SELECT 1 FROM message m {tables(db)} WHERE m.id = {p} AND {cond}", [mid, *values]).fetchone():
            return mid
    return None


def _find(q: Query, viewer: Viewer, limit: int, offset: int) -> list[tuple[int, float, tuple[int, ...]]]:
    db = database_proxy.obj
    backend = backend_for(db)
    where, params = _filters(q, viewer, db)
    if not q.has_text:
        if q.excluded:
            cond, values = backend.excluded(q)
            where, params = [*where, cond], [*params, *values]
        where = [*where, SAYS_SOMETHING]
        return [(mid, 0.0, ()) for mid in _listing(db, where, params, limit, offset)]
    narrow = _narrow(q, viewer, db.param)
    found: dict[int, tuple[float, list[int]]] = {
        r[0]: (float(r[2]), []) for r in best(db, backend.match(q, "visible"), where, params, limit, offset, narrow)}
    if q.quoted:
        for mid, ticket, score in best(db, backend.match(q, "quoted"), where, params, limit, offset, narrow):
            original = _original(db, q, viewer, ticket, mid) or mid
            top, quoting = found.get(original, (float(score), []))
            found[original] = (max(top, float(score)), [*quoting, mid] if original != mid else quoting)
    ranked = sorted(found.items(), key=lambda kv: (-kv[1][0], -kv[0]))[:limit]
    return [(mid, score, tuple(quoting)) for mid, (score, quoting) in ranked]


def _snippet(m: Message, names: str, q: Query, quoted_hit: bool) -> str:
    wanted = q.wanted_words
    if not wanted:  # operators only: the message's first words
        words_ = m.body.split()
        return html.escape(" ".join(words_[:SNIPPET_WORDS])) + (" …" if len(words_) > SNIPPET_WORDS else "")
    for text in (m.body, m.subject, names, m.quoted if quoted_hit or q.quoted else ""):
        found = snippet(text, wanted)
        if found:
            return found
    return ""


def _hits(found: list[tuple[int, float, tuple[int, ...]]], q: Query) -> list[Hit]:
    ids = [mid for mid, _, _ in found]
    if not ids:
        return []
    rows = {m.id: m for m in Message.select(Message, Ticket, Queue).join(Ticket).join(Queue).where(Message.id.in_(ids))}
    names: dict[int, list[str]] = {}
    for a in Attachment.select(Attachment.message, Attachment.filename).where(Attachment.message.in_(ids)).order_by(
            Attachment.id):
        names.setdefault(a.message_id, []).append(a.filename)
    hits = []
    for mid, score, quoting in found:
        m = rows.get(mid)
        if m is None:
            continue
        t = m.ticket
        when = m.date or m.created_at
        hits.append(Hit(ticket=t.id, message=m.id, message_id=m.message_id, subject=m.subject,
                        ticket_subject=t.subject, status=t.status, queue=t.queue.name, sender=m.sender,
                        date=when.isoformat() + "Z" if when else None, internal=bool(m.internal),
                        score=round(score, 6), snippet=_snippet(m, " ".join(names.get(mid, [])), q, bool(quoting)),
                        quoted_in=quoting))
    return hits


def _note() -> str:
    row = SearchState.get_or_none(SearchState.key == UNINDEXED_BELOW)
    if row is None or not row.value:
        return ""
    return (f"messages before #{row.value} are not in the index yet: run `mailgate search reindex` "
            "(new mail is indexed as it arrives)")


def search(query: Query | str, viewer: Viewer, limit: int = 20, offset: int = 0) -> Result:
    """The hits of `query` that `viewer` may see. Raises QueryError for an operator with a
    value it cannot use."""
    q = parse_query(query) if isinstance(query, str) else query
    if q.is_empty:  # only signs, no word: nothing matches (and nothing went wrong)
        return Result(note="no words to search for: give words, a \"phrase\" or an operator such as from:ADDRESS")
    limit = max(1, min(limit, MAX_LIMIT))
    return Result(hits=_hits(_find(q, viewer, limit, max(0, offset)), q), note=_note())


def matching_tickets(query: Query | str, viewer: Viewer) -> list[int]:
    """Every ticket with a matching message (`ticket list --search`), newest first."""
    q = parse_query(query) if isinstance(query, str) else query
    if q.is_empty:
        return []
    db = database_proxy.obj
    where, params = _filters(q, viewer, db)
    if q.has_text:
        match = backend_for(db).match(q, "visible")
        sql = f"SELECT DISTINCT m.ticket_id FROM {match.source} {tables(db)} WHERE {match.where} AND {' AND '.join(where)}"
        rows = db.execute_sql(sql, [*match.params, *params]).fetchall()
    else:
        if q.excluded:
            cond, values = backend_for(db).excluded(q)
            where, params = [*where, cond], [*params, *values]
        sql = f"SELECT DISTINCT m.ticket_id FROM message m {tables(db)} WHERE {' AND '.join(where)}"
        rows = db.execute_sql(sql, params).fetchall()
    return sorted((r[0] for r in rows if r[0] is not None), reverse=True)


def group_by_ticket(hits: list[Hit]) -> list[dict[str, Any]]:
    """Tickets in the order of their best hit, each with its hits."""
    groups: dict[int, dict[str, Any]] = {}
    for h in hits:
        g = groups.setdefault(h.ticket, {"ticket": h.ticket, "subject": h.ticket_subject, "status": h.status,
                                         "queue": h.queue, "score": h.score, "hits": []})
        g["hits"].append(h.as_dict())
    return list(groups.values())
