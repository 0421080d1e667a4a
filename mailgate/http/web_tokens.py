"""API tokens from the web desk: everyone signed in with their address (not by a ticket
link) sees and makes their own; admins see everyone's and may make and revoke them for
others. A new token is shown once, on the page that made it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from mailgate.access.tokens import create_token, revoke_token, token_dict
from mailgate.access.visibility import is_admin
from mailgate.db.access_models import ApiToken
from mailgate.db.models import Person
from mailgate.db.transaction import write_transaction
from mailgate.http.auth import Caller, services_of
from mailgate.http.pages import form_of, render
from mailgate.http.problems import Problem
from mailgate.http.web_desk import signed_in, staff_roles
from mailgate.people import person_for

router = APIRouter(prefix="/tokens", include_in_schema=False)


async def _me(request: Request) -> tuple[Caller, bool]:
    me = await signed_in(request)
    if me.scope is not None:
        raise Problem(403, "sign in with your address (not a ticket's link) to manage API tokens")
    return me, is_admin(services_of(request).settings, Person(address=me.address))


def _list(services: Any, me: Caller, admin: bool) -> list[dict[str, Any]]:
    query = ApiToken.select().order_by(ApiToken.id.desc()).limit(500)
    if not admin:
        query = query.where(ApiToken.person == me.person_id)
    return [token_dict(t, services.env.now()) for t in query]


@router.get("")
async def tokens_page(request: Request) -> Response:
    me, admin = await _me(request)
    services = services_of(request)
    rows = await services.read(_list, services, me, admin)
    return render(request, "web/tokens.html.j2", me=me, rows=rows, admin=admin, **staff_roles(request, me))


@router.post("")
async def make(request: Request) -> Response:
    me, admin = await _me(request)
    form = await form_of(request, me)
    services = services_of(request)
    owner = form.get("address", "").strip().lower() or me.address
    if owner != me.address and not admin:
        raise Problem(403, "only admins make tokens for someone else")
    if "@" not in owner:
        raise Problem(422, "address: expected an email address")
    days = form.get("expires", "").strip()
    try:
        expires = float(days) if days else None
    except ValueError:
        raise Problem(422, "expires: expected a number of days") from None

    def create() -> tuple[str, dict[str, Any]]:
        with write_transaction():
            value, row = create_token(person_for(owner), form.get("name", "")[:200], services.env.now(), expires,
                                      created_by=f"web:{me.address}")
            return value, token_dict(row, services.env.now())

    value, made = await services.write(create)
    rows = await services.read(_list, services, me, admin)
    return render(request, "web/tokens.html.j2", me=me, rows=rows, admin=admin, new=value, made=made,
                  **staff_roles(request, me))


@router.post("/{token_id}/revoke")
async def revoke(request: Request, token_id: int) -> Response:
    me, admin = await _me(request)
    await form_of(request, me)
    services = services_of(request)

    def end() -> None:
        with write_transaction():
            row = ApiToken.get_or_none(ApiToken.id == token_id)
            if row is None or (row.person_id != me.person_id and not admin):
                raise Problem(404, f"no token #{token_id} of yours")
            revoke_token(token_id, services.env.now())

    await services.write(end)
    return RedirectResponse("/tokens", status_code=303)
