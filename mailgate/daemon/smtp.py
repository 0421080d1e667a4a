"""SMTP ingest on the daemon's own loop: refuse at RCPT what we would bounce later, answer
250 only after the spool has the bytes on disk, 451 when it cannot take them.

The handler is shared by SMTP and LMTP (lmtp.py); they differ only in the greeting and in
answering DATA once per recipient.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email._header_value_parser import get_addr_spec, get_angle_addr
from email.errors import HeaderParseError
from email.utils import formatdate
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from mailgate.config import Settings, SmtpListenSettings
from mailgate.core.errors import ConfigError, TransientError
from mailgate.core.spool import SpoolStore
from mailgate.recipients import recipient_known

log = logging.getLogger("mailgate.daemon.smtp")


@dataclass
class Sessions:
    """Concurrent sessions and DATA transactions in flight, across all listeners, so shutdown
    can wait for messages being spooled and refuse new connections above the limit."""

    open: set[SMTP] = field(default_factory=set)
    in_data: int = 0
    last_accepted: float = 0.0  # time.monotonic() of the last 250
    per_client: dict[str, int] = field(default_factory=dict)  # open sessions per client address

    def accepting(self, quiet: float = 0.02) -> bool:
        """Mail is arriving right now: a DATA in flight, or a 250 within `quiet` seconds."""
        return self.in_data > 0 or time.monotonic() - self.last_accepted < quiet


class IngestHandler:
    """aiosmtpd handler hooks. `settings` is a callable so SIGHUP's new queues apply at once."""

    def __init__(self, kind: str, listen: SmtpListenSettings, settings: Callable[[], Settings], spool: SpoolStore,
                 wake: Callable[[], None], sessions: Sessions) -> None:
        self.kind = kind
        self.listen = listen
        self.settings = settings
        self.spool = spool
        self.wake = wake
        self.sessions = sessions
        self.per_recipient = kind == "lmtp"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if len(envelope.rcpt_tos) >= self.listen.max_recipients:
            # 452, not 5xx: RFC 5321 4.5.3.1.10, the client sends the rest in another transaction
            return f"452 4.5.3 Too many recipients (at most {self.listen.max_recipients} per message)"
        if not recipient_known(self.settings(), address):
            return f"550 5.1.1 <{address}>: no such queue or reply address here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        count = len(envelope.rcpt_tos)
        if not raw.strip():
            return self._answer("554 5.6.0 Empty message refused", count)
        raw = _trace_headers(envelope.mail_from or "", session, self.kind, self.listen) + raw
        extra: dict[str, Any] = {"mail_from": envelope.mail_from or "", "peer": _peer(session)}
        if session.authenticated and session.auth_data is not None:
            extra["auth_user"] = str(session.auth_data)
        self.sessions.in_data += 1
        try:
            loop = asyncio.get_running_loop()
            # Spool.accept fsyncs: off the loop, so other sessions keep being served meanwhile
            entry = await loop.run_in_executor(
                None, lambda: self.spool.accept(raw, self.kind, tuple(envelope.rcpt_tos), **extra))
        except TransientError as exc:
            log.error("not accepted: %s", exc, extra={"stage": self.kind, "outcome": "tempfail"})
            return self._answer(f"451 4.3.0 {exc}; try again later", count)
        except Exception as exc:  # noqa: BLE001 - never 250 without the spool, never crash the session
            log.exception("not accepted: %s", exc, extra={"stage": self.kind, "outcome": "tempfail"})
            return self._answer("451 4.3.0 Internal error while storing the message; try again later", count)
        finally:
            self.sessions.in_data -= 1
        self.sessions.last_accepted = time.monotonic()
        log.info("accepted %d bytes from <%s> for %s%s", len(raw), envelope.mail_from,
                 ", ".join(envelope.rcpt_tos),
                 f" (authenticated as {extra['auth_user']})" if "auth_user" in extra else "",
                 extra={"stage": self.kind, "outcome": "spooled", "message_id": entry.sha256[:12],
                        "source": self.kind})
        self.wake()
        return self._answer(f"250 2.0.0 Queued as {entry.sha256[:16]}", count)

    def _answer(self, line: str, count: int) -> str:
        # LMTP (RFC 2033 4.2): one reply per accepted recipient, in RCPT order
        return "\r\n".join([line] * count) if self.per_recipient and count > 1 else line


def _peer(session: Session) -> str:
    peer = session.peer
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer or "")


def _trace_headers(mail_from: str, session: Session, kind: str, listen: SmtpListenSettings) -> bytes:
    """Final delivery adds Return-Path (RFC 5321 4.4): classify sees a null sender as a
    bounce. Both are trace headers, which the content hash ignores, so the same message
    received twice is still recognised."""
    peer = session.peer[0] if isinstance(session.peer, tuple) else "unknown"
    # HELO and MAIL FROM are the client's words: a bare LF in them must not start a header
    helo = _header_safe(session.host_name or "unknown")
    mail_from = _header_safe(mail_from)
    proto = {"smtp": "ESMTP" if session.extended_smtp else "SMTP", "lmtp": "LMTP"}[kind]
    if session.ssl:
        proto += "S"
    if session.authenticated:
        proto += "A"
    received = (f"Received: from {helo} ([{peer}])\r\n\tby {listen.hostname or this_host()} (mailgate)"
                f" with {proto};\r\n\t{formatdate(localtime=False)}\r\n")
    return f"Return-Path: <{mail_from}>\r\n{received}".encode("utf-8", "surrogateescape")


@functools.cache
def this_host() -> str:
    """The machine's FQDN, looked up once: getfqdn() may ask DNS, and the event loop must not
    wait for a resolver on every message (it is in every Received header and greeting)."""
    return socket.getfqdn()


def _header_safe(text: str) -> str:
    return "".join(c if c.isprintable() and c not in "\r\n<>" else "?" for c in text)[:200]


class GatewaySMTP(SMTP):
    """aiosmtpd's SMTP with session limits and room for long (mostly bare-LF) lines.

    Idle connections must not lock real clients out (issue 17): one client address gets at
    most `max_sessions_per_client` sessions, so the other slots stay free for other
    addresses; once more than half of `max_sessions` are in use, a session waiting for its
    next command gets `busy_timeout` seconds instead of `timeout` (Postfix's stress mode),
    and a session that times out hears 421 before it is closed."""

    # RFC 5321 allows 1000 octets per line; broken scripts send whole messages with bare LF,
    # which reach us as one long "line". Keep them (raw bytes are sacred) up to 1 MiB.
    line_length_limit = 1 << 20

    def __init__(self, handler: IngestHandler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._sessions = handler.sessions
        self._listen = handler.listen
        self._counted = False
        self._refused = False
        self._client = ""  # the peer's address; "" on a unix socket (the local MTA: no per-client limit)
        self._in_data = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        first = self.transport is None and self._original_transport is None
        if first:
            peer = transport.get_extra_info("peername")
            self._client = peer[0] if isinstance(peer, tuple) and peer else ""
            refusal = self._refusal()
            if refusal:
                self._refused = True
                transport.write(refusal)  # type: ignore[attr-defined]
                transport.close()
                return
        super().connection_made(transport)
        if first:
            self._sessions.open.add(self)
            if self._client:
                self._sessions.per_client[self._client] = self._sessions.per_client.get(self._client, 0) + 1
            self._counted = True
            if self._busy():  # the listener filled up: idle sessions (this one too) may wait briefly only
                for session in list(self._sessions.open):
                    if isinstance(session, GatewaySMTP):
                        session._hurry()

    def _refusal(self) -> bytes:
        sessions = self._sessions
        if len(sessions.open) >= self._listen.max_sessions:
            return b"421 4.7.0 Too many connections, try again later\r\n"
        if self._client and sessions.per_client.get(self._client, 0) >= self._listen.max_sessions_per_client:
            log.warning("refused a connection from %s: %d sessions from that address already", self._client,
                        self._listen.max_sessions_per_client, extra={"stage": "smtp", "outcome": "refused"})
            return b"421 4.7.0 Too many connections from your address, try again later\r\n"
        return b""

    def _busy(self) -> bool:
        return len(self._sessions.open) * 2 > self._listen.max_sessions

    def _reset_timeout(self, duration: float | None = None) -> None:
        if duration is None and self._busy():
            duration = min(self._listen.busy_timeout, self._listen.timeout)
        super()._reset_timeout(duration)

    def _hurry(self) -> None:
        """A session waiting for a command gets at most busy_timeout from now (never more
        than it had; a message on its way keeps the time DATA gave it)."""
        handle = self._timeout_handle
        if self._in_data or self.transport is None or handle is None:
            return
        busy = min(self._listen.busy_timeout, self._listen.timeout)
        if handle.when() - self.loop.time() > busy:
            super()._reset_timeout(busy)

    def _timeout_cb(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"421 4.4.2 Idle too long, closing connection\r\n")  # type: ignore[attr-defined]
        super()._timeout_cb()

    async def smtp_DATA(self, arg: str) -> None:
        self._in_data = True
        try:
            await super().smtp_DATA(arg)
        finally:
            self._in_data = False

    def connection_lost(self, error: Exception | None) -> None:
        if self._refused:
            return
        if self._counted:
            self._sessions.open.discard(self)
            if self._client:
                left = self._sessions.per_client.get(self._client, 1) - 1
                if left > 0:
                    self._sessions.per_client[self._client] = left
                else:
                    self._sessions.per_client.pop(self._client, None)
            self._counted = False
        super().connection_lost(error)

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """aiosmtpd 1.4's address parsing for MAIL FROM / RCPT TO, minus the typing.Protocol
        class it defines inside the method on every call (about a tenth of the interpreter
        time of accepting a message, in a py-spy profile of 8 SMTP clients)."""
        if not arg:
            return "", ""
        try:
            if arg.lstrip().startswith("<"):
                address, rest = get_angle_addr(arg)
            else:
                address, rest = get_addr_spec(arg)
        except HeaderParseError:
            return None, None
        addr = address.addr_spec
        localpart = addr.rpartition("@")[0]
        if self.local_part_limit and len(localpart) > self.local_part_limit:
            return None, None
        return addr, rest

    def close_for_shutdown(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"421 4.3.2 Service shutting down, try again later\r\n")  # type: ignore[attr-defined]
            self.transport.close()


class UsersFileAuthenticator:
    """AUTH PLAIN/LOGIN against "user:password" lines: trusted submission (the user name is
    kept with the spooled message)."""

    def __init__(self, path: Path) -> None:
        self.users: dict[str, str] = {}
        try:
            text = path.read_text()
        except OSError as exc:
            raise ConfigError(f"auth_users_file {path}: {exc.strerror}") from None
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            user, sep, password = line.partition(":")
            if not sep or not user.strip():
                raise ConfigError(f"auth_users_file {path}:{n}: expected user:password")
            self.users[user.strip()] = password

    def __call__(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                 auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", "replace")
        expected = self.users.get(user)
        ok = expected is not None and hmac.compare_digest(expected.encode(), auth_data.password)
        return AuthResult(success=ok, handled=False, auth_data=user if ok else None)


def tls_context(listen: SmtpListenSettings, settings: Settings, where: str) -> ssl.SSLContext | None:
    if not listen.tls_cert:
        return None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        ctx.load_cert_chain(settings.resolve(listen.tls_cert), settings.resolve(listen.tls_key))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"{where}.tls_cert: cannot load certificate and key: {exc}") from None
    return ctx


def protocol_factory(cls: type[GatewaySMTP], handler: IngestHandler, settings: Settings,
                     where: str) -> Callable[[], GatewaySMTP]:
    """Everything that can fail (certificate, users file) fails here, at start-up."""
    listen = handler.listen
    ctx = tls_context(listen, settings, where)
    auth = UsersFileAuthenticator(settings.resolve(listen.auth_users_file)) if listen.auth_users_file else None
    kwargs: dict[str, Any] = {
        "data_size_limit": settings.gateway.max_message_size,
        "enable_SMTPUTF8": True,
        "decode_data": False,
        # aiosmtpd would call getfqdn() (a DNS lookup) for every connection: once is enough
        "hostname": listen.hostname or this_host(),
        "ident": "mailgate",
        "timeout": listen.timeout,
        "tls_context": ctx,
        "require_starttls": listen.require_starttls,
        "auth_required": listen.auth_required,
        "auth_require_tls": True,
        "authenticator": auth,
    }
    if auth is None:
        kwargs.pop("authenticator")
        kwargs["auth_exclude_mechanism"] = ["LOGIN", "PLAIN"]
    return lambda: cls(handler, **kwargs)
