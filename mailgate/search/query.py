"""The search language, parsed into a plain `Query` (no SQL here).

    printer toner            messages with both words (any order, subject, text or file names)
    "paper jam"              the words in this order
    -toner  -"paper jam"     without the word or phrase
    from:alice  to:ops@example.com  queue:ops  status:open  owner:me|none|ADDRESS
    is:open  is:closed  has:attachment  before:2024-05-01  after:2024-04-01
    msgid:<abc@example.com>  #123  in:quoted

Whatever a person types is only ever data: characters with a meaning to FTS5 or to
websearch_to_tsquery (`"`, `*`, `:`, parentheses, NEAR, AND/OR/NOT) are not passed on as
syntax; the words are re-made from `mailgate.search.text` and quoted by each backend, and
every value goes to SQL as a parameter. A known operator with a value it cannot use is a
`QueryError` that says what would work; an unknown `word:value` is just two words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from mailgate.core.statuses import STATUSES
from mailgate.search.text import words

OPERATORS = ("from", "to", "queue", "status", "owner", "is", "has", "before", "after", "msgid", "in")
IS_VALUES = ("open", "closed")
_TOKEN_RE = re.compile(r'(-?)"([^"]*)"?|(\S+)')
MAX_TERMS = 32  # more words than this in one query are ignored (each costs an index lookup)


class QueryError(ValueError):
    """A query operator with a value it cannot use; the text says what would work."""


@dataclass
class Query:
    terms: list[list[str]] = field(default_factory=list)  # each a word or a phrase (words in order)
    excluded: list[list[str]] = field(default_factory=list)
    senders: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    queues: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)  # an address, "me" or "none"
    is_open: bool | None = None
    has_attachment: bool = False
    before: datetime | None = None
    after: datetime | None = None
    message_ids: list[str] = field(default_factory=list)
    tickets: list[int] = field(default_factory=list)
    quoted: bool = False

    @property
    def has_text(self) -> bool:
        return bool(self.terms)

    @property
    def wanted_words(self) -> set[str]:
        return {w for t in self.terms for w in t}

    @property
    def is_empty(self) -> bool:
        return self == Query()


def _day(value: str, op: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(value), datetime.min.time())
    except ValueError:
        raise QueryError(f"{op}: expected a date like 2024-05-31, got {value!r}") from None


def _operator(q: Query, op: str, value: str) -> bool:
    """Apply `op:value` to q; False when `op` is no operator (the text is then words)."""
    if op not in OPERATORS:
        return False
    if not value:
        raise QueryError(f"{op}: needs a value, like {op}:{'open' if op in ('is', 'status') else 'x'}")
    v = value.lower()
    if op == "from":
        q.senders.append(v)
    elif op == "to":
        q.recipients.append(v)
    elif op == "queue":
        q.queues.append(value)
    elif op == "status":
        if v not in STATUSES:
            raise QueryError(f"status: expected one of {', '.join(STATUSES)}, got {value!r}")
        q.statuses.append(v)
    elif op == "owner":
        q.owners.append(v)
    elif op == "is":
        if v not in IS_VALUES:
            raise QueryError(f"is: expected is:open or is:closed, got {value!r}")
        q.is_open = v == "open"
    elif op == "has":
        if v not in ("attachment", "attachments"):
            raise QueryError(f"has: expected has:attachment, got {value!r}")
        q.has_attachment = True
    elif op in ("before", "after"):
        setattr(q, op, _day(value, op))
    elif op == "msgid":
        q.message_ids.append(value.strip("<>"))
    elif op == "in":
        if v != "quoted":
            raise QueryError(f"in: expected in:quoted, got {value!r}")
        q.quoted = True
    return True


def _add_words(q: Query, text: str, negative: bool) -> None:
    """A word; several words (`"paper jam"`, `e-mail`, `bob@example.com`) make a phrase."""
    found = words(text)
    if found:
        (q.excluded if negative else q.terms).append(found)


def parse_query(text: str) -> Query:
    q = Query()
    for m in _TOKEN_RE.finditer(text):
        negative, phrase, bare = m.group(1), m.group(2), m.group(3)
        if phrase is not None:
            _add_words(q, phrase, bool(negative))
            continue
        if re.fullmatch(r"#\d{1,10}", bare):
            q.tickets.append(int(bare[1:]))
            continue
        negative = bare.startswith("-") and len(bare) > 1
        body = bare[1:] if negative else bare
        op, colon, value = body.partition(":")
        if colon and not negative and _operator(q, op.lower(), value):
            continue
        _add_words(q, body, negative)
    q.terms, q.excluded = q.terms[:MAX_TERMS], q.excluded[:MAX_TERMS]
    return q
