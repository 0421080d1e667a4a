"""The raw spool: the first durability point of every message.

Layout under the spool directory:
  raw/ab/<sha256>        the bytes exactly as received, immutable, content-addressed
  queue/<entry>.json     a message waiting to be processed (source, recipients, attempts)
  processing/<entry>     claimed by a worker; left behind by a crash, recovered on start-up
  unreadable/<entry>     set aside: this user cannot read the entry or its bytes (yet)
  daemon.lock            flock'ed by a running daemon, so `mailgate deliver` only spools

Every write is file → fsync → rename → fsync(directory), so once `accept()` returns the
message survives kill -9 and power loss. This module imports nothing heavy: the MTA pipe
path (`mailgate deliver`) must start fast.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import time
from pathlib import Path

from mailgate.core.entry import SpoolEntry
from mailgate.core.errors import TransientError
from mailgate.core.spool import MAX_ATTEMPTS

__all__ = ["MAX_ATTEMPTS", "Spool", "SpoolOwnerError"]

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the MTA pipe's path)
if TYPE_CHECKING:
    from typing import Any

    from mailgate.core.spool import Claimed


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, data: bytes, sync_dir: bool = True, mode: int | None = None) -> None:
    # unique per writer: two threads spooling the same bytes must not share a temporary file
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        try:
            if mode is not None:
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        # a half-written temporary file on a full disk would keep it full for the retry
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if sync_dir:  # callers writing many files sync each folder once afterwards
        _fsync_dir(path.parent)


def _write_all_durably(files: dict[Path, bytes], dirs: set[Path], each: Any, mode: int | None = None) -> None:
    """_write_durably for many files at once: every file is written, then all are fsync'd
    from a few threads at the same time (the filesystem's journal commits concurrent fsyncs
    together: on this project's ext4 a batch of 32 files syncs in about half the wall time),
    then renamed into place, then each folder is fsync'd. Nothing is renamed before its
    data is on disk, and the function returns only when everything is. `each(fn, items)`
    runs fn on every item (the spool's sync threads for many); `mode`: set exactly, whatever
    the umask (a shared spool's files must stay readable by the group)."""
    opened: list[tuple[Path, Path, int]] = []
    try:
        for path, data in files.items():
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            opened.append((path, tmp, fd))
            if mode is not None:
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        each(os.fsync, [fd for _, _, fd in opened])
        while opened:  # in the callers' order: the raw bytes before the entry naming them
            path, tmp, fd = opened[0]
            os.close(fd)
            del opened[0]
            os.replace(tmp, path)
        each(_fsync_dir, list(dirs))
    finally:
        for _, tmp, fd in opened:  # failed before a rename: nothing half-written stays
            os.close(fd)
            try:
                os.unlink(tmp)
            except OSError:
                pass


class SpoolOwnerError(TransientError):
    """This process may not write the spool: the daemon could not read what it wrote."""


class Spool:
    """The spool in a folder of this host (SpoolStore): one daemon per spool."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.raw_dir = self.root / "raw"
        self.queue_dir = self.root / "queue"
        self.processing_dir = self.root / "processing"
        # entries this process cannot read (another user wrote them): out of the queue's way
        # until they are readable again (Worker puts them back)
        self.unreadable_dir = self.root / "unreadable"
        self._made = False
        self._access: tuple[int | None, int | None] | None = None  # (file mode, folder mode)
        self._threads: Any = None  # mailgate.spool_threads.SpoolThreads, made on first use
        self.next_requeue = 0.0  # monotonic time to look at entries set aside again (spool_group)

    def _ensure(self) -> None:
        if not self._made:
            _, dir_mode = self._writer_modes()
            for d in (self.raw_dir, self.queue_dir, self.processing_dir, self.unreadable_dir):
                self._mkdir(d, dir_mode, parents=True)
            self._made = True

    @staticmethod
    def _mkdir(path: Path, mode: int | None, parents: bool = False) -> bool:
        """True when the folder was made now. A shared spool's folder gets the spool's own
        mode (group-writable, set-gid) whatever this process's umask is."""
        if path.is_dir():
            return False
        path.mkdir(parents=parents, exist_ok=True)
        if mode is not None:
            os.chmod(path, mode)
        return True

    def _writer_modes(self) -> tuple[int | None, int | None]:
        """Who may write here, checked once per Spool. The spool's owner may; so may anyone
        else when the spool is shared with a group (group-writable and set-gid: what they
        write belongs to the group, and is made group-readable, so the daemon reads it).
        Anyone else is refused: files they wrote would stop the daemon (issue 17).
        Returns the (file, folder) modes to set in a shared spool, None when not shared."""
        if self._access is None:
            try:
                st = os.stat(self.root)
            except FileNotFoundError:  # made now, by and for this user
                self._access = (None, None)
                return self._access
            shared = bool(st.st_mode & 0o2000) and bool(st.st_mode & 0o020)
            if st.st_uid != os.geteuid() and not shared:
                from mailgate.spool_owner import owner_message

                raise SpoolOwnerError(owner_message(self.root, st.st_uid))
            self._access = (0o640, st.st_mode & 0o7777) if shared else (None, None)
        return self._access

    def _each(self, fn: Any, items: list) -> None:
        """fn on every item; from the sync threads when there are many (a single message's two
        files sync faster in this thread than a thread hand-off costs, and `mailgate deliver`
        must not import concurrent.futures)."""
        if len(items) <= 3:
            for item in items:
                fn(item)
            return
        self._spool_threads().each(fn, items)

    def _spool_threads(self) -> Any:
        if self._threads is None:
            from mailgate.spool_threads import SpoolThreads

            self._threads = SpoolThreads(self)
        return self._threads

    def raw_path(self, sha256: str) -> Path:
        return self.raw_dir / sha256[:2] / sha256

    def store_raw(self, raw: bytes) -> str:
        """Store bytes content-addressed; returns the SHA-256. Idempotent."""
        self._ensure()
        file_mode, dir_mode = self._writer_modes()
        sha = hashlib.sha256(raw).hexdigest()
        path = self.raw_path(sha)
        if not path.exists():
            self._mkdir(path.parent, dir_mode)
            _write_durably(path, raw, mode=file_mode)
        return sha

    def accept(self, raw: bytes, source: str, recipients: tuple[str, ...] = (), **extra: object) -> SpoolEntry:
        """Durably store a message and queue it. Only after this returns may anyone say 250.

        Raises TransientError when the disk cannot take it, so callers answer 451 / exit 75.
        """
        try:
            self._ensure()
            file_mode, dir_mode = self._writer_modes()
            sha = hashlib.sha256(raw).hexdigest()
            now = time.time()
            name = f"{time.time_ns():020d}-{sha[:16]}-{os.getpid()}-{os.urandom(3).hex()}.json"
            entry = SpoolEntry(name, sha, source, tuple(recipients), now, 0, dict(extra))
            # raw bytes and entry written and synced together (the second fsync finds the
            # journal already committed), the raw file renamed into place before the entry so
            # a worker never claims an entry whose bytes are not there; both folders synced
            # before returning
            files: dict[Path, bytes] = {}
            dirs = {self.queue_dir}
            path = self.raw_path(sha)
            if not path.exists():
                if self._mkdir(path.parent, dir_mode):
                    dirs.add(self.raw_dir)
                files[path] = raw
                dirs.add(path.parent)
            files[self.queue_dir / name] = json.dumps(entry._asdict()).encode()
            _write_all_durably(files, dirs, self._each, file_mode)
            return entry
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EIO):
                raise TransientError(f"spool cannot store message: {reason}") from exc
            raise TransientError(f"spool error: {reason}") from exc

    def accept_claimed(self, batch: list[tuple[bytes, str]]) -> list[SpoolEntry]:
        """Batch import: durably store messages and claim them for this process in one step
        (each entry goes straight to processing/ with its first attempt counted), syncing
        each folder once per batch instead of once per file. The guarantee is accept()'s
        plus claim()'s: nothing is returned before every file and its folder are on disk,
        and a crash leaves the entries for recover(). Raises TransientError like accept()."""
        try:
            self._ensure()
            file_mode, dir_mode = self._writer_modes()
            dirs: set[Path] = {self.processing_dir}
            entries = []
            files: dict[Path, bytes] = {}
            for raw, source in batch:
                sha = hashlib.sha256(raw).hexdigest()
                path = self.raw_path(sha)
                if path not in files and not path.exists():
                    self._mkdir(path.parent, dir_mode)
                    files[path] = raw
                    dirs.add(path.parent)
                name = f"{time.time_ns():020d}-{sha[:16]}-{os.getpid()}-{os.urandom(3).hex()}.json"
                entry = SpoolEntry(name, sha, source, (), time.time(), 1, {})
                files[self.processing_dir / name] = json.dumps(entry._asdict()).encode()
                entries.append(entry)
            dirs.add(self.raw_dir)  # a shard folder made just now must survive too
            _write_all_durably(files, dirs, self._each, file_mode)
            return entries
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise TransientError(f"spool cannot store message: {reason}") from exc

    def read_raw(self, sha256: str) -> bytes:
        return self.raw_path(sha256).read_bytes()

    def pending(self) -> list[str]:
        """Queue entry names, oldest first."""
        self._ensure()
        return sorted(n for n in os.listdir(self.queue_dir) if n.endswith(".json"))

    def backlog(self) -> int:
        self._ensure()
        return len(self.pending()) + len(os.listdir(self.processing_dir))

    def counts(self) -> dict[str, int]:
        """Entries queued, in processing and set aside, for `mailgate status`: reads only,
        so a spool no daemon has used yet (no folders) is simply empty."""
        out = {}
        for key, folder in (("queued", self.queue_dir), ("processing", self.processing_dir),
                            ("set_aside", self.unreadable_dir)):
            try:
                out[key] = sum(1 for n in os.listdir(folder) if n.endswith(".json"))
            except FileNotFoundError:
                out[key] = 0
        return out

    def claim(self, name: str) -> SpoolEntry | None:
        """Move an entry to processing/ (atomic, so two workers never take the same one) and
        count the attempt before any work starts: a message that kills the process is
        recognised on the next start by its attempt count. An entry this process cannot
        read is set aside and spool_aside.UnreadableEntry raised: it must not stop the queue.

        Neither step is fsync'd, on purpose. The count guards against the *process* dying
        (kill -9, a crash in a C library), and a dead process loses nothing it wrote: the
        kernel keeps it. Only a power loss can drop an unsynced count, and then the cost is
        one more attempt, never a lost message (the entry is in queue/ or processing/ either
        way, and recovery takes both). Syncing cost the database thread two fsyncs a
        message, competing with the commit's fsync and SMTP's acceptances for the journal."""
        src = self.queue_dir / name
        dst = self.processing_dir / name
        try:
            os.rename(src, dst)
        except FileNotFoundError:
            return None
        try:
            data = json.loads(dst.read_bytes())
        except (OSError, ValueError) as exc:  # another user's file, or damaged: out of the way
            from mailgate.spool_aside import set_aside_unreadable

            raise set_aside_unreadable(self, name, exc) from exc
        data["attempts"] = int(data.get("attempts", 0)) + 1
        tmp = dst.with_name(f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        tmp.write_bytes(json.dumps(data).encode())
        os.replace(tmp, dst)
        data["recipients"] = tuple(data.get("recipients", ()))
        return SpoolEntry(**data)

    def claim_group(self, limit: int, alone: bool) -> tuple[Claimed, int]:
        from mailgate.spool_group import claim_group

        return claim_group(self, limit, alone)

    def hold(self, entries: list[SpoolEntry]) -> set[str]:
        """A claimed file is this process's until it forgets or releases it."""
        return {e.name for e in entries}

    def settle(self, entries: list[SpoolEntry]) -> None:
        """Nothing to do inside the transaction: files are forgotten after its commit."""

    def done(self, entry: SpoolEntry) -> None:
        """The second durability point has passed (database commit): forget the entry."""
        try:
            os.unlink(self.processing_dir / entry.name)
        except FileNotFoundError:
            pass

    def forget(self, entries: list[SpoolEntry]) -> None:
        """`done()` for many entries, in a background thread. An unlink on this disk takes
        0.5-1 ms of waiting for the journal, which the single database writer must not
        spend per message. Forgetting is not a durability point: an entry still there after
        a crash is recovered and the (Message-ID, content hash) check finds its message
        already stored. `flush()` (also run at exit) waits until all are gone."""
        if entries:
            self._spool_threads().forget([self.processing_dir / e.name for e in entries])

    def flush(self) -> None:
        """Wait until every entry handed to `forget()` is gone."""
        if self._threads is not None:
            self._threads.flush()

    def release(self, entry: SpoolEntry) -> None:
        """Put a claimed entry back (transient failure): it will be retried."""
        try:
            os.rename(self.processing_dir / entry.name, self.queue_dir / entry.name)
        except FileNotFoundError:
            pass

    def recover(self) -> int:
        """On start-up: entries a dead process was working on go back to the queue."""
        self._ensure()
        names = [n for n in os.listdir(self.processing_dir) if n.endswith(".json")]
        for n in names:
            os.rename(self.processing_dir / n, self.queue_dir / n)
        return len(names)

    # --- daemon presence, so the MTA pipe can hand off instead of processing inline ---

    @property
    def lock_path(self) -> Path:
        return self.root / "daemon.lock"

    def hold_daemon_lock(self) -> int:
        """Take the daemon lock; returns the fd to keep open. Raises if another daemon runs."""
        self._ensure()
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RuntimeError(f"another mailgate daemon holds {self.lock_path}") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        return fd

    def daemon_running(self) -> bool:
        try:
            fd = os.open(self.lock_path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        except PermissionError:  # cannot tell: the entry waits in the spool rather than being processed
            return True  # here by a user whose files the daemon's database would not take
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

