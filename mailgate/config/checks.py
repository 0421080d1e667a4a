"""Checks across keys that types alone cannot express (addresses, known queues, ranges)."""

from __future__ import annotations

import re

from mailgate.config.lifecycle import check_lifecycle
from mailgate.config.reporting_checks import check_reporting
from mailgate.config.schema import check_address
from mailgate.config.sections import ROLES, Settings
from mailgate.config.web_checks import check_web
from mailgate.core.changes import COMMAND_NAMES
from mailgate.core.errors import ConfigError
from mailgate.core.statuses import SETTABLE


def check_settings(s: Settings) -> None:
    check_address(s.gateway.address, "gateway.address")
    if not s.gateway.subject_tag.strip() or any(c in s.gateway.subject_tag for c in "[]#"):
        raise ConfigError("gateway.subject_tag: expected a non-empty word without '[', ']' or '#'")
    if not s.gateway.secret:
        raise ConfigError("gateway.secret: expected a non-empty string (or set MAILGATE_SECRET)")
    if s.gateway.max_message_size <= 0:
        raise ConfigError("gateway.max_message_size: expected a positive number of bytes")
    if not 1 <= s.gateway.max_mime_depth <= 100:  # deeper than 100 meets Python's recursion limit
        raise ConfigError(f"gateway.max_mime_depth: expected 1 to 100 levels, got {s.gateway.max_mime_depth}")
    if s.gateway.max_mime_parts < 1:
        raise ConfigError(f"gateway.max_mime_parts: expected a positive number of parts, got {s.gateway.max_mime_parts}")
    if not s.queues:
        raise ConfigError("queue: expected at least one [[queue]] with a name and an address")
    names: set[str] = set()
    for i, q in enumerate(s.queues):
        check_address(q.address, f"queue[{i}].address")
        if q.name in names:
            raise ConfigError(f"queue[{i}].name: duplicate queue name {q.name!r}")
        names.add(q.name)
        if not 1 <= q.default_priority <= 4:
            raise ConfigError(f"queue[{i}].default_priority: expected 1 to 4, got {q.default_priority}")
    for i, p in enumerate(s.people):
        check_address(p.address, f"person[{i}].address")
        if p.role not in ROLES:
            raise ConfigError(f"person[{i}].role: expected one of {', '.join(ROLES)}, got {p.role!r}")
        for q in p.queues:
            if q not in names:
                raise ConfigError(f"person[{i}].queues: unknown queue {q!r} (known: {', '.join(sorted(names))})")
    db = s.store.database
    if not (db.startswith("sqlite:///") or db.startswith("postgresql://") or db.startswith("postgres://")):
        raise ConfigError(f"store.database: expected sqlite:///PATH or postgresql://..., got {db!r}")
    if s.store.spool == "database" and db.startswith("sqlite:"):
        raise ConfigError("store.spool: \"database\" needs a PostgreSQL store.database (several nodes share"
                          " it); with SQLite the spool is a folder (the default, store/spool)")
    _check_folders(s)
    _check_daemon(s)
    _check_threading(s)
    _check_commands(s, names)
    _check_monitoring(s)
    check_lifecycle(s, names)
    check_web(s)
    check_reporting(s, names)


def _check_folders(s: Settings) -> None:
    """A templates or rules folder that is not there quarantined every new mail
    (TemplateNotFound) and made `rules check` say "OK: 0 rule(s)" (issue 17)."""
    for key, folder in (("templates", s.templates_dir), ("rules", s.rules_dir)):
        if not folder.is_dir():
            raise ConfigError(f"{key}: no such folder {folder} (a relative path is relative to {s.base_dir})")


def _check_threading(s: Settings) -> None:
    t = s.threading
    if t.closed_reopen_days < 0:
        raise ConfigError(f"threading.closed_reopen_days: expected 0 or more days, got {t.closed_reopen_days}")
    if t.subject_window_hours < 0:
        raise ConfigError(f"threading.subject_window_hours: expected 0 (off) or more hours, got {t.subject_window_hours}")


def _check_monitoring(s: Settings) -> None:
    m = s.monitoring
    for key in ("renotify_interval", "flap_window", "storm_window"):
        if getattr(m, key) <= 0:
            raise ConfigError(f"monitoring.{key}: expected a positive number of seconds, got {getattr(m, key)}")
    if m.storm_threshold < 0:
        raise ConfigError(f"monitoring.storm_threshold: expected 0 (off) or a positive number of tickets, "
                          f"got {m.storm_threshold}")


def _check_commands(s: Settings, queue_names: set[str]) -> None:
    """[commands], [[permission]], [alerts], [outbox] and queue watchers (issue 4)."""
    for i, q in enumerate(s.queues):
        for j, w in enumerate(q.watchers):
            check_address(w, f"queue[{i}].watchers[{j}]")
    for st in s.commands.requester_statuses:
        if st not in SETTABLE:
            raise ConfigError(f"commands.requester_statuses: expected some of {', '.join(SETTABLE)}, got {st!r}")
    for i, perm in enumerate(s.permissions):
        if perm.role not in ("requester", "technician", "anyone"):
            raise ConfigError(f"permission[{i}].role: expected requester, technician or anyone, got {perm.role!r}")
        if perm.queue != "*" and perm.queue not in queue_names:
            raise ConfigError(f"permission[{i}].queue: unknown queue {perm.queue!r} "
                              f"(known: *, {', '.join(sorted(queue_names))})")
        for name in perm.commands:
            if name == "*":
                continue
            if name not in COMMAND_NAMES:
                raise ConfigError(f"permission[{i}].commands: unknown command {name!r} "
                                  f"(known: *, {', '.join(sorted(COMMAND_NAMES))})")
    _check_relay(s)
    if s.alerts.loop_replies < 0 or s.alerts.loop_seconds <= 0 or s.alerts.loop_pause_hours <= 0:
        raise ConfigError("alerts.loop_replies: expected 0 (off) or more, with positive loop_seconds and "
                          "loop_pause_hours")
    if s.alerts.attach_max_bytes < 0:
        raise ConfigError("alerts.attach_max_bytes: expected 0 or a positive number of bytes")
    o = s.outbox
    for key in ("poll_interval", "backoff_initial", "backoff_max", "sending_lease"):
        if getattr(o, key) <= 0:
            raise ConfigError(f"outbox.{key}: expected a positive number of seconds, got {getattr(o, key)}")
    if o.max_attempts < 1:
        raise ConfigError(f"outbox.max_attempts: expected at least 1, got {o.max_attempts}")


_HOST_NAME = re.compile(r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")
_ADDRESS_LITERAL = re.compile(r"\[(?:\d{1,3}(?:\.\d{1,3}){3}|IPv6:[0-9A-Fa-f:.]+)\]")


def _check_relay(s: Settings) -> None:
    r = s.relay
    if not 1 <= r.port <= 65535:
        raise ConfigError(f"relay.port: expected 1 to 65535, got {r.port}")
    if r.timeout <= 0:
        raise ConfigError(f"relay.timeout: expected a positive number of seconds, got {r.timeout}")
    if r.helo_name and not (_HOST_NAME.fullmatch(r.helo_name) or _ADDRESS_LITERAL.fullmatch(r.helo_name)):
        raise ConfigError(f"relay.helo_name: expected a host name like mail.example.com or an address literal "
                          f"like [192.0.2.1], got {r.helo_name!r}")


def _check_daemon(s: Settings) -> None:
    """[listen.*], [daemon] and [[imap]]: values that parse but cannot work."""
    for kind in ("smtp", "lmtp"):
        lst = getattr(s.listen, kind)
        where = f"listen.{kind}"
        if not 0 <= lst.port <= 65535:
            raise ConfigError(f"{where}.port: expected 0 to 65535, got {lst.port}")
        if not 0 <= lst.socket_mode <= 0o777:
            raise ConfigError(f"{where}.socket_mode: expected permission bits like 0o660, got {lst.socket_mode}")
        for key in ("max_sessions", "max_sessions_per_client", "max_recipients"):
            if getattr(lst, key) < 1:
                raise ConfigError(f"{where}.{key}: expected a positive integer, got {getattr(lst, key)}")
        for key in ("timeout", "busy_timeout"):
            if getattr(lst, key) <= 0:
                raise ConfigError(f"{where}.{key}: expected a positive number of seconds, got {getattr(lst, key)}")
        if bool(lst.tls_cert) != bool(lst.tls_key):
            raise ConfigError(f"{where}.tls_key: tls_cert and tls_key must be given together")
        if lst.require_starttls and not lst.tls_cert:
            raise ConfigError(f"{where}.require_starttls: needs tls_cert and tls_key")
        if lst.auth_required and not lst.auth_users_file:
            raise ConfigError(f"{where}.auth_required: needs auth_users_file")
    d = s.daemon
    if d.log_format not in ("text", "json"):
        raise ConfigError(f"daemon.log_format: expected text or json, got {d.log_format!r}")
    for key in ("grace_period", "spool_poll_interval", "heartbeat_interval"):
        if getattr(d, key) <= 0:
            raise ConfigError(f"daemon.{key}: expected a positive number of seconds, got {getattr(d, key)}")
    if not -1 <= d.workers <= 64:
        raise ConfigError(f"daemon.workers: expected -1 (one per extra core), 0 (no worker processes) "
                          f"or 1 to 64, got {d.workers}")
    if not 1 <= d.group_size <= 1000:
        raise ConfigError(f"daemon.group_size: expected 1 to 1000 messages per transaction, got {d.group_size}")
    if not 0 <= d.yield_to_ingest <= 5:
        raise ConfigError(f"daemon.yield_to_ingest: expected 0 to 5 seconds, got {d.yield_to_ingest}")
    if not 1 <= d.lease <= 3600:
        raise ConfigError(f"daemon.lease: expected 1 to 3600 seconds, got {d.lease}")
    if not 0 <= d.listeners <= 64:
        raise ConfigError(f"daemon.listeners: expected 0 (listen in the daemon) to 64 processes, got {d.listeners}")
    names: set[str] = set()
    for i, acct in enumerate(s.imap):
        where = f"imap[{i}]"
        if not acct.name or acct.name in names:
            raise ConfigError(f"{where}.name: expected a unique, non-empty account name, got {acct.name!r}")
        names.add(acct.name)
        if not 1 <= acct.port <= 65535:
            raise ConfigError(f"{where}.port: expected 1 to 65535, got {acct.port}")
        if not acct.password and not acct.password_file:
            raise ConfigError(f"{where}.password: expected password or password_file")
        if (acct.tls_ca_file or not acct.tls_verify) and not acct.tls:
            key = "tls_ca_file" if acct.tls_ca_file else "tls_verify"
            raise ConfigError(f"{where}.{key}: only applies with tls = true")
        if acct.tls_ca_file and not s.resolve(acct.tls_ca_file).is_file():
            raise ConfigError(f"{where}.tls_ca_file: no such file {s.resolve(acct.tls_ca_file)}")
        if not acct.move_to and not acct.flag:
            raise ConfigError(f"{where}.flag: expected move_to or flag, so processed mail is marked")
        if acct.queue and s.queue_named(acct.queue) is None:
            raise ConfigError(f"{where}.queue: unknown queue {acct.queue!r}")
        if acct.poll_interval <= 0 or acct.timeout <= 0:
            raise ConfigError(f"{where}.poll_interval: poll_interval and timeout must be positive")
