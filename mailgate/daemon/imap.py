"""Fetch mail from an IMAP mailbox into the spool.

The order is what makes it safe: fetch with BODY.PEEK[] (nothing changes on the server),
commit the bytes to the spool, record the source key (account, UIDVALIDITY, UID), and only
then move or flag the message. A crash anywhere re-fetches: a known source key means "just
acknowledge it again", and a message spooled twice is stored once by the pipeline
(Message-ID + content hash). After a UIDVALIDITY change the old keys no longer match, so a
message is also recognised by the SHA-256 of its bytes and acknowledged without re-import.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import aioimaplib
import peewee as pw

from mailgate.config import ImapSettings, Settings
from mailgate.core.spool import SpoolStore
from mailgate.daemon.dbthread import DbThread
from mailgate.daemon.imap_lease import AccountLease, AlwaysHeld
from mailgate.db.models import ImapAccountState, ImapSource, utcnow

log = logging.getLogger("mailgate.daemon.imap")

BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_FETCH_UID = re.compile(rb"\bUID (\d+)\b")
_SEARCH_KEYS = {"\\seen": "UNSEEN", "\\flagged": "UNFLAGGED", "\\answered": "UNANSWERED"}


class ImapError(Exception):
    """The server said NO/BAD (login failed, no such folder, ...)."""


class LeaseLost(Exception):
    """Another node may fetch this account now: this fetcher stops its session."""


def search_criteria(account: ImapSettings) -> str:
    """Which messages still need taking: everything left in the folder when processed mail is
    moved away, else those without the flag."""
    if account.move_to:
        # UNDELETED: without MOVE and UIDPLUS a moved message stays behind flagged \Deleted
        # until someone expunges; it must not be copied again on every pass
        return "UNDELETED"
    key = _SEARCH_KEYS.get(account.flag.lower())
    if key:
        return key
    if account.flag.startswith("\\"):
        raise ImapError(f"flag {account.flag!r} cannot be searched for; use \\Seen, \\Flagged or a keyword")
    return f"UNKEYWORD {account.flag}"


def _ok(resp: aioimaplib.Response, what: str) -> aioimaplib.Response:
    if resp.result != "OK":
        text = b" ".join(line for line in resp.lines if isinstance(line, bytes)).decode("utf-8", "replace")
        raise ImapError(f"{what}: {resp.result} {text}".strip())
    return resp


def fetched_body(resp: aioimaplib.Response, uid: int) -> bytes | None:
    """The literal that follows '... FETCH (UID n BODY[] {size}' (unsolicited FETCH lines
    about flags may come first)."""
    lines = resp.lines
    for i, line in enumerate(lines[:-1]):
        if isinstance(line, bytes) and b"BODY[]" in line:
            m = _FETCH_UID.search(line)
            if m and int(m.group(1)) == uid and isinstance(lines[i + 1], bytearray | bytes):
                return bytes(lines[i + 1])
    return None


class ImapFetcher:
    def __init__(self, account: ImapSettings, settings: Callable[[], Settings], spool: SpoolStore, db: DbThread,
                 wake: Callable[[], None], lease: AccountLease | AlwaysHeld | None = None,
                 lease_retry: float = 5.0) -> None:
        """`lease`: several nodes, one fetcher per account (mailgate/daemon/imap_lease.py);
        `lease_retry`: seconds between looks at an account another node holds."""
        self.account = account
        self.lease = lease or AlwaysHeld()
        self.lease_retry = lease_retry
        self.waiting_for = ""  # the node holding the account while this one waits (logged once)
        self.settings = settings
        self.spool = spool
        self.db = db
        self.wake = wake
        self.in_outage = False
        self.failures = 0  # consecutive failed connections: the backoff step
        self.lost = asyncio.Event()  # set by aioimaplib when the connection drops
        self.source = f"imap:{account.name}"
        self._extra = {"stage": "imap", "source": self.source}

    # --- the session loop --------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self._run(stop)
        finally:
            if stop.is_set():
                with contextlib.suppress(Exception):  # the lease ends by itself if this fails
                    await self.lease.release()

    async def _held(self, stop: asyncio.Event) -> bool:
        """Ours to fetch; else wait `lease_retry` (another node fetches it) and say False."""
        if await self.lease.acquire():
            if self.waiting_for:
                log.info("account %s: taken over from node %s", self.account.name, self.waiting_for,
                         extra={**self._extra, "outcome": "taken-over"})
                self.waiting_for = ""
            return True
        if self.lease.holder != self.waiting_for:
            log.info("account %s: fetched by node %s; this node takes over if that one stops", self.account.name,
                     self.lease.holder, extra={**self._extra, "outcome": "standby"})
            self.waiting_for = self.lease.holder
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), self.lease_retry)
        return False

    async def _run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                if not await self._held(stop):
                    continue
                await self._session(stop)
            except asyncio.CancelledError:
                raise
            except LeaseLost as exc:
                log.warning("account %s: %s; stopping this fetcher's session", self.account.name, exc,
                            extra={**self._extra, "outcome": "lease-lost"})
                continue
            except Exception as exc:  # noqa: BLE001 - network, protocol or server errors: reconnect
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if not self.in_outage:
                    # once per outage, not per retry: a night of a dead server is one line
                    log.warning("account %s: %s; retrying with backoff (logged once until it recovers)",
                                self.account.name, reason, extra={**self._extra, "outcome": "outage"})
                    self.in_outage = True
                await self.db.run(self._record_error, reason)
                delay = BACKOFF[min(self.failures, len(BACKOFF) - 1)]
                self.failures += 1
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                except TimeoutError:
                    pass

    def _password(self) -> str:
        if self.account.password_file:
            path = self.settings().resolve(self.account.password_file)
            try:
                return Path(path).read_text().strip()
            except OSError as exc:
                raise ImapError(f"password_file {path}: {exc.strerror}") from None
        return self.account.password

    def _tls_context(self) -> ssl.SSLContext:
        """The system's CAs, plus tls_ca_file; with tls_verify = false, no checks at all."""
        acct = self.account
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        if acct.tls_ca_file:
            ctx.load_verify_locations(cafile=str(self.settings().resolve(acct.tls_ca_file)))
        if not acct.tls_verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            log.warning("account %s: TLS certificate of %s not verified (tls_verify = false)", acct.name,
                        acct.host, extra=self._extra)
        return ctx

    async def _session(self, stop: asyncio.Event) -> None:
        acct = self.account
        self.lost = asyncio.Event()
        if acct.tls:
            client = aioimaplib.IMAP4_SSL(host=acct.host, port=acct.port, timeout=acct.timeout,
                                          ssl_context=self._tls_context())
            # IMAP4_SSL's constructor takes no conn_lost_cb (passing one was a TypeError at every
            # connect, so tls = true never worked): set it on the protocol it made
            client.protocol.conn_lost_cb = lambda exc: self.lost.set()
        else:
            client = aioimaplib.IMAP4(host=acct.host, port=acct.port, timeout=acct.timeout,
                                      conn_lost_cb=lambda exc: self.lost.set())
        try:
            await client.wait_hello_from_server()
            await self._cmd(client.login(acct.user, self._password()), f"login as {acct.user}")
            resp = await self._cmd(client.select(acct.folder), f"select {acct.folder}")
            m = next((_UIDVALIDITY.search(x) for x in resp.lines if isinstance(x, bytes) and _UIDVALIDITY.search(x)), None)
            if m is None:
                raise ImapError(f"select {acct.folder}: server sent no UIDVALIDITY")
            uidvalidity = int(m.group(1))
            if acct.move_to:
                await client.create(acct.move_to)  # NO when it exists already: fine
            use_idle = acct.idle and client.has_capability("IDLE")
            if not self.in_outage:
                log.info("account %s: connected to %s:%s, folder %s, %s", acct.name, acct.host, acct.port,
                         acct.folder, "IDLE" if use_idle else f"polling every {acct.poll_interval:g}s",
                         extra=self._extra)
            await self.db.run(self._check_uidvalidity, uidvalidity)
            while not stop.is_set():
                await self._check_lease()
                await self.sync(client, uidvalidity, stop)
                self._recovered()
                if use_idle:
                    await self._idle(client, stop)
                else:
                    try:
                        await asyncio.wait_for(stop.wait(), acct.poll_interval)
                    except TimeoutError:
                        pass
            await asyncio.wait_for(client.logout(), acct.timeout)
        finally:
            if client.protocol is not None and client.protocol.transport is not None:
                client.protocol.transport.close()

    def _recovered(self) -> None:
        """A whole pass over the folder worked. Only now is the outage over: a failure after
        the login (a spool that cannot be written, a move the server refuses) must keep
        backing off and stay one log line, not log in and fail again every second."""
        self.failures = 0
        if self.in_outage:
            log.info("account %s: connected again", self.account.name, extra={**self._extra, "outcome": "recovered"})
            self.in_outage = False

    async def _cmd(self, awaitable: Awaitable[aioimaplib.Response], what: str) -> aioimaplib.Response:
        """Every command gets the account's timeout (aioimaplib sets none on UID MOVE, STORE,
        COPY) and fails at once when the connection is gone, so a dead server means a
        reconnect, never a fetcher waiting forever."""
        command = asyncio.ensure_future(awaitable)
        lost = asyncio.ensure_future(self.lost.wait())
        try:
            done, _ = await asyncio.wait({command, lost}, timeout=self.account.timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
        if command not in done:
            command.cancel()
            raise ConnectionError(f"{what}: {'connection lost' if self.lost.is_set() else 'timed out'}")
        return _ok(command.result(), what)

    async def _idle(self, client: aioimaplib.IMAP4, stop: asyncio.Event) -> None:
        """Wait for the server to announce new mail (or poll_interval, as a safety resync)."""
        idle = await client.idle_start(timeout=max(self.account.poll_interval * 5, 60))
        stopper = asyncio.ensure_future(stop.wait())
        lost = asyncio.ensure_future(self.lost.wait())
        try:
            while True:
                push = asyncio.ensure_future(client.wait_server_push(timeout=self.account.poll_interval))
                done, _ = await asyncio.wait({push, stopper, lost}, return_when=asyncio.FIRST_COMPLETED)
                if lost in done:
                    push.cancel()
                    raise ConnectionError("connection lost during IDLE")
                if stopper in done:
                    push.cancel()
                    break
                try:
                    lines = push.result()
                except TimeoutError:
                    break
                if lines == aioimaplib.STOP_WAIT_SERVER_PUSH or any(
                        isinstance(x, bytes) and x.endswith(b"EXISTS") for x in lines):
                    break
        finally:
            stopper.cancel()
            lost.cancel()
            if not self.lost.is_set():  # on a dead connection there is no IDLE to end
                if client.has_pending_idle():
                    client.idle_done()
                await asyncio.wait_for(idle, self.account.timeout)

    # --- one pass over the folder ---------------------------------------------------------

    async def sync(self, client: aioimaplib.IMAP4, uidvalidity: int, stop: asyncio.Event) -> int:
        resp = await self._cmd(client.uid_search(search_criteria(self.account), charset=None), "search")
        uids = [int(x) for line in resp.lines[:-1] if isinstance(line, bytes) for x in line.split() if x.isdigit()]
        taken = 0
        for uid in uids:
            if stop.is_set():
                break
            await self._check_lease()
            taken += await self._take(client, uidvalidity, uid)
        await self.db.run(self._record_sync, uidvalidity, taken)
        return taken

    async def _take(self, client: aioimaplib.IMAP4, uidvalidity: int, uid: int) -> int:
        name = self.account.name
        known = await self.db.run(self._known, uidvalidity, uid)
        spooled = 0
        if not known:
            resp = await self._cmd(client.uid("fetch", str(uid), "(UID BODY.PEEK[])"), f"fetch UID {uid}")
            raw = fetched_body(resp, uid)
            if raw is None:
                return 0  # expunged by someone else meanwhile
            sha = hashlib.sha256(raw).hexdigest()
            if await self.db.run(self._seen_bytes, sha):
                log.info("account %s: UID %s has the bytes of a message taken before (UIDVALIDITY change?);"
                         " acknowledging without importing it again", name, uid,
                         extra={**self._extra, "message_id": sha[:12], "outcome": "known"})
            else:
                queue = self.settings().queue_named(self.account.queue) if self.account.queue else None
                loop = asyncio.get_running_loop()
                # the first durability point; fsyncs, so off the loop
                entry = await loop.run_in_executor(None, lambda: self.spool.accept(
                    raw, self.source, (queue.address,) if queue else (), imap_account=name,
                    uidvalidity=uidvalidity, uid=uid))
                log.info("account %s: UID %s spooled (%d bytes)", name, uid, len(raw),
                         extra={**self._extra, "message_id": entry.sha256[:12], "outcome": "spooled"})
                self.wake()
                spooled = 1
            await self.db.run(self._remember, uidvalidity, uid, sha)
        await self._acknowledge(client, uid)
        await self.db.run(self._mark_acked, uidvalidity, uid)
        return spooled

    async def _check_lease(self) -> None:
        if not await self.lease.still_held():
            raise LeaseLost("the lease on it ran out (this node was stalled) and another node may fetch it now")

    async def _acknowledge(self, client: aioimaplib.IMAP4, uid: int) -> None:
        acct = self.account
        if acct.move_to:
            if client.has_capability("MOVE"):
                await self._cmd(client.uid("move", str(uid), acct.move_to), f"move UID {uid} to {acct.move_to}")
            else:  # RFC 6851 fallback: copy, then delete only this UID (UIDPLUS) or flag it
                await self._cmd(client.uid("copy", str(uid), acct.move_to), f"copy UID {uid} to {acct.move_to}")
                await self._cmd(client.uid("store", str(uid), "+FLAGS.SILENT", "(\\Deleted)"), f"delete UID {uid}")
                if client.has_capability("UIDPLUS"):
                    await self._cmd(client.uid("expunge", str(uid)), f"expunge UID {uid}")
        else:
            await self._cmd(client.uid("store", str(uid), "+FLAGS.SILENT", f"({acct.flag})"), f"flag UID {uid}")

    # --- database side (run in the database thread) ----------------------------------------

    def _known(self, uidvalidity: int, uid: int) -> bool:
        return ImapSource.select().where(ImapSource.account == self.account.name,
                                         ImapSource.uidvalidity == uidvalidity, ImapSource.uid == uid).exists()

    def _seen_bytes(self, sha: str) -> bool:
        return ImapSource.select().where(ImapSource.account == self.account.name,
                                         ImapSource.raw_sha256 == sha).exists()

    def _remember(self, uidvalidity: int, uid: int, sha: str) -> None:
        try:
            with ImapSource._meta.database.atomic():
                ImapSource.create(account=self.account.name, uidvalidity=uidvalidity, uid=uid, raw_sha256=sha)
        except pw.IntegrityError:
            pass  # a previous run recorded it just before dying

    def _mark_acked(self, uidvalidity: int, uid: int) -> None:
        ImapSource.update(acked=True).where(ImapSource.account == self.account.name,
                                            ImapSource.uidvalidity == uidvalidity, ImapSource.uid == uid).execute()

    def _state(self) -> ImapAccountState:
        state, _ = ImapAccountState.get_or_create(account=self.account.name)
        return state

    def _check_uidvalidity(self, uidvalidity: int) -> None:
        state = self._state()
        if state.uidvalidity is not None and state.uidvalidity != uidvalidity:
            log.warning("account %s: UIDVALIDITY changed from %s to %s; messages are matched by their bytes,"
                        " so the mailbox is not imported again", self.account.name, state.uidvalidity,
                        uidvalidity, extra={**self._extra, "outcome": "uidvalidity-changed"})
        state.uidvalidity = uidvalidity
        state.save()

    def _record_sync(self, uidvalidity: int, taken: int) -> None:
        ImapAccountState.update(uidvalidity=uidvalidity, last_sync_at=utcnow(), last_error="",
                                fetched=ImapAccountState.fetched + taken).where(
            ImapAccountState.account == self.account.name).execute()

    def _record_error(self, reason: str) -> None:
        self._state()
        ImapAccountState.update(last_error=reason[:500]).where(
            ImapAccountState.account == self.account.name).execute()
