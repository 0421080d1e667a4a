"""Load and validate mailgate.toml into plain, frozen settings objects.

Validation is strict on purpose: an unknown key is almost always a typo that would otherwise
silently fall back to a default, so every error names the file, the dotted key and what was
expected, and the CLI prints it as one line with a non-zero exit.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailgate.errors import ConfigError

ROLES = ("requester", "technician", "admin")
DEFAULT_CONFIG_NAME = "mailgate.toml"


@dataclass(frozen=True)
class GatewaySettings:
    name: str = "Helpdesk"
    address: str = "helpdesk@example.com"
    subject_tag: str = "Helpdesk"
    secret: str = "change-me"
    # acknowledgements per sender and hour: stops a misbehaving autoresponder from a loop
    ack_rate_limit: int = 5
    max_message_size: int = 25 * 1024 * 1024


@dataclass(frozen=True)
class StoreSettings:
    database: str = "sqlite:///store/mailgate.db"
    spool: str = "store/spool"
    attachments: str = "store/attachments"


@dataclass(frozen=True)
class QueueSettings:
    name: str
    address: str
    default_priority: int = 3
    timezone: str = "UTC"
    # addresses that get every alert mail of this queue (issue 4)
    watchers: tuple[str, ...] = ()
    # lifecycle (issue 7): a parent is not resolved/closed while children are open
    # (unless `status: closed!`); hours without update before priority goes up one step
    # (0 = never); what the parent's nosy list hears of its children: all | status | none
    wait_for_children: bool = False
    escalate_after_hours: float = 0.0
    parent_sees: str = "status"


@dataclass(frozen=True)
class PersonSettings:
    address: str
    name: str = ""
    role: str = "requester"
    queues: tuple[str, ...] = ()


@dataclass(frozen=True)
class ThreadingSettings:
    reopen_resolved: bool = True
    # a reply to a ticket closed longer than this opens a new, linked ticket
    closed_reopen_days: int = 30
    # a bare "thank you" to a resolved ticket reopens it only when this is true
    thanks_reopens: bool = False
    # Outlook's Thread-Index/Thread-Topic as a threading signal (a forwarded Outlook mail
    # keeps the conversation index, so it is off unless the site wants it)
    outlook_thread_index: bool = False
    # same requester + same normalized subject within this many hours joins the open
    # ticket; 0 = off
    subject_window_hours: int = 0


@dataclass(frozen=True)
class CleanSettings:
    disclaimers: tuple[str, ...] = ()


@dataclass(frozen=True)
class RelaySettings:
    host: str = "localhost"
    port: int = 25
    starttls: bool = False
    username: str = ""
    password: str = ""
    timeout: float = 30.0


@dataclass(frozen=True)
class SmtpListenSettings:
    """One SMTP-style listener ([listen.smtp]); LMTP uses the same keys."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 2525
    hostname: str = ""  # name in the greeting; "" = this machine's FQDN
    max_sessions: int = 100  # more concurrent connections get 421 and are closed
    max_recipients: int = 100  # further RCPTs in one transaction get 452 (the client sends them later)
    timeout: float = 300.0  # idle seconds before the session is closed (RFC 5321 4.5.3.2)
    tls_cert: str = ""  # PEM certificate + key: offer STARTTLS
    tls_key: str = ""
    require_starttls: bool = False
    auth_users_file: str = ""  # "user:password" lines: offer AUTH PLAIN/LOGIN (over TLS only)
    auth_required: bool = False


@dataclass(frozen=True)
class LmtpListenSettings(SmtpListenSettings):
    enabled: bool = False
    port: int = 2424


@dataclass(frozen=True)
class ListenSettings:
    smtp: SmtpListenSettings = field(default_factory=SmtpListenSettings)
    lmtp: LmtpListenSettings = field(default_factory=LmtpListenSettings)


@dataclass(frozen=True)
class DaemonSettings:
    grace_period: float = 10.0  # SIGTERM: seconds to finish the message in hand before exiting
    log_format: str = "text"  # text | json (the --log-format option overrides it)
    spool_poll_interval: float = 0.25  # seconds between scans for mail queued by `mailgate deliver`
    heartbeat_interval: float = 30.0  # seconds between heartbeats that `mailgate status` shows


@dataclass(frozen=True)
class ImapSettings:
    name: str
    host: str
    user: str
    port: int = 993
    tls: bool = True
    password: str = ""
    password_file: str = ""  # read at start-up and on SIGHUP; wins over password
    folder: str = "INBOX"
    move_to: str = ""  # move processed mail to this folder; "" = set `flag` instead
    flag: str = "\\Seen"  # set on processed mail when move_to is empty; a keyword works too
    queue: str = ""  # queue name the mail is for; "" = decided by its headers
    idle: bool = True  # use IDLE when the server offers it, else poll
    poll_interval: float = 60.0  # seconds between polls (and between IDLE restarts at most 5x this)
    timeout: float = 30.0  # seconds for connect and each command


@dataclass(frozen=True)
class CommandSettings:
    """Commands by email (issue 4): who is believed to be who they claim."""

    enabled: bool = True
    # authserv-ids (RFC 8601) of our own receiving servers; only the topmost such
    # Authentication-Results header is read, anything a sender wrote lower down is ignored
    trusted_authserv_ids: tuple[str, ...] = ()
    # believe the From: header as it is: only for a closed internal relay
    trust_from_header: bool = False
    # the statuses a requester may set on their own ticket (resolve / reopen)
    requester_statuses: tuple[str, ...] = ("resolved", "open")


@dataclass(frozen=True)
class PermissionSettings:
    """[[permission]]: replaces the default command list of one role in one queue."""

    role: str
    commands: tuple[str, ...]
    queue: str = "*"


@dataclass(frozen=True)
class AlertSettings:
    """Nosy lists and alert mails (issue 4)."""

    nosy_cc: bool = True  # people in Cc of the opening mail join the nosy list
    nosy_writers: bool = True  # everyone who writes to the ticket joins the nosy list
    notify_author: bool = False  # send the author of a change a copy of the alert too
    attach_max_bytes: int = 1024 * 1024  # attach files up to this size, list larger ones
    html: bool = False  # add an HTML alternative rendered from the *.html.j2 templates


@dataclass(frozen=True)
class MonitoringSettings:
    """Monitoring alerts grouped by fingerprint (issue 6, rules/*.toml)."""

    # a problem still firing on an open ticket mails the team again after this many seconds
    # (Alertmanager's repeat_interval)
    renotify_interval: float = 4 * 3600.0
    # a problem returning this many seconds after its recovery reopens the same ticket
    flap_window: float = 3600.0
    # more than this many new alert tickets from one sender within storm_window seconds are
    # grouped under one parent incident ticket; 0 turns the storm guard off
    storm_threshold: int = 10
    storm_window: float = 300.0


@dataclass(frozen=True)
class OutboxSettings:
    """The outbox sender (issue 4)."""

    poll_interval: float = 5.0  # seconds between looks at the outbox when idle
    max_attempts: int = 8  # temporary failures before a mail is marked failed
    backoff_initial: float = 60.0  # seconds before the first retry; doubles each time
    backoff_max: float = 3600.0
    # a row left "sending" (crash between send and mark) is resent after this many seconds
    sending_lease: float = 300.0


@dataclass(frozen=True)
class LifecycleSettings:
    """Timed ticket lifecycle (issue 7): archive, SLA warnings, daily digests."""

    archive_after_days: int = 60  # resolved/closed tickets become archived; 0 = never
    sla_warn_percent: int = 80  # "SLA near" mail when this share of the target has passed
    # daily digests, HH:MM in the queue's timezone; "" = off (opt-in: an upgrade must not
    # start mailing every technician)
    reminder_time: str = ""
    check_interval: float = 60.0  # seconds between the lifecycle jobs' runs


@dataclass(frozen=True)
class CalendarSettings:
    """Business hours for SLA targets, in each queue's timezone (issue 7)."""

    working_days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    start: str = "09:00"
    end: str = "17:00"
    holidays: tuple[str, ...] = ()  # YYYY-MM-DD


@dataclass(frozen=True)
class SlaSettings:
    """[[sla]]: business-hour targets for one queue ("*" = any) and priority (issue 7)."""

    priority: int
    queue: str = "*"
    first_response_hours: float = 0.0  # 0 = no target
    resolution_hours: float = 0.0


@dataclass(frozen=True)
class Settings:
    path: Path
    gateway: GatewaySettings
    store: StoreSettings
    queues: tuple[QueueSettings, ...]
    people: tuple[PersonSettings, ...]
    threading: ThreadingSettings = field(default_factory=ThreadingSettings)
    clean: CleanSettings = field(default_factory=CleanSettings)
    relay: RelaySettings = field(default_factory=RelaySettings)
    listen: ListenSettings = field(default_factory=ListenSettings)
    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    imap: tuple[ImapSettings, ...] = ()
    commands: CommandSettings = field(default_factory=CommandSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    outbox: OutboxSettings = field(default_factory=OutboxSettings)
    permissions: tuple[PermissionSettings, ...] = ()
    monitoring: MonitoringSettings = field(default_factory=MonitoringSettings)
    lifecycle: LifecycleSettings = field(default_factory=LifecycleSettings)
    calendar: CalendarSettings = field(default_factory=CalendarSettings)
    sla: tuple[SlaSettings, ...] = ()
    templates: str = "templates"
    rules: str = "rules"

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve(self, value: str) -> Path:
        """Relative paths in the config are relative to the config file's folder."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    @property
    def spool_dir(self) -> Path:
        return self.resolve(self.store.spool)

    @property
    def attachments_dir(self) -> Path:
        return self.resolve(self.store.attachments)

    @property
    def templates_dir(self) -> Path:
        return self.resolve(self.templates)

    @property
    def database_url(self) -> str:
        url = self.store.database
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url[len(prefix):].startswith("/"):
            rel = url[len(prefix):]
            if rel != ":memory:":
                return prefix + str(self.resolve(rel))
        return url

    def queue_named(self, name: str) -> QueueSettings | None:
        return next((q for q in self.queues if q.name == name), None)

    def queue_for_address(self, address: str) -> QueueSettings | None:
        address = address.lower()
        return next((q for q in self.queues if q.address.lower() == address), None)

    def person(self, address: str) -> PersonSettings | None:
        address = address.lower()
        return next((p for p in self.people if p.address.lower() == address), None)


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is tuple:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    return {str: "a string", int: "an integer", bool: "true or false", float: "a number"}.get(
        tp, str(tp)
    )


def _coerce(value: Any, tp: Any, where: str) -> Any:
    if dataclasses.is_dataclass(tp):  # a nested table such as [listen.smtp]
        return _build(tp, value, where)
    origin = typing.get_origin(tp)
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r}")
        inner = typing.get_args(tp)[0]
        return tuple(_coerce(v, inner, f"{where}[{i}]") for i, v in enumerate(value))
    if origin in (typing.Union, types.UnionType):
        raise AssertionError("unions are not used in settings")
    ok = {
        str: isinstance(value, str),
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, int | float) and not isinstance(value, bool),
    }[tp]
    if not ok:
        raise ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r}")
    return float(value) if tp is float else value


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{where}.{unknown[0]}: unknown key (expected one of: {', '.join(sorted(fields))})"
        )
    kwargs = {}
    for name, f in fields.items():
        if name in data:
            kwargs[name] = _coerce(data[name], hints[name], f"{where}.{name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{where}.{name}: required key is missing ({_type_name(hints[name])})")
    return cls(**kwargs)


def _check_address(value: str, where: str) -> None:
    if value.count("@") != 1 or value.startswith("@") or value.endswith("@") or " " in value:
        raise ConfigError(f"{where}: expected an email address like name@example.com, got {value!r}")


_SECTIONS: dict[str, type] = {
    "gateway": GatewaySettings,
    "store": StoreSettings,
    "threading": ThreadingSettings,
    "clean": CleanSettings,
    "relay": RelaySettings,
    "listen": ListenSettings,
    "daemon": DaemonSettings,
}
_LISTS: dict[str, tuple[str, type]] = {"queue": ("queues", QueueSettings), "person": ("people", PersonSettings)}
_LISTS["imap"] = ("imap", ImapSettings)
_SECTIONS.update(commands=CommandSettings, alerts=AlertSettings, outbox=OutboxSettings)
_LISTS["permission"] = ("permissions", PermissionSettings)
_SECTIONS["monitoring"] = MonitoringSettings
_SECTIONS.update(lifecycle=LifecycleSettings, calendar=CalendarSettings)  # issue 7
_LISTS["sla"] = ("sla", SlaSettings)
_PLAIN: dict[str, type] = {"templates": str, "rules": str}


def parse_settings(data: dict[str, Any], path: Path) -> Settings:
    """Validate a parsed TOML document; raise ConfigError naming file and key."""
    known = set(_SECTIONS) | set(_LISTS) | set(_PLAIN)
    try:
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{unknown[0]}: unknown section (expected one of: {', '.join(sorted(known))})")
        kwargs: dict[str, Any] = {}
        for key, cls in _SECTIONS.items():
            kwargs[key] = _build(cls, data.get(key, {}), key)
        for key, (attr, cls) in _LISTS.items():
            items = data.get(key, [])
            if not isinstance(items, list):
                raise ConfigError(f"{key}: expected an array of tables ([[{key}]])")
            kwargs[attr] = tuple(_build(cls, item, f"{key}[{i}]") for i, item in enumerate(items))
        for key, tp in _PLAIN.items():
            if key in data:
                kwargs[key] = _coerce(data[key], tp, key)
        settings = Settings(path=path.resolve(), **kwargs)
        _check_semantics(settings)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    secret = os.environ.get("MAILGATE_SECRET")
    if secret:
        settings = dataclasses.replace(settings, gateway=dataclasses.replace(settings.gateway, secret=secret))
    return settings


def _check_semantics(s: Settings) -> None:
    _check_address(s.gateway.address, "gateway.address")
    if not s.gateway.subject_tag.strip() or any(c in s.gateway.subject_tag for c in "[]#"):
        raise ConfigError("gateway.subject_tag: expected a non-empty word without '[', ']' or '#'")
    if not s.gateway.secret:
        raise ConfigError("gateway.secret: expected a non-empty string (or set MAILGATE_SECRET)")
    if s.gateway.max_message_size <= 0:
        raise ConfigError("gateway.max_message_size: expected a positive number of bytes")
    if not s.queues:
        raise ConfigError("queue: expected at least one [[queue]] with a name and an address")
    names: set[str] = set()
    for i, q in enumerate(s.queues):
        _check_address(q.address, f"queue[{i}].address")
        if q.name in names:
            raise ConfigError(f"queue[{i}].name: duplicate queue name {q.name!r}")
        names.add(q.name)
        if not 1 <= q.default_priority <= 4:
            raise ConfigError(f"queue[{i}].default_priority: expected 1 to 4, got {q.default_priority}")
    for i, p in enumerate(s.people):
        _check_address(p.address, f"person[{i}].address")
        if p.role not in ROLES:
            raise ConfigError(f"person[{i}].role: expected one of {', '.join(ROLES)}, got {p.role!r}")
        for q in p.queues:
            if q not in names:
                raise ConfigError(f"person[{i}].queues: unknown queue {q!r} (known: {', '.join(sorted(names))})")
    db = s.store.database
    if not (db.startswith("sqlite:///") or db.startswith("postgresql://") or db.startswith("postgres://")):
        raise ConfigError(f"store.database: expected sqlite:///PATH or postgresql://..., got {db!r}")
    _check_daemon(s)
    _check_threading(s)
    _check_commands(s, names)
    _check_monitoring(s)
    from mailgate.lifecycle.settings import check_lifecycle  # issue 7

    check_lifecycle(s, names)


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
            _check_address(w, f"queue[{i}].watchers[{j}]")
    statuses = ("open", "stalled", "resolved", "closed", "rejected")
    for st in s.commands.requester_statuses:
        if st not in statuses:
            raise ConfigError(f"commands.requester_statuses: expected some of {', '.join(statuses)}, got {st!r}")
    for i, perm in enumerate(s.permissions):
        if perm.role not in ("requester", "technician", "anyone"):
            raise ConfigError(f"permission[{i}].role: expected requester, technician or anyone, got {perm.role!r}")
        if perm.queue != "*" and perm.queue not in queue_names:
            raise ConfigError(f"permission[{i}].queue: unknown queue {perm.queue!r} "
                              f"(known: *, {', '.join(sorted(queue_names))})")
        for name in perm.commands:
            if name == "*":
                continue
            # the registry, imported only when a permission names a command: it pulls in the
            # parser and the models, which `mailgate deliver` (once per message) does not need
            from mailgate.commands import COMMANDS

            if name not in COMMANDS:
                raise ConfigError(f"permission[{i}].commands: unknown command {name!r} "
                                  f"(known: *, {', '.join(sorted(COMMANDS))})")
    if s.alerts.attach_max_bytes < 0:
        raise ConfigError("alerts.attach_max_bytes: expected 0 or a positive number of bytes")
    o = s.outbox
    for key in ("poll_interval", "backoff_initial", "backoff_max", "sending_lease"):
        if getattr(o, key) <= 0:
            raise ConfigError(f"outbox.{key}: expected a positive number of seconds, got {getattr(o, key)}")
    if o.max_attempts < 1:
        raise ConfigError(f"outbox.max_attempts: expected at least 1, got {o.max_attempts}")


def _check_daemon(s: Settings) -> None:
    """[listen.*], [daemon] and [[imap]]: values that parse but cannot work."""
    for kind in ("smtp", "lmtp"):
        lst = getattr(s.listen, kind)
        where = f"listen.{kind}"
        if not 0 <= lst.port <= 65535:
            raise ConfigError(f"{where}.port: expected 0 to 65535, got {lst.port}")
        for key in ("max_sessions", "max_recipients"):
            if getattr(lst, key) < 1:
                raise ConfigError(f"{where}.{key}: expected a positive integer, got {getattr(lst, key)}")
        if lst.timeout <= 0:
            raise ConfigError(f"{where}.timeout: expected a positive number of seconds, got {lst.timeout}")
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
        if not acct.move_to and not acct.flag:
            raise ConfigError(f"{where}.flag: expected move_to or flag, so processed mail is marked")
        if acct.queue and s.queue_named(acct.queue) is None:
            raise ConfigError(f"{where}.queue: unknown queue {acct.queue!r}")
        if acct.poll_interval <= 0 or acct.timeout <= 0:
            raise ConfigError(f"{where}.poll_interval: poll_interval and timeout must be positive")


def config_path(explicit: str | None) -> Path:
    """--config wins, then MAILGATE_CONFIG, then ./mailgate.toml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("MAILGATE_CONFIG")
    if env:
        return Path(env)
    return Path.cwd() / DEFAULT_CONFIG_NAME


def load_settings(path: Path) -> Settings:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found (use --config or MAILGATE_CONFIG)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return parse_settings(data, path)
