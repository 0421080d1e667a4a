"""The daemon's composition root: one loop, one database thread, listeners, IMAP fetchers,
the spool worker, the scheduler and (when present) the outbox sender, each a supervised task
that is restarted if it crashes. Signals: TERM/INT stop, HUP reloads."""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from pathlib import Path

from mailgate.app import build_env
from mailgate.config import Settings
from mailgate.core.errors import ConfigError, TransientError
from mailgate.daemon.dbthread import DbThread, http_writer
from mailgate.daemon.imap import ImapFetcher
from mailgate.daemon.imap_lease import AccountLease
from mailgate.daemon.jobs import lifecycle_jobs
from mailgate.daemon.listeners import (
    KINDS,
    ListenerProcesses,
    Listening,
    open_listeners,
    tcp_listeners,
)
from mailgate.daemon.node import Node
from mailgate.daemon.preparer import Preparer, default_workers
from mailgate.daemon.reload import DEFAULT_HOOKS, ReloadHook, reload_env
from mailgate.daemon.scheduler import Job, Scheduler
from mailgate.daemon.sdnotify import Notifier, watchdog_loop
from mailgate.daemon.smtp import Sessions
from mailgate.daemon.worker import Worker
from mailgate.db.models import DaemonState, utcnow
from mailgate.db.task_health import clear_node, clear_task, record_crash
from mailgate.db.transaction import write_transaction
from mailgate.env import Env, utc_clock
from mailgate.http.server import HttpServer, http_server
from mailgate.outbox_sender import OutboxSender
from mailgate.spool import Spool
from mailgate.spool_db import node_name
from mailgate.spools import open_spool
from mailgate.stages.rules import load_rules_into_env
from mailgate.store_check import check_store

log = logging.getLogger("mailgate.daemon.serve")

# a restarted task that has run this long without crashing again is no longer failing
HEALTHY_AFTER = 60.0


class Daemon:
    def __init__(self, config_path: Path, settings: Settings, preparer: Preparer | None = None,
                 log_format: str = "text") -> None:
        self.config_path = config_path
        self.settings = settings
        self.preparer = preparer  # forked before this object starts its database thread
        self.log_format = log_format
        # the spool in the database: this process is one node of several (node.py), named
        # per process; with a spool folder, one daemon per folder, named by it
        self.several = settings.spool_in_database
        self.node = node_name() if self.several else f"{socket.gethostname()}:{settings.spool_dir}"[:250]
        self.spool = open_spool(settings, owner=self.node)
        self.stop = asyncio.Event()
        self.db = DbThread(transaction=write_transaction)
        self.sessions = Sessions()
        self.listening = Listening()
        self.listener_procs: ListenerProcesses | None = None
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.env: Env | None = None
        self.worker: Worker | None = None
        self.scheduler: Scheduler | None = None
        self.cluster: Node | None = None
        self.http: HttpServer | None = None
        self.lock_fd: int | None = None
        self.notify = Notifier.from_environ()  # systemd Type=notify; a no-op elsewhere

    def current_settings(self) -> Settings:
        return self.env.settings if self.env is not None else self.settings

    # --- start-up ------------------------------------------------------------------------

    async def start(self) -> None:
        s = self.settings
        check_store(s)  # a folder this user cannot write: one line and exit 78, not a traceback later
        try:
            self.lock_fd = self.spool.hold_daemon_lock()
        except RuntimeError as exc:
            raise TransientError(str(exc)) from None
        self.env = env = await self.db.run(build_env, s, utc_clock, self.spool)
        # rules are validated now, so a bad rule file stops the start with its name (exit 78)
        await self.db.run(load_rules_into_env, env)
        recovered = await self.db.run(self.spool.recover)
        backlog = len(await self.db.run(self.spool.pending))
        log.info("spool %s: %d entries recovered from a previous run, %d waiting",
                 "in the database" if self.several else s.spool_dir, recovered, backlog, extra={"stage": "startup"})
        self.worker = Worker(env, self.db, s.daemon.spool_poll_interval, s.daemon.group_size, self.preparer,
                             accepting=self._accepting, yield_max=s.daemon.yield_to_ingest,
                             send_raw=self.several)
        await self._register()
        await self._listen()
        self.http = http_server(env, http_writer(self.db, s))
        if self.http is not None:
            self.supervise("http", self.http.serve)
            log.info("HTTP listening on %s (web desk and API: %s)", self.http.address, s.web_base_url,
                     extra={"stage": "startup"})
            admin = next((p.address for p in s.people if p.role == "admin"), "YOUR-ADDRESS")
            log.info("web desk: %s  first sign-in: mailgate login-link %s  (prints a one-time link)",
                     s.web_base_url, admin, extra={"stage": "startup"})
        self.supervise("worker", lambda: self.worker.run(self.stop))  # type: ignore[union-attr]
        self._start_jobs(env)
        lease = s.daemon.lease
        for account in s.imap:
            held = AccountLease(account.name, self.node, lease, self.db.run) if self.several else None
            fetcher = ImapFetcher(account, self.current_settings, self.spool, self.db, self.worker.wake, held,
                                  lease_retry=max(0.5, lease / 6))
            self.supervise(f"imap:{account.name}", lambda f=fetcher: f.run(self.stop))
        sender = OutboxSender(env, owner=self.node)
        self.supervise("outbox", lambda: sender.run(self.stop))
        if self.notify.watchdog_interval:
            self.supervise("watchdog", lambda: watchdog_loop(self.notify, lambda: self.db.run(int), self.stop))
        log.info("mailgate daemon running (pid %d)%s", os.getpid(), f" as node {self.node}" if self.several else "",
                 extra={"stage": "startup"})
        # the listeners are bound and listening: a connection made from now on is served
        self.notify.ready(f"running; {len(self.listening.servers)} listener(s), backlog {backlog}")

    def _accepting(self) -> bool:
        """Mail arriving now, in this loop's sessions or through the listener processes."""
        procs = self.listener_procs
        return self.sessions.accepting() or (procs is not None and procs.accepting())

    async def _register(self) -> None:
        if not self.several:
            await self.db.run(self._register_row)
            return
        roles = [k for k, _ in KINDS if getattr(self.settings.listen, k).enabled]
        roles += ["worker", "outbox", "scheduler"] + [f"imap:{a.name}" for a in self.settings.imap]
        roles += ["http"] if self.settings.listen.http.enabled else []
        self.cluster = Node(self.node, ",".join(roles), self.settings.daemon.lease,
                            self.settings.daemon.heartbeat_interval, lambda: self.worker.processed if self.worker else 0)
        await self.cluster.start()

    async def _listen(self) -> None:
        s = self.settings
        procs = s.daemon.listeners if tcp_listeners(s) else 0
        assert self.worker is not None
        self.listening = await open_listeners(s, self.current_settings, self.spool, self.worker.wake, self.sessions,
                                              tcp=procs == 0, reuse_port=self.several)
        if procs:
            self.listener_procs = ListenerProcesses(self.config_path, procs, self.worker.wake, self.log_format)
            await self.listener_procs.start()
            self.supervise("listeners", lambda: self.listener_procs.watch(self.stop))  # type: ignore[union-attr]

    def _start_jobs(self, env: Env) -> None:
        s = self.settings
        self.scheduler = Scheduler(self.db, utc_clock, owner=self.node, lease=s.daemon.lease)
        if self.cluster is not None:  # each node beats for itself, outside the shared jobs
            self.supervise("node", lambda: self.cluster.run(self.stop))  # type: ignore[union-attr]
        else:
            self.scheduler.register(Job("heartbeat", self._heartbeat, timedelta(seconds=s.daemon.heartbeat_interval)))
        # issue 7: snooze wake-ups, SLA warnings, escalation, archive, daily digests
        for job in lifecycle_jobs(env):
            self.scheduler.register(job)
        self.supervise("scheduler", lambda: self.scheduler.run(self.stop))  # type: ignore[union-attr]

    def supervise(self, name: str, factory: Callable[[], Awaitable[None]]) -> None:
        """Run a task, restarting it with backoff when it crashes. Every crash is recorded
        (`mailgate status` reports the task as failing, with its last exception, and exits
        non-zero) until the restarted task has run for HEALTHY_AFTER seconds."""
        async def run() -> None:
            delay, failing = 1.0, False
            while not self.stop.is_set():
                try:
                    await self._run_task(name, factory, failing)
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - restart the component, keep the daemon
                    log.exception("task %s crashed; restarting in %.0fs", name, delay,
                                  extra={"stage": name, "outcome": "restart"})
                    failing = True
                    await self._health(record_crash, self.node, name, f"{type(exc).__name__}: {exc}")
                    try:
                        await asyncio.wait_for(self.stop.wait(), delay)
                    except TimeoutError:
                        pass
                    delay = min(delay * 2, 60.0)

        self.tasks[name] = asyncio.get_running_loop().create_task(run(), name=name)

    async def _run_task(self, name: str, factory: Callable[[], Awaitable[None]], failing: bool) -> None:
        task = asyncio.ensure_future(factory())
        try:
            if failing:
                done, _ = await asyncio.wait({task}, timeout=HEALTHY_AFTER)
                if not done:
                    await self._health(clear_task, self.node, name)
                    log.info("task %s has run for %.0fs since its restart: recovered", name, HEALTHY_AFTER,
                             extra={"stage": name, "outcome": "recovered"})
            await task
        except BaseException:
            task.cancel()
            raise

    async def _health(self, fn: Callable[..., object], *args: object) -> None:
        """Record a task's health; the record must never become a second way to crash."""
        try:
            await asyncio.wait_for(self.db.run(fn, *args), 10.0)
        except Exception:  # noqa: BLE001 - the database may be what is failing: the log has it
            log.warning("could not record the health of task %s", args[1], exc_info=True,
                        extra={"stage": "supervise"})

    # --- jobs and state (database thread) ----------------------------------------------------

    def _register_row(self) -> None:
        now = utcnow()
        clear_node(self.node)
        host = socket.gethostname()
        DaemonState.insert(node=self.node, pid=os.getpid(), started_at=now, heartbeat_at=now, stopped_at=None,
                           processed=0, host=host, role="daemon").on_conflict(
            conflict_target=[DaemonState.node],
            update={DaemonState.pid: os.getpid(), DaemonState.started_at: now, DaemonState.heartbeat_at: now,
                    DaemonState.stopped_at: None, DaemonState.processed: 0, DaemonState.host: host}).execute()

    def _heartbeat(self) -> str:
        processed = self.worker.processed if self.worker else 0
        DaemonState.update(heartbeat_at=utcnow(), processed=processed, pid=os.getpid()).where(
            DaemonState.node == self.node).execute()
        text = f"spool backlog {self.spool.backlog()}, processed {processed}, sessions {len(self.sessions.open)}"
        self.notify.status(text)
        return text

    def _stopped(self) -> None:
        # the count as of the stop, not of the last heartbeat
        processed = self.worker.processed if self.worker else 0
        DaemonState.update(stopped_at=utcnow(), processed=processed).where(DaemonState.node == self.node).execute()

    # --- signals -----------------------------------------------------------------------------

    def reload_hooks(self) -> Mapping[str, ReloadHook]:
        return DEFAULT_HOOKS

    async def reload(self) -> None:
        assert self.env is not None
        self.notify.reloading()
        if self.listener_procs is not None:
            self.listener_procs.reload()
        try:
            await self.db.run(reload_env, self.env, self.config_path, self.reload_hooks())
        except ConfigError as exc:
            log.error("reload failed, keeping the running configuration: %s", exc,
                      extra={"stage": "reload", "outcome": "rejected"})
            self.notify.ready(f"running; reload failed: {exc}")
            return
        except Exception:  # noqa: BLE001
            log.exception("reload failed, keeping the running configuration",
                          extra={"stage": "reload", "outcome": "rejected"})
            self.notify.ready("running; reload failed (see the log)")
            return
        log.info("configuration reloaded from %s", self.config_path, extra={"stage": "reload", "outcome": "ok"})
        self.notify.ready("running; configuration reloaded")

    def install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._request_stop, sig.name)
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(self.reload()))
        # SIGUSR1: where is everything? thread stacks and every task's await point, to stderr
        loop.add_signal_handler(signal.SIGUSR1, dump_stacks)

    def _request_stop(self, name: str) -> None:
        if not self.stop.is_set():
            log.info("%s: stopping (grace period %gs)", name, self.settings.daemon.grace_period,
                     extra={"stage": "shutdown"})
            self.notify.stopping()
        self.stop.set()

    # --- shutdown ----------------------------------------------------------------------------

    async def shutdown(self) -> bool:
        """Stop accepting, let messages being spooled get their answer, let the worker finish
        the message in hand. Returns False if the grace period ran out (the entry in hand is
        retried at the next start: nothing is lost)."""
        deadline = time.monotonic() + self.settings.daemon.grace_period
        self.stop.set()
        if self.http is not None:
            self.http.stop()  # answers in progress finish; no new connections
        for server in self.listening.servers:
            server.close()
        for path in self.listening.unix_sockets:
            with contextlib.suppress(OSError):
                path.unlink()
        if self.listener_procs is not None:  # each finishes the messages it is spooling
            await asyncio.get_running_loop().run_in_executor(
                None, self.listener_procs.stop, max(0.5, deadline - time.monotonic()))
        while self.sessions.in_data and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        for session in list(self.sessions.open):
            session.close_for_shutdown()  # type: ignore[attr-defined]
        clean = True
        worker = self.tasks.get("worker")
        if worker is not None:
            try:
                await asyncio.wait_for(asyncio.shield(worker), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                clean = False
                in_hand = self.worker is not None and self.worker.busy
                log.warning("grace period over %s; exiting anyway (the spool keeps everything for the next start)",
                            "with a message in hand" if in_hand else "while the worker was starting",
                            extra={"stage": "shutdown", "outcome": "deferred"})
        http = self.tasks.get("http")
        if http is not None and not http.done():  # let uvicorn finish the answers it is writing
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(http), max(0.5, min(3.0, deadline - time.monotonic())))
        if self.http is not None:
            self.http.close()
        others = [t for name, t in self.tasks.items() if name != "worker" and not t.done()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        if clean:
            try:
                stopping = self.cluster.stop() if self.cluster is not None else self.db.run(self._stopped)
                await asyncio.wait_for(stopping, max(0.5, deadline - time.monotonic()))
            except Exception:  # noqa: BLE001 - state is informational only (leases end by themselves)
                pass
            self.db.stop()
        if self.preparer is not None and clean:
            self.preparer.close()
        if self.lock_fd is not None:
            os.close(self.lock_fd)
        log.info("stopped", extra={"stage": "shutdown", "outcome": "clean" if clean else "deferred"})
        return clean


def dump_stacks() -> None:
    faulthandler.dump_traceback(all_threads=True)
    for task in asyncio.all_tasks():
        print(f"--- task {task.get_name()}", file=sys.stderr)
        task.print_stack(file=sys.stderr)
    sys.stderr.flush()


def start_preparer(settings: Settings) -> Preparer | None:
    """Fork the preparing workers now: before the database thread (or any other) exists.
    Not when another daemon holds the spool: this start is about to be refused."""
    workers = default_workers(settings.daemon.workers)
    if workers == 0 or (not settings.spool_in_database and Spool(settings.spool_dir).daemon_running()):
        return None
    return Preparer(settings, workers)


async def serve(config_path: Path, settings: Settings, log_format: str | None = None) -> int:
    preparer = start_preparer(settings)
    daemon = Daemon(config_path, settings, preparer, log_format or settings.daemon.log_format)
    daemon.install_signals()
    try:
        await daemon.start()
    except BaseException:
        daemon.stop.set()
        for t in daemon.tasks.values():
            t.cancel()
        if preparer is not None:
            preparer.close()
        raise
    await daemon.stop.wait()
    clean = await daemon.shutdown()
    if not clean:
        logging.shutdown()
        os._exit(0)  # the database thread is mid-transaction: leave without waiting for it
    return 0
