"""The worker-process side of preparation: the pure stages (parse → addressing → classify →
rules → clean) for `mailgate import` (mailgate.batch) and the daemon (daemon/preparer.py).

A worker process keeps one piece of state, `WorkerState` below: its Env and the generation
of the settings snapshot that Env was built from. It is set by the pool's initializer and
replaced when the daemon hands over a newer snapshot after a SIGHUP. Nothing else in a
worker outlives a call.

A prepared message travels back pickled with its early outcome (a PolicyOutcome or a
StageFailure); anything that cannot be pickled comes back as None, and the writer prepares
that message itself.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
from dataclasses import replace
from typing import Any

from mailgate.attachments import store_attachment
from mailgate.core.entry import SpoolEntry
from mailgate.core.errors import PolicyOutcome, StageFailure, TransientError
from mailgate.core.message import Inbound
from mailgate.env import Env, template_env, utc_clock

log = logging.getLogger("mailgate.prepare")

_PR_SET_PDEATHSIG = 1

_WARM_UP_MESSAGE = (
    b"From: Warm Up <warm-up@invalid>\r\nTo: nobody@invalid\r\nSubject: warm-up\r\n"
    b"Message-ID: <warm-up@invalid>\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
    b"Hello\r\n\r\n-- \r\nWarm Up\r\n\r\nOn Mon, 1 Jan 2024, X <x@invalid> wrote:\r\n> quoted\r\n"
    b"--b\r\nContent-Type: text/html\r\n\r\n<p>Hello</p><blockquote>quoted</blockquote>\r\n--b--\r\n"
)


class WorkerState:
    """This process's Env for the pure stages, and the snapshot generation it came from."""

    def __init__(self) -> None:
        self.env: Env | None = None
        self.generation = -1

    def build(self, settings: Any, rules: Any = None, generation: int = 0) -> Env:
        """`rules`: the writer's loaded RuleSet (the daemon passes it after a SIGHUP), None
        to load the rule files on first use."""
        from mailgate.spool import Spool

        self.env = Env(settings=settings, spool=Spool(settings.spool_dir), templates=template_env(settings),
                       clock=utc_clock, rules=rules)
        self.generation = generation
        return self.env


STATE = WorkerState()  # the one object a worker process keeps between calls


def warm_up(env: Env) -> None:
    """Run the pure stages once on a built-in message before claiming real mail. The first
    message otherwise pays for importing the parser and the clean stage's lexicons, and a claimed
    entry killed during that window would count a crash against a message that did nothing
    wrong (three such kills quarantine it)."""
    from mailgate.pipeline import prepare

    try:
        prepare(Inbound(entry=SpoolEntry("warm-up", "0" * 64, "warm-up"), raw=_WARM_UP_MESSAGE), env)
    except Exception:  # noqa: BLE001 - warming up is an optimisation only
        log.debug("warm-up failed", exc_info=True)


# --- for mailgate import (batch.py) --------------------------------------------------------


def init_import_worker(settings: Any) -> None:
    STATE.build(settings)
    import mailgate.clean  # noqa: F401  (pay the clean stage's imports once per worker, before the first message)


def prepare_remote(entry: SpoolEntry, raw: bytes, env: Env | None = None) -> bytes | None:
    """Run the pure stages; return the pickled (Inbound, early), or None when the result
    cannot be pickled (the writer then prepares the message itself)."""
    from mailgate.pipeline import prepare

    msg = Inbound(entry=entry, raw=raw)
    try:
        early = prepare(msg, env or STATE.env)  # type: ignore[arg-type]
    except TransientError:  # e.g. rule files unreadable: the writer meets it again and defers the group
        return None
    msg.raw = b""  # the writer has the bytes already: do not ship them back
    if early is None:
        store_files(msg, env or STATE.env)  # type: ignore[arg-type]
    try:
        return pickle.dumps((msg, early), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - an unpicklable signal: prepared again by the writer
        return None


def store_files(msg: Inbound, env: Env) -> None:
    """Write the attachment files here, durably (file and folder fsync'd), so the one
    writer only records their rows, and their bytes do not travel back pickled. On the
    realistic mix (bench/corpus_mix.py: 10% of the requests carry 20-200 KB) hashing,
    writing and fsyncing them in the writer, one after another, and unpickling their
    bytes there took ~9% of the writer's time. A message/rfc822 part keeps its bytes: the
    thread stage reads a bounce's returned headers from it. A failure leaves the file to
    the writer's store stage, which meets the error where the pipeline handles it."""
    p = msg.parsed
    if p is None or not p.attachments:
        return
    files = []
    for att in p.attachments:
        if att.sha256 or att.content_type == "message/rfc822":
            files.append(att)
            continue
        try:
            sha = store_attachment(env.settings.attachments_dir, att.payload)
        except OSError:
            files.append(att)
            continue
        files.append(replace(att, payload=b"", sha256=sha, stored_size=len(att.payload)))
    msg.parsed = replace(p, attachments=tuple(files))


def unpickle_prepared(payload: bytes) -> tuple[Inbound, PolicyOutcome | StageFailure | None]:
    msg, early = pickle.loads(payload)
    return msg, early


def spool_and_prepare(batch: list[tuple[bytes, str]]) -> list[tuple[SpoolEntry, bytes | None]]:
    """For `mailgate import`: spool the messages (raw bytes and entries claimed, all
    fsync'd: durability point 1) and only then run the pure stages on them."""
    env = STATE.env
    assert env is not None
    entries = env.spool.accept_claimed(batch)
    return [(entry, prepare_remote(entry, raw)) for entry, (raw, _) in zip(entries, batch, strict=True)]


# --- for the daemon (daemon/preparer.py) ---------------------------------------------------


def init_daemon_worker(parent_pid: int, settings: Any) -> None:
    """Ignore the daemon's signals (a terminal's Ctrl-C or systemd's SIGTERM to the whole
    group must not break the pool during the grace period) and die with the daemon."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1):
        signal.signal(sig, signal.SIG_IGN)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the orphan exits when its pipe breaks
        pass
    if os.getppid() != parent_pid:  # the daemon died before prctl took effect
        os._exit(0)
    init_import_worker(settings)


def warm_up_worker() -> int:
    assert STATE.env is not None
    warm_up(STATE.env)
    return os.getpid()


def prepare_spooled(generation: int, snapshot: bytes, entries: list[SpoolEntry],
                    raws: list[bytes] | None = None) -> list[bytes | None]:
    """In a daemon worker: read each message from the spool folder (the page cache has it:
    the daemon wrote it moments ago), or take the bytes sent along (`raws`: the spool is in
    the database), and run the pure stages."""
    if generation != STATE.generation:
        settings, rules = pickle.loads(snapshot)
        STATE.build(settings, rules, generation)
    env = STATE.env
    assert env is not None
    out: list[bytes | None] = []
    for i, entry in enumerate(entries):
        try:
            raw = raws[i] if raws is not None else env.spool.read_raw(entry.sha256)
        except OSError:
            out.append(None)  # the daemon reads it again and decides
            continue
        out.append(prepare_remote(entry, raw, env))
    return out
