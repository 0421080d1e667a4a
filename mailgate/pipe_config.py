"""The few settings `mailgate deliver` needs, without rebuilding the whole configuration
for every message when it has not changed.

Building the validated settings (21 frozen dataclasses, the checks across keys, tomllib)
costs about 30 ms of a ~90 ms pipe process, for a file that changes a few times a year. So
after a full, successful load the pipe writes a small record into the spool folder: the
fingerprint of what was validated (the config file's bytes and real path, MAILGATE_SECRET,
mailgate's own code) and the values the pipe needs (spool folder, size limit, queue
addresses, the SHA-256 of the secret, never the secret). The next delivery reuses it only
when the same fingerprint comes out again: the same input to the same validation code.
Anything else (a changed file, an upgrade, no record, a record that does not match) runs
the full loader, with its exact errors, and writes a new record.

The record is found without parsing the file: a line scan of the [store] table gives the
spool folder to look in. The scan is only a hint. A record is written by the loader alone,
into the folder it validated, naming that folder and the fingerprint of those exact bytes,
so a wrong hint finds no matching record and costs a full load, never a wrong answer.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~2.5 ms here)
if TYPE_CHECKING:
    from mailgate.config import Settings

RECORD_NAME = "pipe-config.json"
_VERSION = 3
# Where the full loader puts the spool when the file names none. Only a hint for finding
# the record: the record names the validated folder, and a difference means a full load.
_DEFAULT_SPOOL = "store/spool"
_PACKAGE = Path(__file__).resolve().parent


class PipeGateway:
    """gateway.max_message_size and gateway.secret; the secret is read from the validated
    bytes (or MAILGATE_SECRET) only when a reply address needs checking."""

    def __init__(self, path: Path, raw: bytes, max_message_size: int, secret_sha256: str) -> None:
        self.max_message_size = max_message_size
        self._path, self._raw, self._secret_sha256 = path, raw, secret_sha256
        self._secret: str | None = None

    @property
    def secret(self) -> str:
        if self._secret is None:
            self._secret = self._read_secret()
        return self._secret

    def _read_secret(self) -> str:
        import tomllib

        env = os.environ.get("MAILGATE_SECRET")
        data = tomllib.loads(self._raw.decode("utf-8"))
        gateway = data.get("gateway", {})
        candidate = env or gateway.get("secret")
        if isinstance(candidate, str) and _secret_hash(candidate) == self._secret_sha256:
            return candidate
        # the file relies on the default secret: the loader knows it (same bytes, validated)
        from mailgate.config import parse_settings

        return parse_settings(data, self._path).gateway.secret


class QueueAddress:
    __slots__ = ("address",)

    def __init__(self, address: str) -> None:
        self.address = address


class PipeDaemon:
    __slots__ = ("lease",)

    def __init__(self, lease: float) -> None:
        self.lease = lease


class PipeSettings:
    """The part of Settings the spooling pipe reads (path, spool_dir, spool_in_database,
    database_url, daemon.lease, gateway.max_message_size, gateway.secret, queue_for_address),
    taken from a validated record."""

    def __init__(self, path: Path, spool_dir: Path, gateway: PipeGateway, queues: list[str],
                 database_url: str = "", lease: float = 30.0) -> None:
        self.path = path
        self.spool_dir = spool_dir
        self.gateway = gateway
        self._queues = {a.lower(): QueueAddress(a) for a in queues}
        # the spool in the database: the pipe writes its row there (the record keeps the URL,
        # which is why it is readable by its owner only)
        self.spool_in_database = bool(database_url)
        self.database_url = database_url
        self.daemon = PipeDaemon(lease)

    def queue_for_address(self, address: str) -> QueueAddress | None:
        return self._queues.get(address.lower())


def _code_fingerprint() -> str:
    """mailgate's source files (name, size, mtime): an upgrade or an edit of any check
    invalidates every record."""
    parts: list[str] = []
    stack = [str(_PACKAGE)]
    while stack:
        with os.scandir(stack.pop()) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    if e.name != "__pycache__":
                        stack.append(e.path)
                elif e.name.endswith(".py"):
                    st = e.stat()
                    parts.append(f"{e.path}:{st.st_size}:{st.st_mtime_ns}")
    parts.sort()
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _fingerprint(path: Path, raw: bytes) -> str:
    h = hashlib.sha256(f"{_VERSION}\0{os.path.realpath(path)}\0".encode())
    h.update(os.environ.get("MAILGATE_SECRET", "").encode() + b"\0")
    h.update(_code_fingerprint().encode() + b"\0")
    h.update(raw)
    return h.hexdigest()


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _resolve(real_path: str, value: str) -> Path:
    p = Path(value).expanduser()  # the same resolution as Settings.resolve
    return p if p.is_absolute() else Path(real_path).parent / p


def _spool_hint(real_path: str, text: str) -> Path | None:
    """The spool folder as `spool = "..."` in [store] names it, else the default; None for
    forms this scan does not read (the full loader then runs)."""
    table = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            table = stripped.partition("#")[0].strip()
            continue
        if table != "[store]" or not stripped.startswith("spool"):
            continue
        key, eq, value = stripped.partition("=")
        if key.strip() != "spool" or not eq:
            continue
        value = value.strip()
        quote = value[:1]
        end = value.find(quote, 1) if quote in ('"', "'") else -1
        if end < 0 or "\\" in value[:end]:
            return None
        if value[1:end] in ("", "database"):  # the spool is rows of the database: the default folder keeps the record
            return _resolve(real_path, _DEFAULT_SPOOL)
        return _resolve(real_path, value[1:end])
    return _resolve(real_path, _DEFAULT_SPOOL)


def _from_record(path: Path) -> PipeSettings | None:
    try:
        raw = path.read_bytes()
        real_path = os.path.realpath(path)
        spool = _spool_hint(real_path, raw.decode("utf-8", "replace"))
        if spool is None:
            return None
        record = json.loads((spool / RECORD_NAME).read_bytes())
    except (OSError, ValueError):  # no record yet, unreadable file: the full loader says why
        return None
    if (not isinstance(record, dict) or record.get("version") != _VERSION
            or record.get("fingerprint") != _fingerprint(path, raw) or record.get("spool_dir") != str(spool)):
        return None
    gateway = PipeGateway(Path(real_path), raw, int(record["max_message_size"]), str(record["secret_sha256"]))
    return PipeSettings(Path(real_path), spool, gateway, [str(a) for a in record["queues"]],
                        str(record.get("database_url", "")), float(record.get("lease", 30.0)))


def _write_record(path: Path, raw: bytes, settings: Settings) -> None:
    """Best effort: a record that cannot be written only means the next run loads fully."""
    record = {"version": _VERSION, "fingerprint": _fingerprint(path, raw),
              "spool_dir": str(settings.spool_dir), "secret_sha256": _secret_hash(settings.gateway.secret),
              "max_message_size": settings.gateway.max_message_size,
              "queues": [q.address for q in settings.queues],
              "database_url": settings.database_url if settings.spool_in_database else "",
              "lease": settings.daemon.lease}
    target = settings.spool_dir / RECORD_NAME
    tmp = target.with_name(f".{RECORD_NAME}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        st = os.stat(settings.spool_dir)
        if st.st_uid != os.geteuid() and not (st.st_mode & 0o2020 == 0o2020):
            return  # another user's spool, not shared: this process will be refused (spool.py)
    except OSError:
        pass
    try:
        settings.spool_dir.mkdir(parents=True, exist_ok=True)
        # owner-only, like a key file: the secret's hash would let a reader test guesses
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(json.dumps(record))
        os.replace(tmp, target)  # readers see the old record or the new one, never half
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def load_pipe_settings(path: Path) -> PipeSettings | Settings:
    """The validated settings the pipe needs; raises ConfigError exactly as load_settings."""
    found = _from_record(path)
    if found is not None:
        return found
    from mailgate.config import load_settings

    before = _read(path)
    settings = load_settings(path)
    # the record must describe the bytes the loader validated: a file edited meanwhile
    # gets no record (the next delivery loads it in full)
    if before is not None and _read(path) == before:
        _write_record(path, before, settings)
    return settings
