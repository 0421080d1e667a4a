"""The full-text index's tables (issue 15), for the migration that creates them.

SQLite: an FTS5 table with external content: the stored incoming messages (subject,
visible text, attachment file names, quoted history; never the signature, never the HTML
markup), read through `CONTENT_SELECT`, so the index holds no second copy of the text; the
`unicode61 remove_diacritics 2` tokenizer folds case and accents.

PostgreSQL: `search_doc`, one row per message with two tsvectors (the visible text, and the
quoted history apart: it is searched only on request), each with a GIN index. Their words
are made in Python (mailgate.search.text), so the two backends agree on what a word is.

`search_state` keeps a rebuild's progress (`mailgate search reindex` resumes from it) and,
on PostgreSQL, the highest message id a store had before it was indexed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import peewee as pw

from mailgate.db.models import BaseModel

FTS_TABLE, CONTENT_VIEW, DOC_TABLE = "search_fts", "search_content", "search_doc"
# FTS5 columns, in the order bm25() takes their weights
FTS_COLUMNS = ("subject", "body", "names", "quoted")
VISIBLE_COLUMNS = ("subject", "body", "names")


class SearchState(BaseModel):
    key = pw.CharField(unique=True)
    value = pw.BigIntegerField(default=0)


# a message written at a front door carries the ticket's subject as its own: what the
# person wrote is its text, so its subject is not indexed (or every command-only act on a
# ticket would be a hit for the ticket's subject)
FRONT_DOORS = ("cli", "api", "web")
SUBJECT_SQL = f"CASE WHEN m.source IN ({', '.join(repr(d) for d in FRONT_DOORS)}) THEN '' ELSE m.subject END"

# what the FTS5 table indexes of each incoming message, read from `message` and `attachment`
CONTENT_SELECT = f"""SELECT m.id AS id, {SUBJECT_SQL} AS subject, m.body AS body,
       COALESCE((SELECT group_concat(filename, ' ') FROM
                 (SELECT a.filename FROM attachment a WHERE a.message_id = m.id ORDER BY a.id)), '') AS names,
       m.quoted AS quoted
FROM message m WHERE m.direction = 'in'"""

FTS_DDL = f"""CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(
    {', '.join(FTS_COLUMNS)}, content='{CONTENT_VIEW}', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2')"""


@contextmanager
def content_view(db: pw.Database) -> Iterator[None]:
    """The FTS5 table's external content, as a view for the length of one transaction. A
    lasting view on `message` would make SQLite refuse the table rebuilds of later
    migrations (playhouse's add_not_null, drop_column), and the index never needs to read
    it while searching: MATCH and bm25() use the index alone."""
    db.execute_sql(f"CREATE VIEW IF NOT EXISTS {CONTENT_VIEW} AS {CONTENT_SELECT}")
    try:
        yield
    finally:
        db.execute_sql(f"DROP VIEW IF EXISTS {CONTENT_VIEW}")


POSTGRES_DDL = (
    f"""CREATE TABLE IF NOT EXISTS {DOC_TABLE} (
    message_id INTEGER PRIMARY KEY REFERENCES message (id) ON DELETE CASCADE,
    tsv TSVECTOR NOT NULL,
    tsv_quoted TSVECTOR NOT NULL)""",
    f"CREATE INDEX IF NOT EXISTS {DOC_TABLE}_tsv ON {DOC_TABLE} USING GIN (tsv)",
    f"CREATE INDEX IF NOT EXISTS {DOC_TABLE}_tsv_quoted ON {DOC_TABLE} USING GIN (tsv_quoted)",
)

# `from:ADDRESS` on its own (without words to look up first) reads this index
INDEXES = ('CREATE INDEX IF NOT EXISTS "message_sender_lower" ON "message" (lower("sender"))',)

UNINDEXED_BELOW = "unindexed_below"  # PostgreSQL: messages below this id wait for a reindex


def create_search(db: pw.Database) -> None:
    """Migration 20: the index, filled at once on SQLite (one statement reads the view);
    on PostgreSQL the words are made in Python, so existing messages wait for `mailgate
    search reindex` (and searches say so until it ran)."""
    db.create_tables([SearchState], safe=True)
    for sql in INDEXES:
        db.execute_sql(sql)
    if isinstance(db, pw.PostgresqlDatabase):
        for sql in POSTGRES_DDL:
            db.execute_sql(sql)
        highest = db.execute_sql("SELECT COALESCE(MAX(id), 0) FROM message").fetchone()[0]
        if highest:
            SearchState.insert(key=UNINDEXED_BELOW, value=highest + 1).on_conflict_ignore().execute()
        return
    db.execute_sql(FTS_DDL)
    # merge segments 16 at a time, not 4: on a million messages this halves what indexing
    # costs each commit (bench/search.py), for a few more segments per query to read
    db.execute_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('automerge', 16)")
    with content_view(db):
        db.execute_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
