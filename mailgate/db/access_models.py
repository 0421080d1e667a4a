"""Who may reach the store over HTTP (issue 13): API tokens, sign-in links, web sessions,
and the answers kept for an `Idempotency-Key`. Secrets are never stored: only a SHA-256 of
each, found by a short indexed prefix that is not secret, never by scanning."""

from __future__ import annotations

import peewee as pw

from mailgate.db.models import BaseModel, Person, Ticket, utcnow


class ApiToken(BaseModel):
    person = pw.ForeignKeyField(Person, backref="api_tokens", on_delete="CASCADE")
    name = pw.CharField(default="")
    prefix = pw.CharField(unique=True)  # the public part shown in listings: mgt_<prefix>_...
    secret_hash = pw.CharField()  # SHA-256 hex of the whole token
    created_at = pw.DateTimeField(default=utcnow)
    expires_at = pw.DateTimeField(null=True)
    revoked_at = pw.DateTimeField(null=True)
    last_used_at = pw.DateTimeField(null=True)
    created_by = pw.CharField(default="")


class LoginLink(BaseModel):
    """A single-use sign-in link mailed (or printed by `mailgate login-link`)."""

    person = pw.ForeignKeyField(Person, backref="login_links", on_delete="CASCADE")
    prefix = pw.CharField(unique=True)
    secret_hash = pw.CharField()
    created_at = pw.DateTimeField(default=utcnow)
    expires_at = pw.DateTimeField()
    used_at = pw.DateTimeField(null=True)


class WebSession(BaseModel):
    """A signed-in browser: the cookie holds a random value, this row its hash. Several
    nodes share the table, and a session is ended by setting revoked_at."""

    person = pw.ForeignKeyField(Person, backref="web_sessions", on_delete="CASCADE")
    prefix = pw.CharField(unique=True)
    secret_hash = pw.CharField()
    # None: the person's whole view; a ticket: signed in by a mail's ticket link, for that
    # ticket only (the link can sit in a mailbox for weeks)
    ticket = pw.ForeignKeyField(Ticket, null=True, backref="web_sessions", on_delete="CASCADE")
    csrf = pw.CharField()
    created_at = pw.DateTimeField(default=utcnow)
    last_seen_at = pw.DateTimeField(default=utcnow)
    expires_at = pw.DateTimeField()
    revoked_at = pw.DateTimeField(null=True)
    user_agent = pw.CharField(default="")
    address = pw.CharField(default="")  # the client's IP address when it signed in


class IdempotentRequest(BaseModel):
    """The first answer to a POST that carried an Idempotency-Key: a retry gets it again
    instead of a second change (like a re-delivered Message-ID)."""

    person = pw.ForeignKeyField(Person, backref="idempotent_requests", on_delete="CASCADE")
    key = pw.CharField()
    fingerprint = pw.CharField()  # method, path and body hash: the same key with another request is refused
    status = pw.IntegerField()
    body = pw.TextField()
    created_at = pw.DateTimeField(default=utcnow, index=True)

    class Meta:
        indexes = ((("person", "key"), True),)


ACCESS_MODELS: tuple[type[BaseModel], ...] = (ApiToken, LoginLink, WebSession, IdempotentRequest)
