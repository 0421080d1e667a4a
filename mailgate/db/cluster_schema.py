"""Tables of several nodes on one PostgreSQL (issue 16): the spool (raw bytes and queue), the
API's shared rate windows. PostgreSQL only.

They are plain SQL, not peewee models: `mailgate deliver` writes them with psycopg2 alone
(mailgate/spool_db.py), without peewee's import on the MTA's path.

spool_raw    the bytes as received, content-addressed, kept (as raw/ in a spool folder:
             the quarantine, `doctor` and alert occurrences refer to them by SHA-256)
spool_entry  one accepted message waiting for its commit; claimed by a node with a lease,
             deleted in the transaction that stores the message
rate_window  the API's requests per token and minute, counted for every node at once
"""

from __future__ import annotations

CLUSTER_TABLES = (
    """CREATE TABLE IF NOT EXISTS spool_raw (
        sha256 CHAR(64) PRIMARY KEY,
        raw BYTEA NOT NULL,
        created_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'))""",
    """CREATE TABLE IF NOT EXISTS spool_entry (
        id BIGSERIAL PRIMARY KEY,
        sha256 CHAR(64) NOT NULL,
        source VARCHAR(255) NOT NULL DEFAULT '',
        recipients TEXT NOT NULL DEFAULT '[]',
        extra TEXT NOT NULL DEFAULT '{}',
        conv BIGINT NOT NULL DEFAULT 0,
        origin BIGINT NOT NULL DEFAULT 0,
        received_at DOUBLE PRECISION NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        claimed_by VARCHAR(255),
        claimed_until TIMESTAMP)""",
    # the claim's looks for an earlier entry of the same conversation (or sender) held by another node
    "CREATE INDEX IF NOT EXISTS spool_entry_conv ON spool_entry (conv, id)",
    "CREATE INDEX IF NOT EXISTS spool_entry_origin ON spool_entry (origin, id) WHERE origin <> 0",
    "CREATE INDEX IF NOT EXISTS spool_entry_claimed_by ON spool_entry (claimed_by) WHERE claimed_by IS NOT NULL",
    # a queue table: every row is inserted, updated (claimed) and deleted within seconds, so
    # vacuum it by the number of dead rows, not by a share of a table that is mostly empty
    "ALTER TABLE spool_entry SET (autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 2000,"
    " autovacuum_analyze_scale_factor = 0.0, autovacuum_analyze_threshold = 2000)",
    """CREATE TABLE IF NOT EXISTS rate_window (
        key VARCHAR(100) NOT NULL,
        window_start BIGINT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (key, window_start))""",
)
