"""Sign-in by mail link, sign-out, and the links in mail that open one ticket.

    GET/POST /login            ask for a link (mailed; never says whether the address is known)
    GET  /login/{token}        "Sign in as ...?" (a page: mail scanners fetch links)
    POST /login/{token}        uses the link up, opens a session, goes to the start page
    GET  /t/{ticket}?k=KEY     a mail's ticket link: a session for that ticket only
    POST /logout               ends this session
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from mailgate.access.links import check_ticket_key
from mailgate.access.signin import (
    check_login_link,
    create_login_link,
    end_session,
    open_session,
    use_login_link,
)
from mailgate.access.visibility import staff_queues
from mailgate.db.models import Person, Ticket
from mailgate.db.transaction import write_transaction
from mailgate.env import Env
from mailgate.http.auth import SESSION_COOKIE, Caller, services_of, session_caller
from mailgate.http.downloads import download_headers
from mailgate.http.pages import client_address, form_of, render, set_session
from mailgate.http.problems import Problem
from mailgate.http.reads import MAX_ID, attachment_file
from mailgate.mailer import queue_mail
from mailgate.ratelimit import over_limit

router = APIRouter(include_in_schema=False)
LOGIN_KIND = "login-link"


def may_sign_in(env: Env, address: str) -> Person | None:
    """Staff of the directory, or someone who has asked for something (a requester)."""
    person = Person.get_or_none(Person.address == address)
    if person is None:
        return None
    if staff_queues(env.settings, person) is not None:
        return person
    return person if Ticket.select().where(Ticket.requester == person).exists() else None


def login_url(env: Env, value: str) -> str:
    return f"{env.settings.web_base_url}/login/{value}"


def mail_login_link(env: Env, address: str) -> None:
    """In the writer thread: create and mail a link, if the address may sign in and is
    not over the hourly limit of automatic mail (ack_rate_limit)."""
    with write_transaction():
        person = may_sign_in(env, address)
        if person is None or person.bouncing:
            return
        if over_limit(LOGIN_KIND, person.address, env.clock(), env.settings.gateway.ack_rate_limit):
            return
        minutes = env.settings.web.login_link_minutes
        value = create_login_link(person, env.now(), minutes)
        queue_mail(env, kind=LOGIN_KIND, recipient=person, template="login_link.txt.j2",
                   subject=f"Sign in to {env.settings.gateway.name}",
                   context={"person": person, "link": login_url(env, value), "minutes": int(minutes)})


@router.get("/login")
async def login_page(request: Request) -> Response:
    return render(request, "web/login.html.j2", me=await session_caller(request))


@router.post("/login")
async def ask_for_link(request: Request) -> Response:
    form = await form_of(request)
    address = form.get("address", "").strip().lower()
    if "@" not in address or len(address) > 254:
        return render(request, "web/login.html.j2", status=422, error="Enter an email address like you@example.com.")
    services = services_of(request)
    await services.write(mail_login_link, services.env, address)
    return render(request, "web/login.html.j2", sent=address, minutes=int(services.settings.web.login_link_minutes))


@router.get("/login/{token}")
async def confirm_page(request: Request, token: str) -> Response:
    services = services_of(request)
    person = await services.read(check_login_link, token, services.env.now())
    return render(request, "web/login_confirm.html.j2", person=person, token=token, status=200 if person else 410)


def _sign_in(env: Env, token: str, user_agent: str, address: str) -> str | None:
    with write_transaction():
        person = use_login_link(token, env.now())
        if person is None:
            return None
        value, _ = open_session(person, env.now(), env.settings.web.session_days, user_agent=user_agent,
                                address=address)
        return value


@router.post("/login/{token}")
async def sign_in(request: Request, token: str) -> Response:
    await form_of(request)
    services = services_of(request)
    value = await services.write(_sign_in, services.env, token, request.headers.get("user-agent", ""),
                                 client_address(request))
    if value is None:
        return render(request, "web/login_confirm.html.j2", person=None, token=token, status=410)
    response = RedirectResponse("/", status_code=303)
    set_session(response, request, value, services.settings.web.session_days)
    return response


def _ticket_session(env: Env, ticket_id: int, key: str, user_agent: str, address: str) -> str | None:
    person_id = check_ticket_key(env.settings.gateway.secret, ticket_id, key, env.now())
    if person_id is None:
        return None
    with write_transaction():
        person = Person.get_or_none(Person.id == person_id)
        ticket = Ticket.get_or_none(Ticket.id == ticket_id)
        if person is None or ticket is None:
            return None
        value, _ = open_session(person, env.now(), min(env.settings.web.session_days, 1.0), ticket=ticket,
                                user_agent=user_agent, address=address)
        return value


@router.get("/t/{ticket_id}")
async def ticket_link(request: Request, ticket_id: int, k: str = "") -> Response:
    services = services_of(request)
    me = await session_caller(request)
    if me is not None and (me.scope is None or me.scope == ticket_id):
        return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)
    value = await services.write(_ticket_session, services.env, ticket_id, k,
                                 request.headers.get("user-agent", ""), client_address(request))
    if value is None:
        return render(request, "web/error.html.j2", status=410, title="This link does not work any more",
                      detail="It is older than the links in mail stay valid, or it was changed. Sign in to "
                             "see your tickets.")
    response = RedirectResponse(f"/tickets/{ticket_id}", status_code=303)
    set_session(response, request, value, 1.0)
    return response


def _linked_file(env: Env, ticket_id: int, attachment_id: int, key: str) -> tuple[Any, str, str] | None:
    """The file a mail's link names, for the person the link was made for (their view of
    the ticket decides, as for the page)."""
    person_id = check_ticket_key(env.settings.gateway.secret, ticket_id, key, env.now())
    if person_id is None:
        return None
    caller = Caller(person_id=person_id, address="", via="link", scope=ticket_id)
    return attachment_file(env.settings, caller, ticket_id, attachment_id)


@router.get("/t/{ticket_id}/attachments/{attachment_id}")
async def linked_attachment(request: Request, ticket_id: int, attachment_id: int, k: str = "") -> Response:
    """A file too large to attach to an alert: the recipient's own signed link to it."""
    services = services_of(request)
    found = None
    if ticket_id <= MAX_ID and attachment_id <= MAX_ID:
        found = await services.read(_linked_file, services.env, ticket_id, attachment_id, k)
    if found is None or not found[0].exists():
        return render(request, "web/error.html.j2", status=404, title="No such file",
                      detail="The link is old, changed, or names a file you may not see.")
    path, filename, content_type = found
    media, headers = download_headers(filename, content_type)
    return FileResponse(path, media_type=media, headers=headers)


@router.post("/logout")
async def logout(request: Request) -> Response:
    me = await session_caller(request)
    if me is None:
        raise Problem(401, "not signed in")
    await form_of(request, me)
    services = services_of(request)
    await services.write(lambda: end_session(me.session_id or 0, Person.get_by_id(me.person_id), services.env.now()))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
