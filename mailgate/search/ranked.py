"""The best hits of a word query, fast on a large store.

Ranking every match costs time in proportion to the matches (bm25 and ts_rank work row by
row), and a common word matches a fifth of a million messages. So:

- the index gives its best `k` candidates, ranked among the newest `WINDOW` matches when
  there are more (a recent message is the likelier one in a help desk; with fewer matches
  every one is ranked), and the filters (who may see it, the operators) are applied to
  those candidates only; when too few pass, `k` grows, up to MAX_CANDIDATES, then every
  match is ranked and filtered in one statement;
- a query whose filters leave few messages to look at (a requester's own tickets, `#123`,
  `msgid:`, `from:ADDRESS`, a ticket-link session) asks the index about those messages only.
"""

from __future__ import annotations

import peewee as pw

from mailgate.search.backends import Match

WINDOW = 2000
MAX_CANDIDATES = 20_000
CHUNK = 10_000
TABLES = "JOIN ticket t ON t.id = m.ticket_id JOIN queue q ON q.id = t.queue_id"
# SQLite without planner statistics (mailgate never runs ANALYZE) may start from the ticket
# table's status index and probe messages from there: over a million messages that takes
# minutes. CROSS JOIN keeps the message first, which is always the short way here.
SQLITE_TABLES = "CROSS JOIN ticket t ON t.id = m.ticket_id CROSS JOIN queue q ON q.id = t.queue_id"


def tables(db: pw.Database) -> str:
    return TABLES if isinstance(db, pw.PostgresqlDatabase) else SQLITE_TABLES
Row = tuple[int, int, float]  # message, ticket, score


def every_match(db: pw.Database, match: Match, where: list[str], params: list[object], limit: int,
                offset: int = 0, order: str = "") -> list[Row]:
    """All matches ranked and filtered in one statement (the index first: Match.source)."""
    p = db.param
    sql = (f"SELECT m.id, m.ticket_id, {match.score} AS score FROM {match.source} {tables(db)} "
           f"WHERE {match.where} AND {' AND '.join(where)} ORDER BY {order or 'score DESC, m.id DESC'} "
           f"LIMIT {p} OFFSET {p}")
    return db.execute_sql(sql, [*match.score_params, *match.params, *params, limit, offset]).fetchall()


def scored(db: pw.Database, match: Match, extra: str, extra_params: list[object], limit: int,
           order: str = "score DESC") -> list[tuple[int, float]]:
    """(message, score) from the index alone, `extra` narrowing the messages it looks at."""
    rows = db.execute_sql(f"SELECT {match.id}, {match.score} AS score FROM {match.table} WHERE {match.where}{extra} "
                          f"ORDER BY {order}, {match.id} DESC LIMIT {db.param}",
                          [*match.score_params, *match.params, *extra_params, limit]).fetchall()
    return [(r[0], float(r[1])) for r in rows]


def _top(db: pw.Database, match: Match, k: int) -> tuple[list[tuple[int, float]], bool]:
    """(the best k candidates, whether every match was ranked)."""
    p = db.param
    window = max(WINDOW, k)
    bound = db.execute_sql(f"SELECT {match.id} FROM {match.table} WHERE {match.where} ORDER BY {match.id} DESC "
                           f"LIMIT 1 OFFSET {p}", [*match.params, window - 1]).fetchone()
    if bound is None:
        return scored(db, match, "", [], k), True
    return scored(db, match, f" AND {match.id} >= {p}", [bound[0]], k), False


def _passing(db: pw.Database, ids: list[int], where: list[str], params: list[object]) -> dict[int, int]:
    """message -> ticket of the candidates that pass the filters (in statements of at most
    CHUNK ids: SQLite takes 32,766 parameters in one)."""
    found: dict[int, int] = {}
    for i in range(0, len(ids), CHUNK):
        part = ids[i:i + CHUNK]
        marks = ", ".join([db.param] * len(part))
        sql = (f"SELECT m.id, m.ticket_id FROM message m {tables(db)} WHERE m.id IN ({marks}) "
               f"AND {' AND '.join(where)}")
        found.update(db.execute_sql(sql, [*part, *params]).fetchall())
    return found


def best(db: pw.Database, match: Match, where: list[str], params: list[object], limit: int, offset: int,
         narrow: tuple[str, list[object]] | None) -> list[Row]:
    want = limit + offset
    if narrow is not None:  # the index walks the word's matches, ranking only these messages
        sql, values = narrow
        candidates = scored(db, match, f" AND {match.id} IN ({sql})", values, MAX_CANDIDATES * 5)
        passing = _passing(db, [c[0] for c in candidates], where, params)
        return [(mid, passing[mid], score) for mid, score in candidates if mid in passing][offset:want]
    k = max(8 * want, 100)
    while True:
        candidates, complete = _top(db, match, k)
        passing = _passing(db, [c[0] for c in candidates], where, params)
        hits = [(mid, passing[mid], score) for mid, score in candidates if mid in passing]
        if len(hits) >= want or (complete and len(candidates) < k):
            return hits[offset:want]
        if k >= MAX_CANDIDATES:
            return every_match(db, match, where, params, limit, offset)
        k = min(k * 8, MAX_CANDIDATES)
