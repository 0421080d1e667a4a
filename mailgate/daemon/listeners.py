"""The SMTP and LMTP listeners: in the daemon's loop, or in processes of their own.

With `[daemon] listeners = N` the TCP listeners run in N processes (mailgate/daemon/
listener_proc.py), each binding the port with SO_REUSEPORT (the kernel spreads connections
over them) and spooling on its own: accepting mail no longer shares an interpreter with
the commit. They tell the daemon of new mail over a pipe (its worker claims at once instead
of at the next poll), die with the daemon (they read EOF on a pipe only the daemon holds),
and a listener that dies is started again. A unix-socket listener stays in the daemon
(SO_REUSEPORT is for ports). Session limits then count per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mailgate.config import Settings
from mailgate.core.errors import ConfigError, TransientError
from mailgate.core.spool import SpoolStore
from mailgate.daemon.lmtp import GatewayLMTP
from mailgate.daemon.smtp import GatewaySMTP, IngestHandler, Sessions, protocol_factory

log = logging.getLogger("mailgate.daemon.serve")

KINDS = (("smtp", GatewaySMTP), ("lmtp", GatewayLMTP))
READY, WOKEN = b"R", b"W"  # what a listener process writes on its pipe to the daemon
RESTART_AFTER = 2.0  # seconds before a dead listener process is started again


@dataclass
class Listening:
    servers: list[asyncio.Server] = field(default_factory=list)
    unix_sockets: list[Path] = field(default_factory=list)  # removed at shutdown


async def open_listeners(s: Settings, current: Callable[[], Settings], spool: SpoolStore, wake: Callable[[], None],
                         sessions: Sessions, *, tcp: bool = True, reuse_port: bool = False) -> Listening:
    """Bind the enabled listeners in this loop (`tcp`: also the host:port ones; False when
    listener processes take those). `reuse_port`: several processes may listen on one port."""
    out = Listening()
    for kind, cls in KINDS:
        listen = getattr(s.listen, kind)
        if not listen.enabled or (not tcp and not listen.socket):
            continue
        handler = IngestHandler(kind, listen, current, spool, wake, sessions)
        factory = protocol_factory(cls, handler, s, f"listen.{kind}")
        if listen.socket:
            server = await listen_unix(factory, s.resolve(listen.socket), listen.socket_mode, f"listen.{kind}")
            out.unix_sockets.append(s.resolve(listen.socket))
            where = str(s.resolve(listen.socket))
        else:
            try:
                server = await asyncio.get_running_loop().create_server(factory, listen.host, listen.port,
                                                                        reuse_port=reuse_port or None)
            except OSError as exc:
                # a port still held (the previous daemon exiting) is worth a retry: exit 75
                # and systemd restarts after RestartSec; anything else is the config's fault
                error = TransientError if exc.errno == errno.EADDRINUSE else ConfigError
                reason = os.strerror(exc.errno) if exc.errno else str(exc)  # asyncio's text names the address twice
                raise error(f"listen.{kind}: cannot listen on {listen.host}:{listen.port}: {reason}") from None
            where = f"{listen.host}:{server.sockets[0].getsockname()[1]}"
        out.servers.append(server)
        log.info("%s listening on %s", kind.upper(), where, extra={"stage": "startup"})
    return out


def tcp_listeners(s: Settings) -> bool:
    return any(getattr(s.listen, kind).enabled and not getattr(s.listen, kind).socket for kind, _ in KINDS)


async def listen_unix(factory: Callable[[], asyncio.Protocol], path: Path, mode: int, where: str) -> asyncio.Server:
    """An SMTP/LMTP listener on a unix socket. A socket file left by a killed daemon is
    replaced (the spool lock already proved no other daemon runs here); any other file
    in the way is an error naming the key."""
    if path.exists() or path.is_symlink():
        if not stat.S_ISSOCK(path.lstat().st_mode):
            raise ConfigError(f"{where}.socket: {path} exists and is not a socket")
        path.unlink()
    try:
        server = await asyncio.get_running_loop().create_unix_server(factory, str(path))
        os.chmod(path, mode)
    except OSError as exc:
        raise ConfigError(f"{where}.socket: cannot listen on {path}: {exc.strerror or exc}") from None
    return server


class ListenerProcesses:
    """`count` listener processes for the TCP listeners, watched and restarted."""

    def __init__(self, config_path: Path, count: int, wake: Callable[[], None], log_format: str) -> None:
        self.config_path = config_path
        self.count = count
        self.wake = wake
        self.log_format = log_format
        self.procs: list[subprocess.Popen | None] = [None] * count
        self.last_woken = 0.0  # time.monotonic() of the last message a listener spooled
        self._ready = asyncio.Event()
        self._ready_count = 0
        self._pipe_r, self._pipe_w = os.pipe()  # listeners -> daemon: READY, WOKEN
        self._life_r, self._life_w = os.pipe()  # EOF in the listeners when the daemon is gone
        os.set_blocking(self._pipe_r, False)
        asyncio.get_running_loop().add_reader(self._pipe_r, self._read)

    def _spawn(self, index: int) -> None:
        self.procs[index] = subprocess.Popen(
            [sys.executable, "-m", "mailgate.daemon.listener_proc", str(self.config_path), str(self._pipe_w),
             str(self._life_r), self.log_format, str(index)],
            pass_fds=(self._pipe_w, self._life_r), stdin=subprocess.DEVNULL)

    def _read(self) -> None:
        try:
            data = os.read(self._pipe_r, 4096)
        except BlockingIOError:
            return
        if data.count(READY):
            self._ready_count += data.count(READY)
            if self._ready_count >= self.count:
                self._ready.set()
        if WOKEN in data:
            self.last_woken = time.monotonic()
            self.wake()

    def accepting(self, quiet: float = 0.02) -> bool:
        """Mail is arriving through the listeners now (the worker yields to them, as to
        sessions in its own loop: `[daemon] yield_to_ingest`)."""
        return time.monotonic() - self.last_woken < quiet

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p is not None and p.poll() is None]

    async def start(self, timeout: float = 30.0) -> None:
        """Every listener bound and serving, or an error naming what stopped one."""
        for i in range(self.count):
            self._spawn(i)
        deadline = time.monotonic() + timeout
        while not self._ready.is_set():
            dead = [p for p in self.procs if p is not None and p.poll() is not None]
            if dead:
                self.stop(0.0)
                code = dead[0].returncode
                error = ConfigError if code == 78 else TransientError
                raise error(f"daemon.listeners: a listener process exited with status {code} at start-up"
                            " (its log line above says why)")
            if time.monotonic() > deadline:
                self.stop(0.0)
                raise TransientError(f"daemon.listeners: listener processes not ready after {timeout:.0f}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), 0.05)
        log.info("%d listener process%s serving SMTP/LMTP (pids %s)", self.count, "" if self.count == 1 else "es",
                 ", ".join(map(str, self.pids())), extra={"stage": "startup"})

    async def watch(self, stop: asyncio.Event) -> None:
        """A listener that died is started again (its port stays served by the others)."""
        while not stop.is_set():
            for i, proc in enumerate(self.procs):
                if proc is not None and proc.poll() is not None and not stop.is_set():
                    log.error("listener process %d (pid %d) exited with status %s; starting it again in %.0fs", i,
                              proc.pid, proc.returncode, RESTART_AFTER, extra={"stage": "listen", "outcome": "restart"})
                    self.procs[i] = None
                    await asyncio.sleep(RESTART_AFTER)
                    if not stop.is_set():
                        self._spawn(i)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)

    def reload(self) -> None:
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGHUP)

    def stop(self, grace: float) -> None:
        """SIGTERM: each finishes the messages it is spooling; after `grace`, SIGKILL."""
        live = [p for p in self.procs if p is not None and p.poll() is None]
        for p in live:
            with contextlib.suppress(ProcessLookupError):
                p.terminate()
        deadline = time.monotonic() + grace
        for p in live:
            try:
                p.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(self._pipe_r)
        for fd in (self._pipe_r, self._pipe_w, self._life_r, self._life_w):
            with contextlib.suppress(OSError):
                os.close(fd)
