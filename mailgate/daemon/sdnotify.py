"""systemd's notify protocol (sd_notify(3)) in a few lines of our own: datagrams to the
socket named by $NOTIFY_SOCKET. The unit runs the daemon as `Type=notify`, so
`systemctl start` returns (and units ordered after mailgate start) only once the SMTP/LMTP
listeners accept connections; STOPPING=1 and RELOADING=1 show in `systemctl status`;
WATCHDOG=1 lets systemd restart a daemon whose loop or database thread hangs.

Outside systemd (no NOTIFY_SOCKET) every call is a no-op. A send that fails is logged once
and never stops the daemon: the protocol is informational for us."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping

log = logging.getLogger("mailgate.daemon.sdnotify")


class Notifier:
    def __init__(self, address: str, watchdog_interval: float | None) -> None:
        # "@name" is a socket in the abstract namespace (sd_notify(3))
        self.address = "\0" + address[1:] if address.startswith("@") else address
        self.watchdog_interval = watchdog_interval  # seconds between WATCHDOG=1, None = off
        # made now, not at the first send: the loop and the database thread both send
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) if address else None
        self.failed = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ, pid: int | None = None) -> Notifier:
        address = environ.get("NOTIFY_SOCKET", "")
        watchdog = None
        usec = environ.get("WATCHDOG_USEC", "")
        # WATCHDOG_PID names the process systemd watches; a child that inherited it is not
        owner = environ.get("WATCHDOG_PID", "")
        if usec.isdigit() and int(usec) > 0 and (not owner or owner == str(pid or os.getpid())):
            watchdog = int(usec) / 1e6 / 2  # ping twice per period, as sd_watchdog_enabled(3) advises
        return cls(address, watchdog if address else None)

    def send(self, *fields: str) -> bool:
        if self.sock is None:
            return False
        try:
            self.sock.sendto("\n".join(fields).encode(), self.address)
        except OSError as exc:
            if not self.failed:  # once: a broken socket would otherwise log at every heartbeat
                log.warning("cannot notify systemd at %s: %s", self.address.replace("\0", "@"),
                            exc.strerror or exc, extra={"stage": "sdnotify"})
            self.failed = True
            return False
        return True

    def ready(self, status: str) -> bool:
        return self.send("READY=1", f"STATUS={status}", f"MAINPID={os.getpid()}")

    def reloading(self) -> bool:
        # MONOTONIC_USEC lets systemd (253+, Type=notify-reload) match the READY=1 that follows
        return self.send("RELOADING=1", f"MONOTONIC_USEC={time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000}")

    def stopping(self) -> bool:
        return self.send("STOPPING=1", "STATUS=stopping")

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={text}")


async def watchdog_loop(notifier: Notifier, probe: Callable[[], Awaitable[object]], stop: asyncio.Event) -> None:
    """WATCHDOG=1 every half period, each time only after `probe` (an empty job through the
    database thread) came back: a hung loop or a hung database thread stops the pings and
    systemd restarts the daemon (WatchdogSec= in the unit). The probe is not a query on
    purpose: a database server that is down is not a hang, and the daemon keeps taking mail
    into the spool meanwhile; restarting it would only refuse that mail."""
    interval = notifier.watchdog_interval
    if not interval:
        return
    while not stop.is_set():
        await probe()
        notifier.send("WATCHDOG=1")
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            pass
