"""One queued raw message. Imports nothing heavy: the MTA pipe builds one per message."""

from __future__ import annotations

from collections import namedtuple


class SpoolEntry(namedtuple("SpoolEntry", "name sha256 source recipients received_at attempts extra")):
    """One queued message: name: str, sha256: str, source: str, recipients: tuple[str, ...],
    received_at: float, attempts: int, extra: dict. Immutable. A named tuple, not a
    dataclass: importing dataclasses (inspect, ast, dis, tokenize) cost every `mailgate
    deliver` process ~8 ms of its ~45."""

    __slots__ = ()

    def __new__(cls, name: str, sha256: str, source: str, recipients: tuple[str, ...] = (),
                received_at: float = 0.0, attempts: int = 0, extra: dict | None = None) -> SpoolEntry:
        return super().__new__(cls, name, sha256, source, recipients, received_at, attempts,
                               {} if extra is None else extra)
