"""Content-addressed attachment files (sha256), written durably before the commit."""

from __future__ import annotations

import hashlib
from pathlib import Path

from mailgate.spool import _write_durably


def store_attachment(root: Path, payload: bytes) -> str:
    sha = hashlib.sha256(payload).hexdigest()
    path = root / sha[:2] / sha
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_durably(path, payload)
    return sha


def attachment_path(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256
