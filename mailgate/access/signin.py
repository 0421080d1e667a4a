"""Sign-in by mail, and the web sessions it opens: no passwords to store.

A person enters their address; a single-use link is mailed (stored as a hash, valid for
`[web] login_link_minutes`, used once); opening it asks for one click (a POST: mail
scanners that fetch every link must not use it up) and opens a session. The session is a
random value in an HttpOnly cookie; the database keeps its hash, so every node can check it
and a person can end their other sessions. `mailgate login-link ADDRESS` prints a link on
the server for the first sign-in, when no relay is set up yet.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from mailgate.access.secrets import matches, new_credential, split_credential
from mailgate.db.access_models import LoginLink, WebSession
from mailgate.db.models import Person, Ticket

LINK_KIND = "mgl"
SESSION_KIND = "mgs"


def create_login_link(person: Person, now: datetime, minutes: float) -> str:
    value, prefix, hashed = new_credential(LINK_KIND)
    LoginLink.create(person=person, prefix=prefix, secret_hash=hashed, created_at=now,
                     expires_at=now + timedelta(minutes=minutes))
    return value


def _row(model: type[LoginLink] | type[WebSession], value: str, kind: str) -> LoginLink | WebSession | None:
    """The row a credential names by its prefix, if the whole value matches its hash."""
    prefix = split_credential(value, kind)
    row = model.get_or_none(model.prefix == prefix) if prefix else None
    return row if row is not None and matches(value, row.secret_hash) else None


def _live_link(value: str, now: datetime) -> LoginLink | None:
    row = _row(LoginLink, value, LINK_KIND)
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    return row  # type: ignore[return-value]


def check_login_link(value: str, now: datetime) -> Person | None:
    """Whom an unused, unexpired link signs in (without using it up)."""
    row = _live_link(value, now)
    return row.person if row else None


def use_login_link(value: str, now: datetime) -> Person | None:
    """Use the link up (in the caller's transaction); None when it is unknown, used or old.
    The UPDATE is conditional, so two clicks at once cannot both sign in."""
    row = _live_link(value, now)
    if row is None:
        return None
    taken = LoginLink.update(used_at=now).where(LoginLink.id == row.id, LoginLink.used_at.is_null()).execute()
    return row.person if taken else None


def open_session(person: Person, now: datetime, days: float, *, ticket: Ticket | None = None,
                 user_agent: str = "", address: str = "") -> tuple[str, WebSession]:
    """(the cookie value, the row)."""
    value, prefix, hashed = new_credential(SESSION_KIND)
    row = WebSession.create(person=person, prefix=prefix, secret_hash=hashed, ticket=ticket,
                            csrf=secrets.token_urlsafe(24), created_at=now, last_seen_at=now,
                            expires_at=now + timedelta(days=days), user_agent=user_agent[:250],
                            address=address[:64])
    return value, row


def find_session(value: str, now: datetime) -> WebSession | None:
    row = _row(WebSession, value, SESSION_KIND)
    if row is None or row.revoked_at is not None or row.expires_at <= now:  # type: ignore[union-attr]
        return None
    return row  # type: ignore[return-value]


def end_session(session_id: int, person: Person, now: datetime) -> bool:
    """End one of the person's own sessions."""
    return WebSession.update(revoked_at=now).where(
        WebSession.id == session_id, WebSession.person == person, WebSession.revoked_at.is_null()).execute() > 0


def live_sessions(person: Person, now: datetime) -> list[WebSession]:
    return list(WebSession.select().where(WebSession.person == person, WebSession.revoked_at.is_null(),
                                          WebSession.expires_at > now).order_by(WebSession.last_seen_at.desc()))
