"""Keeping the index current, and rebuilding it.

The writers of incoming messages (the store stage for mail, mailgate.tickets.store for the
CLI, API and web) call `index_message` in the message's own transaction, so a message is
findable from the commit that stores it, never before and never after a delay. The
commands stage takes its command lines out of the stored text: `index_new_body` replaces
the indexed text first (FTS5 must be given the old words to forget them).

`reindex` rebuilds in batches of short transactions (the daemon's mail keeps flowing
between them). The messages to do are fixed when it starts (up to the highest id then);
later ones are indexed as they arrive. Its progress is stored after each batch, so an
interrupted rebuild resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from mailgate.db.models import Attachment, Message, database_proxy
from mailgate.db.search_schema import FRONT_DOORS, UNINDEXED_BELOW, SearchState
from mailgate.db.transaction import write_transaction
from mailgate.search.backends import Doc, backend_for

if TYPE_CHECKING:
    from mailgate.env import Env

UPTO, DONE = "reindex_upto", "reindex_done"
BATCH = 2000


def _doc(message: Message, names: Sequence[str], body: str | None = None) -> Doc:
    subject = "" if message.source in FRONT_DOORS else message.subject or ""
    return Doc(message.id, subject, message.body if body is None else body, " ".join(names), message.quoted or "")


def index_message(env: Env, message: Message, names: Sequence[str] = ()) -> None:
    """Index a stored incoming message (`names`: its attachments' file names, in order)."""
    if env.settings.search.index:
        backend_for(database_proxy.obj).add([_doc(message, names)])


def index_new_body(env: Env, message: Message, body: str) -> None:
    """Before `message` is saved with `body` as its text: index the new text instead."""
    if not env.settings.search.index or body == message.body:
        return
    names = [a.filename for a in Attachment.select(Attachment.filename).where(Attachment.message == message.id)
             .order_by(Attachment.id)]
    backend = backend_for(database_proxy.obj)
    backend.remove(_doc(message, names))
    backend.add([_doc(message, names, body)])


def _state(key: str) -> int:
    row = SearchState.get_or_none(SearchState.key == key)
    return int(row.value) if row else 0


def _set(key: str, value: int) -> None:
    SearchState.insert(key=key, value=value).on_conflict(conflict_target=[SearchState.key],
                                                          update={SearchState.value: value}).execute()


def pending(restart: bool = False) -> tuple[int, int]:
    """Start (or resume) a rebuild: (messages still to index, highest id it covers)."""
    with write_transaction():
        upto = _state(UPTO)
        if restart or not upto:
            upto = int(Message.select(Message.id).order_by(Message.id.desc()).limit(1).scalar() or 0)
            backend_for(database_proxy.obj).clear()
            _set(UPTO, upto)
            _set(DONE, 0)
        done = _state(DONE)
        left = Message.select().where(Message.direction == "in", Message.id > done, Message.id <= upto).count()
    return left, upto


def reindex(batch: int = BATCH, restart: bool = False,
            progress: Callable[[int], None] | None = None, stop_after: int | None = None) -> int:
    """Rebuild the index; returns the messages indexed by this call. `stop_after` batches
    (tests: an interrupted rebuild)."""
    _, upto = pending(restart)
    backend = backend_for(database_proxy.obj)
    indexed = batches = 0
    while True:
        with write_transaction():
            last, count = backend.fill(_state(DONE), upto, batch)
            _set(DONE, last)
        indexed += count
        if progress is not None and count:
            progress(count)
        if last >= upto or not count:
            break
        batches += 1
        if stop_after is not None and batches >= stop_after:
            return indexed
    with write_transaction():
        SearchState.delete().where(SearchState.key.in_((UPTO, DONE, UNINDEXED_BELOW))).execute()
    return indexed


def index_size() -> int:
    return backend_for(database_proxy.obj).size()
