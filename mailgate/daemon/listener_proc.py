"""One listener process of `[daemon] listeners` (mailgate/daemon/listeners.py): the TCP
SMTP/LMTP listeners with SO_REUSEPORT, spooling each message itself before its 250.

    python -m mailgate.daemon.listener_proc CONFIG PIPE_FD LIFE_FD LOG_FORMAT INDEX

PIPE_FD: READY once listening, WOKEN after each spooled message (the daemon claims at once);
LIFE_FD: EOF when the daemon is gone (then this process stops, as on SIGTERM: sessions in
DATA get their answer, the others 421). SIGHUP reloads the configuration (queues, limits).
Exit 78 for a configuration error, 75 for a port that cannot be bound now.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from pathlib import Path

from mailgate.config import Settings, load_settings
from mailgate.core.errors import ConfigError, TransientError
from mailgate.daemon.listeners import READY, WOKEN, open_listeners
from mailgate.daemon.logs import setup_logging
from mailgate.daemon.smtp import Sessions
from mailgate.spools import open_spool

log = logging.getLogger("mailgate.daemon.listen")


class ListenerProcess:
    def __init__(self, config: Path, pipe_fd: int, life_fd: int, index: int) -> None:
        self.config = config
        self.pipe_fd = pipe_fd
        self.life_fd = life_fd
        self.index = index
        self.settings: Settings = load_settings(config)
        self.stop = asyncio.Event()
        self.sessions = Sessions()

    def _tell(self, what: bytes) -> None:
        try:
            os.write(self.pipe_fd, what)
        except (BlockingIOError, BrokenPipeError):
            pass  # the daemon polls the spool anyway; a gone daemon means we stop soon

    def _reload(self) -> None:
        try:
            self.settings = load_settings(self.config)
        except ConfigError as exc:
            log.error("reload failed, keeping the running configuration: %s", exc,
                      extra={"stage": "reload", "outcome": "rejected"})

    async def run(self) -> int:
        s = self.settings
        if s.spool_in_database:
            from mailgate.db.connect import connect_only

            connect_only(s.database_url)
        spool = open_spool(s)
        loop = asyncio.get_running_loop()
        listening = await open_listeners(s, lambda: self.settings, spool, lambda: self._tell(WOKEN), self.sessions,
                                         reuse_port=True)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        loop.add_signal_handler(signal.SIGHUP, self._reload)
        os.set_blocking(self.life_fd, False)
        loop.add_reader(self.life_fd, self._life)
        self._tell(READY)
        log.info("listener process %d serving (pid %d)", self.index, os.getpid(), extra={"stage": "startup"})
        await self.stop.wait()
        for server in listening.servers:
            server.close()
        deadline = time.monotonic() + s.daemon.grace_period
        while self.sessions.in_data and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        for session in list(self.sessions.open):
            session.close_for_shutdown()  # type: ignore[attr-defined]
        return 0

    def _life(self) -> None:
        try:
            data = os.read(self.life_fd, 64)
        except BlockingIOError:
            return
        if not data:  # the daemon is gone: stop as on SIGTERM
            asyncio.get_running_loop().remove_reader(self.life_fd)
            self.stop.set()


def main(argv: list[str]) -> int:
    config, pipe_fd, life_fd, log_format, index = Path(argv[0]), int(argv[1]), int(argv[2]), argv[3], int(argv[4])
    setup_logging(log_format)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C goes to the daemon, which stops us
    try:
        return asyncio.run(ListenerProcess(config, pipe_fd, life_fd, index).run())
    except ConfigError as exc:
        log.error("listener process %d: %s", index, exc, extra={"stage": "startup", "outcome": "config"})
        return 78
    except TransientError as exc:
        log.error("listener process %d: %s", index, exc, extra={"stage": "startup", "outcome": "tempfail"})
        return 75


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main(sys.argv[1:]))
