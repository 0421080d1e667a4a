"""peewee models: the ticket store.

Models bind to a DatabaseProxy that `mailgate.db.connect.open_database` initialises, so the
same models serve SQLite (default) and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import peewee as pw

from mailgate.db import fastsql

database_proxy = pw.DatabaseProxy()

# archived and merged (issue 7) are set by the lifecycle, never by a `status:` command
STATUSES = ("new", "open", "stalled", "resolved", "closed", "rejected", "archived", "merged")
ACTIVE_STATUSES = ("new", "open", "stalled")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class JSONField(pw.TextField):
    def db_value(self, value: object) -> str:
        return json.dumps(value, ensure_ascii=False)

    def python_value(self, value: str | None) -> object:
        return json.loads(value) if value else None


class BaseModel(pw.Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False

    # inserts, updates and primary-key lookups with their SQL text cached per shape
    # (mailgate/db/fastsql.py: peewee's statement building dominated the ingest path)
    def save(self, force_insert: bool = False, only: object = None) -> int | bool:
        if only is None:
            rows = fastsql.save(self, force_insert)
            if rows is not None:
                return rows
        return super().save(force_insert=force_insert, only=only)

    @classmethod
    def get(cls, *query: object, **filters: object) -> BaseModel:
        plain, value = fastsql.primary_key_lookup(cls, query, filters)
        if plain:
            return fastsql.by_pk(cls, value)
        return super().get(*query, **filters)


class SchemaVersion(BaseModel):
    version = pw.IntegerField()
    applied_at = pw.DateTimeField(default=utcnow)


class Queue(BaseModel):
    name = pw.CharField(unique=True)
    address = pw.CharField()

    @classmethod
    def named(cls, name: str, address: str) -> Queue:
        """The row of a configured queue, created on first use (every new ticket asks)."""
        found = fastsql.select_where(cls, "by-name", lambda s: f"WHERE {s.c(cls.name)} = {s.p}", [name])
        if found:
            return found[0]
        return cls.get_or_create(name=name, defaults={"address": address})[0]


class Person(BaseModel):
    address = pw.CharField(unique=True)
    name = pw.CharField(default="")
    role = pw.CharField(default="requester")
    # set when mail to the address bounces: alert mails skip it
    bouncing = pw.BooleanField(default=False)
    created_at = pw.DateTimeField(default=utcnow)


class Ticket(BaseModel):
    queue = pw.ForeignKeyField(Queue, backref="tickets")
    subject = pw.TextField(default="")
    status = pw.CharField(default="new", index=True)
    priority = pw.IntegerField(default=3)
    owner = pw.ForeignKeyField(Person, null=True, backref="owned")
    requester = pw.ForeignKeyField(Person, backref="requested")
    parent = pw.ForeignKeyField("self", null=True, backref="children")
    # the stable Message-ID every outgoing mail puts first in References
    root_message_id = pw.CharField(default="")
    created_at = pw.DateTimeField(default=utcnow)
    updated_at = pw.DateTimeField(default=utcnow)


class Message(BaseModel):
    ticket = pw.ForeignKeyField(Ticket, backref="messages", null=True)
    message_id = pw.CharField(index=True)
    content_hash = pw.CharField(default="")
    direction = pw.CharField(default="in")  # in | out
    sender = pw.CharField(default="")
    sender_name = pw.CharField(default="")
    recipients = JSONField(default=list)
    date = pw.DateTimeField(null=True)
    subject = pw.TextField(default="")
    body = pw.TextField(default="")
    quoted = pw.TextField(default="")
    signature = pw.TextField(default="")
    html = pw.TextField(default="")
    raw_sha256 = pw.CharField(default="")
    source = pw.CharField(default="")
    # how the message found its ticket (reply-token, message-id, subject-tag, new, ...)
    thread_signal = pw.CharField(default="")
    # automatic-mail class (auto-reply, bounce, list, ...) or "" for a person's mail
    auto_class = pw.CharField(default="")
    # an internal note (`comment:` command): stored, shown to staff, never sent to the requester
    internal = pw.BooleanField(default=False)
    # Outlook conversation key (first 22 bytes of Thread-Index, hex) for [threading]
    # outlook_thread_index; "" when the mail had none
    thread_index = pw.CharField(default="", index=True)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("message_id", "content_hash"), True),)


class Attachment(BaseModel):
    message = pw.ForeignKeyField(Message, backref="attachments", on_delete="CASCADE")
    filename = pw.TextField(default="")
    content_type = pw.CharField(default="application/octet-stream")
    size = pw.IntegerField(default=0)
    sha256 = pw.CharField()
    content_id = pw.CharField(default="")


class Nosy(BaseModel):
    ticket = pw.ForeignKeyField(Ticket, backref="nosy", on_delete="CASCADE")
    person = pw.ForeignKeyField(Person, backref="watching")

    class Meta:
        indexes = ((("ticket", "person"), True),)


class Event(BaseModel):
    ticket = pw.ForeignKeyField(Ticket, backref="events", on_delete="CASCADE")
    at = pw.DateTimeField(default=utcnow)
    actor = pw.CharField(default="")
    field = pw.CharField()
    old = pw.TextField(null=True)
    new = pw.TextField(null=True)
    message = pw.ForeignKeyField(Message, null=True, backref="events")
    # the door the change came through: mail | cli | api | web | rule | schedule ("" before
    # migration 10)
    source = pw.CharField(default="")


class TicketLink(BaseModel):
    ticket = pw.ForeignKeyField(Ticket, backref="links", on_delete="CASCADE")
    other = pw.ForeignKeyField(Ticket, backref="linked_from", on_delete="CASCADE")
    kind = pw.CharField(default="related")  # related | follows-up


class Outbox(BaseModel):
    ticket = pw.ForeignKeyField(Ticket, null=True, backref="outbox")
    kind = pw.CharField(default="")  # ack | update | receipt | ...
    sender = pw.CharField()
    recipients = JSONField(default=list)
    # the first recipient, lowercased: the hourly limit on automatic replies counts by it
    # (index with kind and created_at, migration 8); every outbox mail has one recipient
    recipient = pw.CharField(default="")
    message_id = pw.CharField(index=True)
    message = pw.TextField()  # full RFC 5322 text, rendered when the ticket changed
    state = pw.CharField(default="pending", index=True)  # pending | sent | failed
    attempts = pw.IntegerField(default=0)
    next_attempt_at = pw.DateTimeField(default=utcnow)
    last_error = pw.TextField(default="")
    created_at = pw.DateTimeField(default=utcnow)
    sent_at = pw.DateTimeField(null=True)
    claimed_by = pw.CharField(default="")  # the node sending it while state = sending

    def save(self, force_insert: bool = False, only: object = None) -> int | bool:
        if not self.recipient and self.recipients:
            self.recipient = str(self.recipients[0]).lower()
        return super().save(force_insert=force_insert, only=only)


class Quarantine(BaseModel):
    raw_sha256 = pw.CharField(index=True)
    source = pw.CharField(default="")
    recipients = JSONField(default=list)
    stage = pw.CharField(default="")
    error = pw.TextField(default="")
    traceback = pw.TextField(default="")
    state = pw.CharField(default="held", index=True)  # held | retried | discarded
    created_at = pw.DateTimeField(default=utcnow)


ALL_MODELS: tuple[type[BaseModel], ...] = (
    SchemaVersion,
    Queue,
    Person,
    Ticket,
    Message,
    Attachment,
    Nosy,
    Event,
    TicketLink,
    Outbox,
    Quarantine,
)


# --- the daemon (issue 5): IMAP source keys, timed jobs, liveness -------------------------


class ImapSource(BaseModel):
    """One IMAP message already taken into the spool. The unique (account, uidvalidity, uid)
    makes a re-fetch after a crash between spool commit and move/flag harmless: it is only
    acknowledged again. raw_sha256 recognises the same bytes after a UIDVALIDITY change."""

    account = pw.CharField()
    uidvalidity = pw.BigIntegerField()
    uid = pw.BigIntegerField()
    raw_sha256 = pw.CharField()
    acked = pw.BooleanField(default=False)  # moved or flagged on the server
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("account", "uidvalidity", "uid"), True),
            (("account", "raw_sha256"), False),
        )


class ImapAccountState(BaseModel):
    account = pw.CharField(unique=True)
    uidvalidity = pw.BigIntegerField(null=True)
    last_sync_at = pw.DateTimeField(null=True)  # last completed fetch pass
    last_error = pw.TextField(default="")  # "" while connected
    fetched = pw.IntegerField(default=0)
    # several nodes (issue 16): the node fetching this account, and until when its lease runs
    holder = pw.CharField(default="")
    held_until = pw.DateTimeField(null=True)


class ScheduledJob(BaseModel):
    """A timed job's due time survives restarts; the daemon's scheduler runs due jobs."""

    name = pw.CharField(unique=True)
    next_run_at = pw.DateTimeField(index=True)
    last_run_at = pw.DateTimeField(null=True)
    last_status = pw.CharField(default="")  # ok | error
    last_result = pw.TextField(default="")
    runs = pw.IntegerField(default=0)
    failures = pw.IntegerField(default=0)
    # the node running it now, and until when (a node that dies mid-run: another runs it
    # once the lease is over); "" / None between runs
    claimed_by = pw.CharField(default="")
    claimed_until = pw.DateTimeField(null=True)


class DaemonState(BaseModel):
    """One row per daemon: host:spool with a spool folder (one daemon per spool), one per
    process (host:pid:tag) with the spool in the database. What `mailgate status` reports."""

    node = pw.CharField(unique=True)
    pid = pw.IntegerField()
    started_at = pw.DateTimeField(default=utcnow)
    heartbeat_at = pw.DateTimeField(default=utcnow)
    stopped_at = pw.DateTimeField(null=True)
    processed = pw.IntegerField(default=0)  # messages finished since start
    host = pw.CharField(default="")
    role = pw.CharField(default="")  # what it runs: smtp, lmtp, imap, worker, outbox, scheduler, http
    down_at = pw.DateTimeField(null=True)  # its heartbeat stopped: marked down, its leases freed


DAEMON_MODELS: tuple[type[BaseModel], ...] = (ImapSource, ImapAccountState, ScheduledJob, DaemonState)


# --- rules and monitoring alerts (issue 6) -------------------------------------------------


class RuleMatch(BaseModel):
    """Which rules matched a message and how it ended (an audit row per processing). Rows
    with outcome recorded/discarded stand in for a Message row: the pipeline's duplicate
    check consults them, so a redelivered alert repeat is not counted twice."""

    message_id = pw.CharField()
    content_hash = pw.CharField(default="")
    raw_sha256 = pw.CharField(default="")  # the raw bytes stay in the spool under this key
    message_row = pw.ForeignKeyField(Message, null=True, backref="rule_matches", on_delete="SET NULL")
    ticket = pw.ForeignKeyField(Ticket, null=True, backref="rule_matches", on_delete="SET NULL")
    rules = JSONField(default=list)  # names of the matching rules, in order
    outcome = pw.CharField(default="stored")  # stored | recorded | discarded | held
    detail = pw.TextField(default="")
    at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("message_id", "content_hash"), False),)


class TicketTag(BaseModel):
    ticket = pw.ForeignKeyField(Ticket, backref="tags", on_delete="CASCADE")
    name = pw.CharField()

    class Meta:
        indexes = ((("ticket", "name"), True),)


class AlertGroup(BaseModel):
    """One problem as the monitoring system names it (the rule's fingerprint): its current
    ticket and compact counters, instead of one stored message per repeated alert."""

    fingerprint = pw.CharField(unique=True)
    source = pw.CharField(default="")  # sender address of the monitoring system
    ticket = pw.ForeignKeyField(Ticket, null=True, backref="alert_groups", on_delete="SET NULL")
    state = pw.CharField(default="problem")  # problem | recovered
    state_text = pw.CharField(default="")  # the monitoring system's word: CRITICAL, firing, ...
    occurrences = pw.IntegerField(default=0)  # alerts recorded on the current ticket
    reopened = pw.IntegerField(default=0)  # problems returning within the flap window
    first_seen = pw.DateTimeField(default=utcnow)
    last_seen = pw.DateTimeField(default=utcnow)
    resolved_at = pw.DateTimeField(null=True)
    notified_at = pw.DateTimeField(null=True)  # last alert mail about this fingerprint
    notified_state = pw.CharField(default="")  # what that mail said: problem | recovered


class AlertOccurrence(BaseModel):
    """One alert mail, compactly: kind, state and the key of its raw bytes in the spool."""

    group = pw.ForeignKeyField(AlertGroup, backref="occurrences_rows", on_delete="CASCADE")
    ticket = pw.ForeignKeyField(Ticket, null=True, backref="alert_occurrences", on_delete="SET NULL")
    # open | repeat | reopen | recovery | note | recovery-dropped | note-dropped
    kind = pw.CharField()
    state_text = pw.CharField(default="")
    message_id = pw.CharField()
    content_hash = pw.CharField(default="")
    raw_sha256 = pw.CharField(default="")
    at = pw.DateTimeField(default=utcnow, index=True)


class AlertStorm(BaseModel):
    """Many new alert tickets from one source in a short window: one parent incident."""

    source = pw.CharField(index=True)
    ticket = pw.ForeignKeyField(Ticket, backref="storms", on_delete="CASCADE")
    started_at = pw.DateTimeField(default=utcnow)
    last_at = pw.DateTimeField(default=utcnow)
    tickets = pw.IntegerField(default=0)  # alert tickets grouped under it


RULE_MODELS: tuple[type[BaseModel], ...] = (RuleMatch, TicketTag, AlertGroup, AlertOccurrence, AlertStorm)


# --- ticket lifecycle (issue 7) -------------------------------------------------------------


class Snooze(BaseModel):
    """A stalled ticket's wake-up time (`sleep:`); the row is deleted when it wakes, in the
    same transaction as the status change, so a wake-up never happens twice."""

    ticket = pw.ForeignKeyField(Ticket, unique=True, backref="snoozes", on_delete="CASCADE")
    wake_at = pw.DateTimeField(index=True)  # UTC
    set_by = pw.CharField(default="")
    set_at = pw.DateTimeField(default=utcnow)


class TicketMerge(BaseModel):
    """`merge: #N`: mail that still finds the old ticket is threaded to the new one."""

    old = pw.ForeignKeyField(Ticket, unique=True, backref="merged_into_rows", on_delete="CASCADE")
    new = pw.ForeignKeyField(Ticket, backref="merged_from_rows", on_delete="CASCADE")
    by = pw.CharField(default="")
    at = pw.DateTimeField(default=utcnow)


class LifecycleMark(BaseModel):
    """A timed milestone that has fired (an SLA warning, a day's digest): the unique key is
    written in the transaction that queues its mail, so it never fires twice."""

    key = pw.CharField(unique=True)
    ticket = pw.ForeignKeyField(Ticket, null=True, backref="lifecycle_marks", on_delete="CASCADE")
    at = pw.DateTimeField(default=utcnow)


LIFECYCLE_MODELS: tuple[type[BaseModel], ...] = (Snooze, TicketMerge, LifecycleMark)
