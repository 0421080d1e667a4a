"""API tokens: `Authorization: Bearer mgt_<prefix>_<secret>`. A token acts as its person,
with that person's role and queues; revoking it ends it at once (every request reads the
row by its prefix: no cache to outlive a revocation)."""

from __future__ import annotations

from datetime import datetime, timedelta

from mailgate.access.secrets import matches, new_credential, split_credential
from mailgate.db.access_models import ApiToken
from mailgate.db.models import Person

KIND = "mgt"


def create_token(person: Person, name: str, now: datetime, expires_days: float | None = None,
                 created_by: str = "") -> tuple[str, ApiToken]:
    """(the token, shown once; its row)."""
    value, prefix, hashed = new_credential(KIND)
    row = ApiToken.create(person=person, name=name[:200], prefix=prefix, secret_hash=hashed, created_at=now,
                          expires_at=now + timedelta(days=expires_days) if expires_days else None,
                          created_by=created_by)
    return value, row


def find_token(value: str, now: datetime) -> ApiToken | None:
    """The live token a Bearer value names: well formed, known, not revoked, not expired."""
    prefix = split_credential(value, KIND)
    if prefix is None:
        return None
    row = ApiToken.get_or_none(ApiToken.prefix == prefix)
    if row is None or not matches(value, row.secret_hash) or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    return row


def revoke_token(token_id: int, now: datetime) -> ApiToken | None:
    row = ApiToken.get_or_none(ApiToken.id == token_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = now
        row.save()
    return row


def token_dict(t: ApiToken, now: datetime) -> dict[str, object]:
    state = "revoked" if t.revoked_at else "expired" if t.expires_at and t.expires_at <= now else "active"
    return {"id": t.id, "person": t.person.address, "name": t.name, "prefix": f"{KIND}_{t.prefix}_",
            "state": state, "created_at": _iso(t.created_at), "expires_at": _iso(t.expires_at),
            "last_used_at": _iso(t.last_used_at), "revoked_at": _iso(t.revoked_at), "created_by": t.created_by}


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() + "Z" if dt else None
