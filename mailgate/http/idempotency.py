"""`Idempotency-Key` on POST: a retried request gets the first answer again instead of a
second change, as a re-delivered Message-ID is recognised. The key is kept with the
change, in its transaction; the same key with a different request is refused (422), as
the IETF draft on the header says."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from mailgate.db.access_models import IdempotentRequest
from mailgate.db.transaction import write_transaction
from mailgate.http.problems import Problem

HEADER = "Idempotency-Key"
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not _KEY_RE.match(key):
        raise Problem(400, f"{HEADER}: expected 1 to 255 visible ASCII characters")
    return key


def run_once(person_id: int, key: str | None, print_: str, do: Callable[[], tuple[int, Any]]
             ) -> tuple[int, Any, bool]:
    """In the writer thread: (status, body, replayed)."""
    if key is None:
        status, body = do()
        return status, body, False
    with write_transaction():
        seen = IdempotentRequest.get_or_none(IdempotentRequest.person == person_id, IdempotentRequest.key == key)
        if seen is not None:
            if seen.fingerprint != print_:
                raise Problem(422, f"{HEADER} {key!r} was used for a different request", slug="idempotency-mismatch")
            return seen.status, json.loads(seen.body), True
        status, body = do()
        IdempotentRequest.create(person=person_id, key=key, fingerprint=print_, status=status,
                                 body=json.dumps(body, ensure_ascii=False, default=str))
        return status, body, False
