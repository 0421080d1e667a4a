"""The settings objects: one frozen dataclass per TOML section, defaults documented in
mailgate.toml. Field types drive validation (mailgate.config.schema)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mailgate.config.reporting import (
    IncidentSettings,
    ReportSettings,
    SearchSettings,
    SystemSettings,
)

ROLES = ("requester", "technician", "admin")
DEFAULT_CONFIG_NAME = "mailgate.toml"
DEFAULT_SPOOL_FOLDER = "store/spool"
# the templates and rules that come with mailgate (package data): what `templates` and
# `rules` name when they keep their default and no such folder is beside the configuration
SHIPPED = Path(__file__).resolve().parent.parent / "shipped"


@dataclass(frozen=True)
class GatewaySettings:
    name: str = "Helpdesk"
    address: str = "helpdesk@example.com"
    subject_tag: str = "Helpdesk"
    secret: str = "change-me"
    # acknowledgements per sender and hour: stops a misbehaving autoresponder from a loop
    ack_rate_limit: int = 5
    max_message_size: int = 25 * 1024 * 1024
    # a MIME structure nested deeper, or with more parts, is quarantined before it is parsed
    # (parser bombs: issue 17); mailgate.mime_limits has the defaults
    max_mime_depth: int = 50
    max_mime_parts: int = 1000


@dataclass(frozen=True)
class StoreSettings:
    database: str = "sqlite:///store/mailgate.db"
    # a folder for the raw spool, or "database": raw bytes in committed rows, so any node of
    # several on one PostgreSQL finishes what another accepted (docs/scale-out.md);
    # "" = "database" with PostgreSQL, "store/spool" with SQLite
    spool: str = ""
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
    # the name in our EHLO to the relay; "" = this machine's FQDN (which is "localhost" on
    # many hosts, and some relays refuse or score that)
    helo_name: str = ""


@dataclass(frozen=True)
class SmtpListenSettings:
    """One SMTP-style listener ([listen.smtp]); LMTP uses the same keys."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 2525
    # a unix socket path instead of host:port (Postfix: lmtp:unix:/path), created with
    # socket_mode; a stale socket file left by a killed daemon is replaced
    socket: str = ""
    socket_mode: int = 0o660
    hostname: str = ""  # name in the greeting; "" = this machine's FQDN
    max_sessions: int = 100  # more concurrent connections get 421 and are closed
    # concurrent connections from one client address; more get 421, so one address cannot
    # take every slot (a unix socket, the local MTA, is not limited)
    max_sessions_per_client: int = 20
    max_recipients: int = 100  # further RCPTs in one transaction get 452 (the client sends them later)
    timeout: float = 300.0  # seconds to wait for the next command (RFC 5321 4.5.3.2); DATA has as long
    busy_timeout: float = 10.0  # ... while more than half of max_sessions are in use
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
class HttpListenSettings:
    """The API and the web desk ([listen.http]), served by `mailgate serve` or `mailgate web`."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8025
    max_body_size: int = 32 * 1024 * 1024  # larger requests get 413
    # proxies whose X-Forwarded-For/-Proto are believed (the client address for sign-in
    # records, https for the cookie's Secure flag); empty: none
    trusted_proxies: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListenSettings:
    smtp: SmtpListenSettings = field(default_factory=SmtpListenSettings)
    lmtp: LmtpListenSettings = field(default_factory=LmtpListenSettings)
    http: HttpListenSettings = field(default_factory=HttpListenSettings)


@dataclass(frozen=True)
class WebSettings:
    """Sign-in, sessions and the links in mail ([web])."""

    # the address people reach the web desk at (links in mail); "" = http://host:port of
    # [listen.http]
    base_url: str = ""
    login_link_minutes: float = 15.0  # a mailed sign-in link works this long, once
    session_days: float = 14.0  # a session ends after this long (or when ended by hand)
    ticket_link_days: float = 30.0  # a mail's link to its ticket works this long
    links_in_mail: bool = True  # acknowledgements and alerts carry a link to the ticket's page


@dataclass(frozen=True)
class ApiSettings:
    """The HTTP API ([api])."""

    rate_limit: int = 600  # requests per token and minute (per node); 0 = no limit
    page_size: int = 50  # tickets per page of GET /api/v1/tickets unless ?limit= says
    max_page_size: int = 500


@dataclass(frozen=True)
class DaemonSettings:
    grace_period: float = 10.0  # SIGTERM: seconds to finish the message in hand before exiting
    log_format: str = "text"  # text | json (the --log-format option overrides it)
    spool_poll_interval: float = 0.25  # seconds between scans for mail queued by `mailgate deliver`
    heartbeat_interval: float = 30.0  # seconds between heartbeats that `mailgate status` shows
    # processes running parse/classify/clean beside the database thread: -1 = one per core
    # beyond the first (os.cpu_count() - 1), 0 = everything in the daemon process
    workers: int = -1
    group_size: int = 64  # spool entries committed per database transaction, at most
    # while listeners are taking mail, the next group waits up to this many seconds for them
    # to go quiet (they share the interpreter lock with the commit); 0 = never wait
    yield_to_ingest: float = 0.25
    # with [store] spool = "database": how long a node's claims (spool entries, an IMAP
    # account, a job run) last without a heartbeat; another node takes them over after it
    lease: float = 30.0
    # SMTP/LMTP listener processes of their own (SO_REUSEPORT), each spooling on its own;
    # 0 = the listeners run in the daemon process
    listeners: int = 0


@dataclass(frozen=True)
class ImapSettings:
    name: str
    host: str
    user: str
    port: int = 993
    tls: bool = True
    # a PEM file of CA certificates to trust for this server (an internal CA, a self-signed
    # certificate): the safe way to talk to such a server
    tls_ca_file: str = ""
    # false: accept any certificate and host name (an attacker on the path can read the
    # password and the mail); logged as a warning at every connect
    tls_verify: bool = True
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
    # the operator's word that the MX removes incoming Authentication-Results headers (and adds
    # its own): without it the ids above can be forged; `mailgate doctor` warns until it is set
    mx_strips_authentication_results: bool = False
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
    # an address that answers this many of our mails within loop_seconds of each, within an
    # hour, is a naive auto-responder: no mail goes to it for loop_pause_hours (0: off)
    loop_replies: int = 3
    loop_seconds: float = 60.0
    loop_pause_hours: float = 6.0


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
    web: WebSettings = field(default_factory=WebSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    # search, incidents and reports (issue 15: mailgate.config.reporting)
    search: SearchSettings = field(default_factory=SearchSettings)
    systems: tuple[SystemSettings, ...] = ()
    incidents: IncidentSettings = field(default_factory=IncidentSettings)
    reports: tuple[ReportSettings, ...] = ()
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
    def spool_in_database(self) -> bool:
        """Raw bytes and the queue in PostgreSQL rows ([store] spool = "database", the
        default there) rather than in a folder of this host."""
        spool = self.store.spool
        return spool == "database" or (not spool and not self.store.database.startswith("sqlite:"))

    @property
    def spool_dir(self) -> Path:
        """The spool folder; with the spool in the database, the local folder that still
        keeps the MTA pipe's configuration record."""
        spool = self.store.spool
        return self.resolve(spool if spool not in ("", "database") else DEFAULT_SPOOL_FOLDER)

    @property
    def attachments_dir(self) -> Path:
        return self.resolve(self.store.attachments)

    @property
    def templates_dir(self) -> Path:
        return self._folder(self.templates, "templates")

    @property
    def rules_dir(self) -> Path:
        return self._folder(self.rules, "rules")

    def _folder(self, value: str, default: str) -> Path:
        """The folder beside the configuration; the shipped one when the key keeps its
        default and there is none (a configuration copied to /etc/mailgate)."""
        path = self.resolve(value)
        if value == default and not path.exists():
            return SHIPPED / default
        return path

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

    @property
    def web_base_url(self) -> str:
        """Where people reach the web desk: [web] base_url, else [listen.http]'s address."""
        if self.web.base_url:
            return self.web.base_url.rstrip("/")
        h = self.listen.http
        host = "127.0.0.1" if h.host in ("", "0.0.0.0", "::") else h.host
        return f"http://{host}:{h.port}"

    def system_named(self, name: str) -> SystemSettings | None:
        return next((s for s in self.systems if s.name == name), None)

    def person(self, address: str) -> PersonSettings | None:
        address = address.lower()
        return next((p for p in self.people if p.address.lower() == address), None)
