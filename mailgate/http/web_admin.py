"""Admin pages: what the quarantine holds and why (release or discard), and the outbox with
each mail's state (queue a failed one again) — so a newcomer running `make run` without a
relay can read the mail mailgate would send."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from mailgate.access.visibility import is_admin
from mailgate.db.models import Outbox, Person, Quarantine
from mailgate.db.transaction import write_transaction
from mailgate.held import discard, release, retry_outbox
from mailgate.http.auth import Caller, services_of
from mailgate.http.pages import form_of, render
from mailgate.http.problems import Problem
from mailgate.http.web_desk import signed_in
from mailgate.views import outbox_dict, quarantine_dict

router = APIRouter(prefix="/admin", include_in_schema=False)
STATES = ("pending", "sending", "sent", "failed")


async def admin(request: Request) -> Caller:
    me = await signed_in(request)
    if me.scope is not None or not is_admin(services_of(request).settings, Person(address=me.address)):
        raise Problem(403, "only admins see the quarantine and the outbox")
    return me


def _held(show_all: bool) -> list[dict[str, Any]]:
    query = Quarantine.select().order_by(Quarantine.id.desc()).limit(200)
    if not show_all:
        query = query.where(Quarantine.state == "held")
    return [quarantine_dict(q) for q in query]


@router.get("/quarantine")
async def quarantine_page(request: Request) -> Response:
    me = await admin(request)
    services = services_of(request)
    rows = await services.read(_held, bool(request.query_params.get("all")))
    return render(request, "web/quarantine.html.j2", me=me, rows=rows, is_staff=True, is_admin=True,
                  done=request.query_params.get("done", ""))


def _act_on_held(services: Any, number: int, how: str) -> None:
    with write_transaction():
        if how == "release":
            release(services.env.spool, number)
        else:
            discard(number)


@router.post("/quarantine/{number}/{how}")
async def act_on_held(request: Request, number: int, how: str) -> Response:
    me = await admin(request)
    await form_of(request, me)
    if how not in ("release", "discard"):
        raise Problem(404, "no such action")
    services = services_of(request)
    await services.write(_act_on_held, services, number, how)
    return RedirectResponse(f"/admin/quarantine?done={how}d+%23{number}", status_code=303)


def _outbox(state: str) -> list[dict[str, Any]]:
    query = Outbox.select().order_by(Outbox.id.desc()).limit(100)
    if state in STATES:
        query = query.where(Outbox.state == state)
    return [outbox_dict(o) for o in query]


@router.get("/outbox")
async def outbox_page(request: Request) -> Response:
    me = await admin(request)
    services = services_of(request)
    state = request.query_params.get("state", "")
    rows = await services.read(_outbox, state)
    return render(request, "web/outbox.html.j2", me=me, rows=rows, state=state, states=STATES, is_staff=True,
                  is_admin=True, relay=services.settings.relay, done=request.query_params.get("done", ""))


@router.post("/outbox/{number}/retry")
async def retry(request: Request, number: int) -> Response:
    me = await admin(request)
    await form_of(request, me)
    services = services_of(request)

    def again() -> None:
        with write_transaction():
            row = Outbox.get_or_none(Outbox.id == number)
            if row is None:
                raise Problem(404, f"no outbox entry #{number}")
            retry_outbox([row], services.env.now())

    await services.write(again)
    return RedirectResponse(f"/admin/outbox?done=queued+%23{number}+again", status_code=303)
