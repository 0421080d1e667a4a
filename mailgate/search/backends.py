"""The two index backends behind one small interface:

    add(docs)          index messages, in the caller's transaction
    remove(doc)        take a message out (before its text changes)
    clear()            empty the index (a rebuild starts here)
    fill(after, upto)  index stored messages with ids in (after, upto], for a rebuild
    match(q, column)   SQL that finds the query's words: (FROM, WHERE, params, score)
    size()             bytes the index takes

`column` is "visible" (subject, visible text and file names) or "quoted" (the quoted
history only). Words reach SQL only as parameters, each quoted for the engine, so nothing a
person types is ever query syntax.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import peewee as pw

from mailgate.db.search_schema import (
    CONTENT_SELECT,
    DOC_TABLE,
    FTS_COLUMNS,
    FTS_TABLE,
    SUBJECT_SQL,
    VISIBLE_COLUMNS,
)
from mailgate.search.query import Query
from mailgate.search.text import words

# how much a hit in each place counts: subject, visible text, file names, quoted history
WEIGHTS = {"subject": 5.0, "body": 1.0, "names": 2.0, "quoted": 0.5}


@dataclass(frozen=True)
class Doc:
    id: int
    subject: str
    body: str
    names: str  # the attachments' file names, space-separated, in the order they were stored
    quoted: str


@dataclass(frozen=True)
class Match:
    source: str  # FROM: the index joined to the message table `m` (SQLite: CROSS JOIN keeps the index first)
    table: str  # the index alone, and its message id column
    id: str
    where: str
    params: list[object]  # for `where`
    score: str  # higher is better
    score_params: tuple[object, ...] = ()


class Backend(Protocol):
    name: str

    def add(self, docs: Sequence[Doc]) -> None: ...
    def remove(self, doc: Doc) -> None: ...
    def clear(self) -> None: ...
    def fill(self, after: int, upto: int, limit: int) -> tuple[int, int]: ...
    def match(self, q: Query, column: str, terms: list[list[str]] | None = None) -> Match: ...
    def excluded(self, q: Query) -> tuple[str, list[object]]: ...
    def size(self) -> int: ...


def _fts_phrase(term: list[str]) -> str:
    return '"' + " ".join(term).replace('"', '""') + '"'


class SqliteFts:
    """FTS5, external content (the view over `message`), bm25 ranking."""

    name = "sqlite-fts5"

    def __init__(self, db: pw.SqliteDatabase) -> None:
        self.db = db

    def add(self, docs: Sequence[Doc]) -> None:
        sql = f"INSERT INTO {FTS_TABLE}(rowid, {', '.join(FTS_COLUMNS)}) VALUES (?, ?, ?, ?, ?)"
        rows = [(d.id, d.subject, d.body, d.names, d.quoted) for d in docs]
        if len(rows) == 1:  # the common case: one message, one statement
            self.db.execute_sql(sql, rows[0])
        else:
            self.db.cursor().executemany(sql, rows)

    def remove(self, doc: Doc) -> None:
        # FTS5 must be told the values it indexed to take them out again
        self.db.execute_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {', '.join(FTS_COLUMNS)}) "
                            "VALUES ('delete', ?, ?, ?, ?, ?)", (doc.id, doc.subject, doc.body, doc.names, doc.quoted))

    def clear(self) -> None:
        self.db.execute_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('delete-all')")

    def fill(self, after: int, upto: int, limit: int) -> tuple[int, int]:
        """(last id done, messages indexed) for the next `limit` ids in (after, upto]."""
        last = self.db.execute_sql(
            "SELECT MAX(id), COUNT(*) FROM (SELECT id FROM message WHERE direction = 'in' AND id > ? AND id <= ? "
            "ORDER BY id LIMIT ?)", (after, upto, limit)).fetchone()
        if not last[1]:
            return upto, 0
        self.db.execute_sql(f"INSERT INTO {FTS_TABLE}(rowid, {', '.join(FTS_COLUMNS)}) "
                            f"SELECT * FROM ({CONTENT_SELECT}) WHERE id > ? AND id <= ?", (after, last[0]))
        return int(last[0]), int(last[1])

    def _expression(self, terms: list[list[str]], column: str) -> str:
        cols = " ".join(VISIBLE_COLUMNS) if column == "visible" else "quoted"
        return "{" + cols + "} : (" + " AND ".join(_fts_phrase(t) for t in terms) + ")"

    def match(self, q: Query, column: str, terms: list[list[str]] | None = None) -> Match:
        expression = self._expression(terms if terms is not None else q.terms, column)
        if q.excluded:
            expression = f"({expression}) NOT ({self._expression_any(q.excluded)})"
        weights = ", ".join(str(WEIGHTS[c]) for c in FTS_COLUMNS)
        return Match(source=f"{FTS_TABLE} CROSS JOIN message m ON m.id = {FTS_TABLE}.rowid", table=FTS_TABLE, id="rowid", where=f"{FTS_TABLE} MATCH ?",
                     params=[expression], score=f"-bm25({FTS_TABLE}, {weights})")

    def _expression_any(self, terms: list[list[str]]) -> str:
        return "{" + " ".join(VISIBLE_COLUMNS) + "} : (" + " OR ".join(_fts_phrase(t) for t in terms) + ")"

    def excluded(self, q: Query) -> tuple[str, list[object]]:
        """A condition on `m` for a query with words to leave out and none to look for."""
        return (f"m.id NOT IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ?)",
                [self._expression_any(q.excluded)])

    def size(self) -> int:
        row = self.db.execute_sql("SELECT SUM(LENGTH(block)) FROM " + FTS_TABLE + "_data").fetchone()
        extra = self.db.execute_sql("SELECT COUNT(*) * 16 FROM " + FTS_TABLE + "_docsize").fetchone()
        return int(row[0] or 0) + int(extra[0] or 0)


def _ts_words(*texts: str) -> str:
    return " ".join(" ".join(words(t)) for t in texts if t)


def _websearch(terms: list[list[str]], excluded: list[list[str]] = (), joiner: str = " ") -> str:
    """A websearch_to_tsquery text of quoted words only: `or`, `-` and the like inside it are
    words, never operators."""
    parts = ['"' + " ".join(t) + '"' for t in terms]
    parts += ['-"' + " ".join(t) + '"' for t in excluded]
    return joiner.join(parts)


class PostgresTsvector:
    """tsvector columns with GIN indexes, websearch_to_tsquery, ts_rank."""

    name = "postgres-tsvector"
    VECTOR = ("setweight(to_tsvector('simple', %s), 'A') || setweight(to_tsvector('simple', %s), 'B') || "
              "setweight(to_tsvector('simple', %s), 'C')")

    def __init__(self, db: pw.PostgresqlDatabase) -> None:
        self.db = db

    def _row(self, d: Doc) -> tuple[object, ...]:
        return (d.id, _ts_words(d.subject), _ts_words(d.body), _ts_words(d.names), _ts_words(d.quoted))

    def add(self, docs: Sequence[Doc]) -> None:
        sql = (f"INSERT INTO {DOC_TABLE} (message_id, tsv, tsv_quoted) VALUES (%s, {self.VECTOR}, "
               "to_tsvector('simple', %s)) ON CONFLICT (message_id) DO UPDATE SET tsv = EXCLUDED.tsv, "
               "tsv_quoted = EXCLUDED.tsv_quoted")
        cursor = self.db.cursor()
        cursor.executemany(sql, [self._row(d) for d in docs])

    def remove(self, doc: Doc) -> None:
        self.db.execute_sql(f"DELETE FROM {DOC_TABLE} WHERE message_id = %s", (doc.id,))

    def clear(self) -> None:
        self.db.execute_sql(f"DELETE FROM {DOC_TABLE}")

    def fill(self, after: int, upto: int, limit: int) -> tuple[int, int]:
        rows = self.db.execute_sql(
            f"SELECT m.id, {SUBJECT_SQL}, m.body, COALESCE((SELECT string_agg(a.filename, ' ' ORDER BY a.id) "
            "FROM attachment a WHERE a.message_id = m.id), ''), m.quoted FROM message m "
            "WHERE m.direction = 'in' AND m.id > %s AND m.id <= %s ORDER BY m.id LIMIT %s",
            (after, upto, limit)).fetchall()
        if not rows:
            return upto, 0
        self.add([Doc(*r) for r in rows])
        return int(rows[-1][0]), len(rows)

    def match(self, q: Query, column: str, terms: list[list[str]] | None = None) -> Match:
        vector = "search_doc.tsv" if column == "visible" else "search_doc.tsv_quoted"
        text = _websearch(terms if terms is not None else q.terms, q.excluded)
        return Match(source=f"{DOC_TABLE} JOIN message m ON m.id = {DOC_TABLE}.message_id", table=DOC_TABLE, id="message_id",
                     where=f"{vector} @@ websearch_to_tsquery('simple', %s)", params=[text],
                     score=f"ts_rank({vector}, websearch_to_tsquery('simple', %s))", score_params=(text,))

    def excluded(self, q: Query) -> tuple[str, list[object]]:
        return (f"m.id NOT IN (SELECT message_id FROM {DOC_TABLE} WHERE tsv @@ websearch_to_tsquery('simple', %s))",
                [_websearch(q.excluded, joiner=" or ")])

    def size(self) -> int:
        row = self.db.execute_sql(f"SELECT pg_total_relation_size('{DOC_TABLE}')").fetchone()
        return int(row[0] or 0)


def backend_for(db: pw.Database) -> Backend:
    if isinstance(db, pw.PostgresqlDatabase):
        return PostgresTsvector(db)
    return SqliteFts(db)
