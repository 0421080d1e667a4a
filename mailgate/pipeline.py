"""Run a spooled message through the stages and commit it: the second durability point.

    parse → addressing → classify → rules → clean                            (pure: no database)
    alerts → thread → store → rule-actions → commands → lifecycle → notify   (one transaction)

The transaction that stores the message also writes its outbox rows; only after it commits
is the spool entry forgotten. A crash anywhere before that leaves the entry to be retried,
and the unique (Message-ID, content hash) makes the retry find the message already stored.

One way to stop a message: a stage raises a PolicyOutcome (Discard, Recorded, Held), and
`finish` records it (the RuleMatch the duplicate check reads, and for a hold the quarantine
entry). One place that quarantines: `quarantine` here, for a stage that failed, a message
that crashed the process too often, and a rule's hold.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass

import peewee as pw

from mailgate.core.entry import SpoolEntry
from mailgate.core.errors import Held, PolicyOutcome, StageFailure, TransientError
from mailgate.core.message import Inbound, Stage
from mailgate.db.locks import take_key
from mailgate.db.models import Message, Quarantine, RuleMatch, database_proxy
from mailgate.db.transaction import write_transaction
from mailgate.env import Env
from mailgate.parse import content_hash, message_ids
from mailgate.rulematch import record_match
from mailgate.spool import MAX_ATTEMPTS
from mailgate.spool_aside import UnreadableEntry
from mailgate.stages.addressing import Addressing
from mailgate.stages.alerts import Alerts
from mailgate.stages.classify import Classify
from mailgate.stages.clean import Clean
from mailgate.stages.commands import Commands
from mailgate.stages.lifecycle import Lifecycle
from mailgate.stages.notify import Notify
from mailgate.stages.parse import Parse, tell_sender_too_large
from mailgate.stages.rule_actions import RuleActions
from mailgate.stages.rules import Rules
from mailgate.stages.store import Store
from mailgate.stages.thread import Thread

log = logging.getLogger("mailgate.pipeline")

# stateless stage objects, in order (bench/stage_cost.py wraps them to time each)
PURE_STAGES: tuple[Stage[Env], ...] = (Parse(), Addressing(), Classify(), Rules(), Clean())
DB_STAGES: tuple[Stage[Env], ...] = (Alerts(), Thread(), Store(), RuleActions(), Commands(), Lifecycle(), Notify())


@dataclass(frozen=True)
class Outcome:
    """What happened to one message: stored | duplicate | discarded | quarantined."""

    status: str
    message_id: str = ""
    ticket_id: int | None = None
    created: bool = False
    detail: str = ""
    quarantine_id: int | None = None


def _run(stages: tuple[Stage[Env], ...], msg: Inbound, env: Env) -> None:
    for stage in stages:
        try:
            stage(msg, env)
        except (PolicyOutcome, TransientError, pw.OperationalError):
            raise
        except Exception as exc:  # a bug or unreadable input: quarantine with the stage
            raise StageFailure(stage.name, f"{type(exc).__name__}: {exc}", traceback.format_exc()) from exc


def _header_message_id(raw: bytes) -> str | None:
    head = raw[:65536].split(b"\n\n", 1)[0].decode("ascii", "replace")
    for line in head.replace("\r\n", "\n").replace("\n ", " ").replace("\n\t", " ").split("\n"):
        if line.lower().startswith("message-id:"):
            ids = list(message_ids(line.split(":", 1)[1]))
            return ids[0] if ids else None
    return None


def _duplicate_sql(db: pw.Database, with_message_id: bool) -> str:
    """One statement for the three duplicate checks, in their order of precedence: a stored
    message; an alert repeat, recovery or rule drop recorded without a Message row; the same
    bytes held in the quarantine. As three peewee queries they cost ~0.9 CPU ms a message."""
    p = db.param
    mid = f" AND message_id = {p}" if with_message_id else ""
    return (f"SELECT 0, message_id, {Message.ticket.column_name} FROM {Message._meta.table_name}"
            f" WHERE content_hash = {p}{mid}"
            f" UNION ALL SELECT 1, message_id, {RuleMatch.ticket.column_name} FROM {RuleMatch._meta.table_name}"
            f" WHERE content_hash = {p} AND outcome IN ('recorded', 'discarded'){mid}"
            f" UNION ALL SELECT 2, '', id FROM {Quarantine._meta.table_name} WHERE raw_sha256 = {p}"
            " AND state = 'held' ORDER BY 1 LIMIT 1")


def _find_duplicate(entry: SpoolEntry, raw: bytes) -> tuple[int, str, int | None] | None:
    """(kind, Message-ID, ticket or quarantine id): kind 0 stored, 1 recorded, 2 held."""
    db = database_proxy.obj
    message_id, chash = _header_message_id(raw), content_hash(raw)
    if message_id:  # several nodes: a copy in another transaction right now is waited for, not stored twice
        take_key(f"mid:{message_id}")
    params: list[object] = [chash, message_id] if message_id else [chash]
    row = db.execute_sql(_duplicate_sql(db, bool(message_id)), [*params, *params, entry.sha256]).fetchone()
    return None if row is None else (row[0], row[1], row[2])


def quarantine(entry: SpoolEntry, stage: str, error: str, tb: str = "") -> Quarantine:
    return Quarantine.create(raw_sha256=entry.sha256, source=entry.source[:255], recipients=list(entry.recipients),
                             stage=stage, error=error, traceback=tb)


def prepare(msg: Inbound, env: Env) -> PolicyOutcome | StageFailure | None:
    """Run the pure stages (no database). Safe to run in a worker process: the returned
    signal or failure travels back with the message instead of being raised there."""
    try:
        _run(PURE_STAGES, msg, env)
    except (PolicyOutcome, StageFailure) as exc:
        return exc
    return None


def _stopped(msg: Inbound, env: Env, signal: PolicyOutcome) -> Outcome:
    """Record a stop inside the message's transaction: a hold goes to the quarantine, and a
    message a rule matched leaves its RuleMatch (the duplicate check reads it)."""
    mid = msg.message_id
    if isinstance(signal, Held):
        q = quarantine(msg.entry, "rules", f"held {signal.reason} (release: mailgate quarantine retry)")
        detail = f"held as quarantine #{q.id} {signal.reason}"
        record_match(msg, env, signal.outcome, detail)
        return Outcome(signal.outcome, mid, detail=detail, quarantine_id=q.id)
    if msg.rules is not None and msg.parsed is not None:
        record_match(msg, env, signal.outcome, signal.reason, signal.ticket_id)
    return Outcome(signal.outcome, mid, signal.ticket_id, detail=signal.reason)


def _store(msg: Inbound, env: Env, early: PolicyOutcome | None) -> Outcome:
    """The database stages (or the record of a stop the pure stages decided), one transaction."""
    if early is not None and msg.rules is None and not isinstance(early, Held):
        return Outcome(early.outcome, msg.message_id, early.ticket_id, detail=early.reason)  # nothing to record
    with write_transaction():
        if early is not None:
            return _stopped(msg, env, early)
        try:
            _run(DB_STAGES, msg, env)
        except PolicyOutcome as signal:  # what the stage recorded before raising commits with it
            return _stopped(msg, env, signal)
    return Outcome("stored", msg.message_id, msg.ticket_id, msg.created, msg.thread_signal)


def finish(msg: Inbound, env: Env, early: PolicyOutcome | StageFailure | None = None) -> Outcome:
    """Run the database stages in one transaction and forget the spool entry after commit.
    Raises TransientError to leave the entry queued."""
    entry = msg.entry
    mid = msg.message_id
    try:
        if isinstance(early, StageFailure):
            raise early
        outcome = _store(msg, env, early)
    except StageFailure as failure:
        with write_transaction():
            q = quarantine(entry, failure.stage, failure.error, failure.traceback_text)
            if failure.stage == Parse.name:  # too large: the sender is told, not left guessing
                tell_sender_too_large(msg, env, q.id, failure.error)
        env.spool.done(entry)
        log.error("message %s quarantined #%s at stage %s: %s", mid or entry.sha256[:12], q.id,
                  failure.stage, failure.error)
        return Outcome("quarantined", mid, detail=str(failure), quarantine_id=q.id)
    except pw.IntegrityError:
        # a concurrent process stored the same message between our check and our insert
        env.spool.done(entry)
        return Outcome("duplicate", mid)
    except pw.OperationalError as exc:
        raise TransientError(f"database: {exc}") from exc
    env.spool.done(entry)
    if outcome.status == "stored":
        log.info("message %s stored on ticket #%s (%s)", mid, outcome.ticket_id, outcome.detail)
    else:
        log.info("message %s %s: %s", mid or entry.sha256[:12], outcome.status, outcome.detail)
    return outcome


def precheck(entry: SpoolEntry, raw: bytes, env: Env) -> Outcome | None:
    """Outcomes decided before any stage runs: too many attempts, or already stored."""
    if entry.attempts > MAX_ATTEMPTS:
        with write_transaction():
            q = quarantine(entry, "process",
                           f"crashed the process {entry.attempts - 1} times; not retried automatically")
        env.spool.done(entry)
        return Outcome("quarantined", detail=q.error, quarantine_id=q.id)
    found = _find_duplicate(entry, raw)
    if found is None:
        return None
    kind, message_id, row_id = found
    env.spool.done(entry)
    if kind == 2:  # the same bytes delivered again while held in the quarantine: one held copy is enough
        return Outcome("duplicate", detail=f"already held in quarantine #{row_id}", quarantine_id=row_id)
    return Outcome("duplicate", message_id, row_id)


def process_entry(entry: SpoolEntry, env: Env) -> Outcome:
    """Process one claimed spool entry to its end. Raises TransientError to leave it queued."""
    raw = env.spool.read_raw(entry.sha256)
    decided = precheck(entry, raw, env)
    if decided is not None:
        return decided
    msg = Inbound(entry=entry, raw=raw)
    return finish(msg, env, prepare(msg, env))


def drain(env: Env, limit: int | None = None) -> list[Outcome]:
    """Process queued entries until the queue is empty (or `limit` were done)."""
    outcomes: list[Outcome] = []
    for name in env.spool.pending():
        if limit is not None and len(outcomes) >= limit:
            break
        try:
            entry = env.spool.claim(name)
        except UnreadableEntry as exc:  # another user's file: set aside, the rest goes on
            log.error("%s", exc)
            continue
        if entry is None:
            continue  # another worker took it
        try:
            outcomes.append(process_entry(entry, env))
        except TransientError:
            env.spool.release(entry)
            raise
    return outcomes
