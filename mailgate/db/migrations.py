"""Schema versions. Each migration is a function applied once, in order, inside a
transaction; later versions use playhouse.migrate's schema operations."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import peewee as pw
from playhouse.migrate import SchemaMigrator  # noqa: F401  (used by later migrations)

from mailgate.db.models import ALL_MODELS, DAEMON_MODELS, SchemaVersion


def _v1_initial(db: pw.Database) -> None:
    db.create_tables(ALL_MODELS, safe=True)


def _v2_daemon(db: pw.Database) -> None:
    """IMAP source keys and account state, scheduled jobs, daemon liveness (issue 5)."""
    db.create_tables(DAEMON_MODELS, safe=True)


def _v3_internal_notes(db: pw.Database) -> None:
    """Message.internal for `comment:` notes (issue 4). A database created by migration 1
    from the current models already has the column, so add it only when it is missing."""
    from playhouse.migrate import migrate as apply_ops

    from mailgate.db.models import Message

    table = Message._meta.table_name
    if "internal" not in {c.name for c in db.get_columns(table)}:
        migrator = SchemaMigrator.from_database(db)
        apply_ops(migrator.add_column(table, "internal", pw.BooleanField(default=False)))


def _v4_rules_and_alerts(db: pw.Database) -> None:
    """Rule matches, ticket tags, alert groups/occurrences and storms (issue 6)."""
    from mailgate.db.models import RULE_MODELS

    db.create_tables(RULE_MODELS, safe=True)


def _v5_thread_index(db: pw.Database) -> None:
    """Message.thread_index: Outlook conversation key for threading (issue 3). Added only
    when missing: a database created by migration 1 from current models already has it."""
    from playhouse.migrate import migrate as apply_ops

    from mailgate.db.models import Message

    table = Message._meta.table_name
    if "thread_index" not in {c.name for c in db.get_columns(table)}:
        migrator = SchemaMigrator.from_database(db)
        apply_ops(migrator.add_column(table, "thread_index", pw.CharField(default="")),
                  migrator.add_index(table, ("thread_index",), False))


def _v6_lookup_indexes(db: pw.Database) -> None:
    """Indexes for lookups that run on every message (issue 8), so their cost does not grow
    with the store: the thread stage's Ticket.root_message_id match and the acknowledgement
    rate limit's scan of the last hour of the outbox by kind."""
    db.execute_sql('CREATE INDEX IF NOT EXISTS "ticket_root_message_id" ON "ticket" ("root_message_id")')
    db.execute_sql('CREATE INDEX IF NOT EXISTS "outbox_kind_created_at" ON "outbox" ("kind", "created_at")')


def _v7_lifecycle(db: pw.Database) -> None:
    """Snoozes, merges and fired lifecycle milestones (issue 7)."""
    from mailgate.db.models import LIFECYCLE_MODELS

    db.create_tables(LIFECYCLE_MODELS, safe=True)


def _v8_outbox_recipient(db: pw.Database) -> None:
    """Outbox.recipient and an index for the hourly limit on automatic replies (issue 8): the
    count for one address reads only that address's rows, not every acknowledgement of the
    hour. Rows written before this have no recipient; they age out of the one-hour window."""
    from playhouse.migrate import migrate as apply_ops

    from mailgate.db.models import Outbox

    table = Outbox._meta.table_name
    if "recipient" not in {c.name for c in db.get_columns(table)}:
        migrator = SchemaMigrator.from_database(db)
        apply_ops(migrator.add_column(table, "recipient", pw.CharField(default="")))
    db.execute_sql('CREATE INDEX IF NOT EXISTS "outbox_recipient_kind_created_at" ON "outbox" '
                   '("recipient", "kind", "created_at")')


def _v9_task_failures(db: pw.Database) -> None:
    """Supervised tasks that keep crashing, for `mailgate status` (issue 17)."""
    from mailgate.db.task_health import HEALTH_MODELS

    db.create_tables(HEALTH_MODELS, safe=True)


def _v10_event_source(db: pw.Database) -> None:
    """Event.source: the door a change came through (mail, cli, api, web, rule, schedule;
    issue 12). Older events keep "" (their door was not recorded)."""
    from playhouse.migrate import migrate as apply_ops

    from mailgate.db.models import Event

    table = Event._meta.table_name
    if "source" not in {c.name for c in db.get_columns(table)}:
        migrator = SchemaMigrator.from_database(db)
        apply_ops(migrator.add_column(table, "source", pw.CharField(default="")))


def _v11_access(db: pw.Database) -> None:
    """API tokens, sign-in links, web sessions and idempotent requests (issue 13)."""
    from mailgate.db.access_models import ACCESS_MODELS

    db.create_tables(ACCESS_MODELS, safe=True)


def _v12_mail_pause(db: pw.Database) -> None:
    """Addresses paused as naive auto-responders (issue 17)."""
    from mailgate.db.pause_models import PAUSE_MODELS

    db.create_tables(PAUSE_MODELS, safe=True)


def _v30_several_nodes(db: pw.Database) -> None:
    """Several daemons on one PostgreSQL (issue 16): who holds an IMAP account, a job run and
    an outbox mail, the nodes' host, role and down time; on PostgreSQL, the spool's tables."""
    from playhouse.migrate import migrate as apply_ops

    from mailgate.db.cluster_schema import CLUSTER_TABLES
    from mailgate.db.models import DaemonState, ImapAccountState, Outbox, ScheduledJob

    migrator = SchemaMigrator.from_database(db)
    for model, columns in ((ImapAccountState, {"holder": pw.CharField(default=""),
                                               "held_until": pw.DateTimeField(null=True)}),
                           (ScheduledJob, {"claimed_by": pw.CharField(default=""),
                                           "claimed_until": pw.DateTimeField(null=True)}),
                           (DaemonState, {"host": pw.CharField(default=""), "role": pw.CharField(default=""),
                                          "down_at": pw.DateTimeField(null=True)}),
                           (Outbox, {"claimed_by": pw.CharField(default="")})):
        table = model._meta.table_name
        have = {c.name for c in db.get_columns(table)}
        ops = [migrator.add_column(table, name, field) for name, field in columns.items() if name not in have]
        if ops:
            apply_ops(*ops)
    if isinstance(db, pw.PostgresqlDatabase):
        for statement in CLUSTER_TABLES:
            db.execute_sql(statement)


def _v20_search(db: pw.Database) -> None:
    """The full-text index (issue 15): mailgate.db.search_schema."""
    from mailgate.db.search_schema import create_search

    create_search(db)


def _v21_incidents(db: pw.Database) -> None:
    """Incidents and the systems they affect (issue 15)."""
    from mailgate.db.incident_models import INCIDENT_MODELS

    db.create_tables(INCIDENT_MODELS, safe=True)


MIGRATIONS: list[tuple[int, Callable[[pw.Database], None]]] = [
    (1, _v1_initial),
    (2, _v2_daemon),
    (3, _v3_internal_notes),
    (4, _v4_rules_and_alerts),
    (5, _v5_thread_index),
    (6, _v6_lookup_indexes),
    (7, _v7_lifecycle),
    (8, _v8_outbox_recipient),
    (9, _v9_task_failures),
    (10, _v10_event_source),
    (11, _v11_access),
    (12, _v12_mail_pause),
    (30, _v30_several_nodes),
    (20, _v20_search),
    (21, _v21_incidents),
]

LATEST = max(number for number, _ in MIGRATIONS)


def current_version(db: pw.Database) -> int:
    if not db.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select(pw.fn.MAX(SchemaVersion.version)).scalar()
    return int(row or 0)


def migrate(db: pw.Database) -> int:
    """Apply pending migrations; returns the version now in force.

    A migration counts as pending when its number was never recorded, not only when it is
    above the highest one: numbers are assigned per feature and land in any order, so a
    store already at 5 must still get 4 when 4 lands later (every step is idempotent)."""
    with one_at_a_time(db):
        version = current_version(db)
        applied = ({v for (v,) in SchemaVersion.select(SchemaVersion.version).tuples()}
                   if db.table_exists(SchemaVersion._meta.table_name) else set())
        for number, step in MIGRATIONS:
            if number not in applied:
                with db.atomic():
                    step(db)
                    SchemaVersion.create(version=number)
                version = max(version, number)
    return version


# the pg_advisory_xact_lock key of schema changes: any constant, the same in every node
MIGRATION_LOCK = 0x393CB427F166D6A7


def one_at_a_time(db: pw.Database) -> contextlib.AbstractContextManager[object]:
    """Several nodes starting at once on one PostgreSQL: one migrates (or brings the staff
    rows in line), the others wait for its commit and then find nothing left to do (a
    transaction-level lock, so it also holds through PgBouncer's transaction pooling).
    SQLite's writer lock does this itself."""
    if not isinstance(db, pw.PostgresqlDatabase):
        return contextlib.nullcontext()
    return _locked(db)


@contextlib.contextmanager
def _locked(db: pw.Database) -> Iterator[None]:
    with db.atomic():
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        yield
