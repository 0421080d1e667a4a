"""Credentials as `<kind>_<prefix>_<secret>`: the prefix (not secret) finds the row by an
index; the stored SHA-256 of the whole value is compared in constant time. A leaked
database therefore holds no usable credential."""

from __future__ import annotations

import hashlib
import hmac
import secrets

PREFIX_BYTES = 6  # 8 base64url characters: unique enough to index, never the secret
SECRET_BYTES = 24


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_credential(kind: str) -> tuple[str, str, str]:
    """(the value to hand out once, its prefix, its hash)."""
    prefix = secrets.token_urlsafe(PREFIX_BYTES).replace("_", "x").replace("-", "y")
    value = f"{kind}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    return value, prefix, digest(value)


def split_credential(value: str, kind: str) -> str | None:
    """The prefix of a well-formed credential of `kind`, None for anything else."""
    head, sep, rest = value.partition("_")
    prefix, sep2, secret = rest.partition("_")
    if head != kind or not sep or not sep2 or not prefix or not secret or len(value) > 200:
        return None
    return prefix


def matches(value: str, stored_hash: str) -> bool:
    return hmac.compare_digest(digest(value), stored_hash)
