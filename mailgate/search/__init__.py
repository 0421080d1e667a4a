"""Full-text search over the stored mail (issue 15), behind one small interface:

    index_message(env, message, names)    in the transaction that stores an incoming message
    index_new_body(env, message, body)    before its text is saved without command lines
    search(query, viewer, limit)          hits: messages within tickets, best first, snippets
    matching_tickets(query, viewer)       ticket numbers (`ticket list --search`)
    reindex(...)                          rebuild, resumable, safe beside the daemon

Backends (mailgate.search.backends): SQLite FTS5 with external content and bm25, or
PostgreSQL tsvector with GIN and websearch_to_tsquery; the words come from
mailgate.search.text for both, so the same query finds the same messages on either.
What is indexed: the subject, the visible text (an HTML-only mail as its text), the
attachments' file names, and the quoted history apart (searched only with `in:quoted`);
never the signature or a disclaimer, never HTML markup or attributes, never our own
outgoing copies. See docs/search.md.
"""

from mailgate.search.index import index_message, index_new_body, index_size, reindex
from mailgate.search.query import Query, QueryError, parse_query
from mailgate.search.run import Hit, Result, group_by_ticket, matching_tickets, search
from mailgate.search.viewer import OPERATOR, Viewer, viewer_for

__all__ = ["OPERATOR", "Hit", "Query", "QueryError", "Result", "Viewer", "group_by_ticket", "index_message",
           "index_new_body", "index_size", "matching_tickets", "parse_query", "reindex", "search", "viewer_for"]
