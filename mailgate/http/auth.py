"""Who is calling: an API token (`Authorization: Bearer mgt_...`) for /api/v1, a session
cookie for the web pages. Each request reads the token or session row by its indexed
prefix (a revoked token fails at once); the person's role comes from the staff directory,
as for mail."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response

from mailgate.access.signin import find_session
from mailgate.access.tokens import find_token
from mailgate.db.access_models import ApiToken, WebSession
from mailgate.http.problems import Problem
from mailgate.http.services import HttpServices, SharedRateLimiter

SESSION_COOKIE = "mailgate_session"
LAST_USED_EVERY = 60.0  # seconds: a token's last_used_at is written at most this often


@dataclass(frozen=True)
class Caller:
    person_id: int
    address: str
    via: str  # api-token | session
    token_id: int | None = None
    session_id: int | None = None
    scope: int | None = None  # the one ticket a session opened by a mail's link may see
    csrf: str = ""


def services_of(request: Request) -> HttpServices:
    return request.app.state.services


def _token_caller(value: str, now: Any) -> Caller | None:
    token = find_token(value, now)
    if token is None:
        return None
    return Caller(person_id=token.person_id, address=token.person.address, via="api-token", token_id=token.id)


def _session_caller(value: str, now: Any) -> Caller | None:
    session = find_session(value, now)
    if session is None:
        return None
    return Caller(person_id=session.person_id, address=session.person.address, via="session",
                  session_id=session.id, scope=session.ticket_id, csrf=session.csrf)


def _touch(services: HttpServices, kind: str, row_id: int, model: Any, column: Any) -> None:
    """Record that a token or session was used, at most once a minute each, off the request's
    path (the write goes to the writer thread; the answer does not wait for it)."""
    now = time.monotonic()
    key = (kind, row_id)
    if now - services.touched.get(key, -LAST_USED_EVERY) < LAST_USED_EVERY:
        return
    services.touched[key] = now
    stamp = services.env.now()
    asyncio.ensure_future(services.write(lambda: model.update({column: stamp}).where(model.id == row_id).execute()))


async def api_caller(request: Request, response: Response) -> Caller:
    """The dependency of every /api/v1 route: a valid token, within its rate limit."""
    services = services_of(request)
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Problem(401, "send an API token: Authorization: Bearer <token> (mailgate token create ADDRESS)",
                      headers={"WWW-Authenticate": 'Bearer realm="mailgate"'})
    caller = await services.read(_token_caller, value.strip(), services.env.now())
    if caller is None:
        raise Problem(401, "the token is unknown, revoked or expired",
                      headers={"WWW-Authenticate": 'Bearer realm="mailgate", error="invalid_token"'})
    limit = services.limiter.per_minute
    if limit:
        key = f"token:{caller.token_id}"
        if isinstance(services.limiter, SharedRateLimiter):  # counted in the database, for every node
            allowed, remaining, reset = await services.read(services.limiter.take, key)
        else:
            allowed, remaining, reset = services.limiter.take(key)
        headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining),
                   "X-RateLimit-Reset": str(reset)}
        if not allowed:
            raise Problem(429, f"over the rate limit of {limit} requests a minute for this token",
                          headers={**headers, "Retry-After": str(reset)})
        response.headers.update(headers)
    _touch(services, "token", caller.token_id or 0, ApiToken, ApiToken.last_used_at)
    return caller


async def session_caller(request: Request) -> Caller | None:
    """The signed-in person of a web page, None when nobody is signed in."""
    value = request.cookies.get(SESSION_COOKIE, "")
    if not value:
        return None
    services = services_of(request)
    caller = await services.read(_session_caller, value, services.env.now())
    if caller is not None and caller.session_id is not None:
        _touch(services, "session", caller.session_id, WebSession, WebSession.last_seen_at)
    return caller
