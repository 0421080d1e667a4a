"""Drain the spool through the pipeline, one message at a time, in the database thread.

New entries come from our own listeners (they call `wake`) and from `mailgate deliver`
processes, which only spool while the daemon runs: a short poll of queue/ notices those.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from mailgate.daemon.dbthread import DbThread
from mailgate.errors import TransientError
from mailgate.pipeline import Outcome, process_entry
from mailgate.stages.base import Env

log = logging.getLogger("mailgate.daemon.worker")

# after a transient failure (database locked or down) wait before trying the queue again
TRANSIENT_BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)


class Worker:
    def __init__(self, env: Env, db: DbThread, poll_interval: float) -> None:
        self.env = env
        self.db = db
        self.poll_interval = poll_interval
        self.processed = 0
        self._wake = asyncio.Event()
        self._failures = 0
        self.busy = False  # a message is in hand (shutdown waits for it)
        self.on_outcome: list[Callable[[Outcome], None]] = []

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        await self.db.run(warm_up, self.env)
        while not stop.is_set():
            self._wake.clear()
            names = await asyncio.get_running_loop().run_in_executor(None, self.env.spool.pending)
            for name in names:
                if stop.is_set():
                    return
                self.busy = True
                try:
                    ok = await self.db.run(self._process_one, name)
                finally:
                    self.busy = False
                if not ok:
                    await self._backoff(stop)
                    break
            if not names:
                await _wait_any(stop, self._wake, self.poll_interval)

    def _process_one(self, name: str) -> bool:
        """Runs in the database thread. False means: stop draining and back off."""
        env = self.env
        entry = env.spool.claim(name)
        if entry is None:
            return True  # `mailgate process` or another worker took it
        try:
            outcome = process_entry(entry, env)
        except TransientError as exc:
            env.spool.release(entry)
            log.warning("deferred, will retry: %s", exc,
                        extra={"message_id": entry.sha256[:12], "outcome": "deferred", "source": entry.source})
            return False
        except Exception:  # noqa: BLE001 - a bug outside the stages: keep the entry, keep running
            env.spool.release(entry)
            log.exception("processing failed outside the stages; entry kept for retry (attempt %d)",
                          entry.attempts, extra={"message_id": entry.sha256[:12], "outcome": "error",
                                                 "source": entry.source})
            return False
        self._failures = 0
        self.processed += 1
        stage = outcome.detail.split(":", 1)[0] if outcome.status == "quarantined" and ":" in outcome.detail else "pipeline"
        level = logging.WARNING if outcome.status == "quarantined" else logging.INFO
        log.log(level, "%s%s", outcome.status,
                f" ({outcome.detail})" if outcome.detail and outcome.status != "stored" else
                f" via {outcome.detail}" if outcome.detail else "",
                extra={"message_id": outcome.message_id or entry.sha256[:12], "stage": stage,
                       "ticket": outcome.ticket_id, "outcome": outcome.status, "source": entry.source})
        for hook in self.on_outcome:
            hook(outcome)
        return True

    async def _backoff(self, stop: asyncio.Event) -> None:
        delay = TRANSIENT_BACKOFF[min(self._failures, len(TRANSIENT_BACKOFF) - 1)]
        self._failures += 1
        await _wait_any(stop, asyncio.Event(), delay)


_WARM_UP_MESSAGE = (
    b"From: Warm Up <warm-up@invalid>\r\nTo: nobody@invalid\r\nSubject: warm-up\r\n"
    b"Message-ID: <warm-up@invalid>\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
    b"Hello\r\n\r\n-- \r\nWarm Up\r\n\r\nOn Mon, 1 Jan 2024, X <x@invalid> wrote:\r\n> quoted\r\n"
    b"--b\r\nContent-Type: text/html\r\n\r\n<p>Hello</p><blockquote>quoted</blockquote>\r\n--b--\r\n"
)


def warm_up(env: Env) -> None:
    """Run the pure stages once on a built-in message before claiming real mail. The first
    message otherwise pays for importing the parser and talon (about a second), and a claimed
    entry killed during that window would count a crash against a message that did nothing
    wrong (three such kills quarantine it)."""
    from mailgate.pipeline import prepare
    from mailgate.spool import SpoolEntry
    from mailgate.stages.base import Inbound

    try:
        prepare(Inbound(entry=SpoolEntry("warm-up", "0" * 64, "warm-up"), raw=_WARM_UP_MESSAGE), env)
    except Exception:  # noqa: BLE001 - warming up is an optimisation only
        log.debug("warm-up failed", exc_info=True)


async def _wait_any(stop: asyncio.Event, other: asyncio.Event, timeout: float) -> None:
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(other.wait())]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
