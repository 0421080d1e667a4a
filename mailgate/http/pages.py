"""Rendering the web pages (Jinja2 templates under templates/web/, autoescaped), their
CSRF protection and the session cookie.

CSRF: a signed-in page's forms carry the session's own token; the sign-in forms (before a
session exists) carry a random token that must also be in a cookie (double submit). Every
POST from a page is checked; a request without the token gets 403."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from mailgate.access.visibility import is_admin, staff_queues
from mailgate.db.models import Person
from mailgate.http.auth import SESSION_COOKIE, Caller, services_of
from mailgate.http.problems import Problem
from mailgate.http.services import HttpServices

CSRF_COOKIE = "mailgate_csrf"


def secure(request: Request) -> bool:
    """The Secure flag for cookies: behind TLS (ours, or a trusted proxy's)."""
    if request.url.scheme == "https" or services_of(request).settings.web_base_url.startswith("https:"):
        return True
    return _trusted(request) and request.headers.get("x-forwarded-proto", "") == "https"


def _trusted(request: Request) -> bool:
    peer = request.client.host if request.client else ""
    proxies = services_of(request).settings.listen.http.trusted_proxies
    try:
        return any(ipaddress.ip_address(peer) in ipaddress.ip_network(p, strict=False) for p in proxies)
    except ValueError:
        return False


def client_address(request: Request) -> str:
    peer = request.client.host if request.client else ""
    if _trusted(request):
        forwarded = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
        return forwarded or peer
    return peer


def page_templates(services: HttpServices) -> jinja2.Environment:
    """The configured templates with a page's optional values allowed to be absent (the
    mail templates stay strict: a missing value there is a bug in a mail someone gets)."""
    base = services.env.templates
    cached = services.page_env
    if cached is None or cached[0] is not base:  # first use, or a SIGHUP replaced the templates
        services.page_env = cached = (base, base.overlay(undefined=jinja2.Undefined))
    return cached[1]


def render(request: Request, template: str, *, me: Caller | None = None, status: int = 200,
           csrf: str = "", **context: Any) -> HTMLResponse:
    services = services_of(request)
    fresh = ""
    if not csrf:
        csrf = me.csrf if me else request.cookies.get(CSRF_COOKIE, "")
        if not csrf:
            csrf = fresh = secrets.token_urlsafe(24)
    if me is not None and "is_staff" not in context:  # the header's links, for every page alike
        person = Person(id=me.person_id, address=me.address)
        context["is_staff"] = staff_queues(services.settings, person) is not None and me.scope is None
        context["is_admin"] = is_admin(services.settings, person) and me.scope is None
    body = page_templates(services).get_template(template).render(
        gateway=services.settings.gateway, me=me, csrf=csrf, request=request, **context)
    response = HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
    if fresh:
        response.set_cookie(CSRF_COOKIE, fresh, httponly=True, samesite="strict", secure=secure(request), path="/")
    return response


async def form_of(request: Request, me: Caller | None = None) -> dict[str, str]:
    """The posted form, after the CSRF check."""
    fields, _ = await form_with_files(request, me)
    return fields


async def form_with_files(request: Request, me: Caller | None = None
                          ) -> tuple[dict[str, str], list[tuple[str, str, bytes]]]:
    """The posted form and its uploaded files (name, content type, bytes), after the CSRF
    check. Empty file inputs (no file chosen) are left out."""
    form = await request.form()
    sent = str(form.get("csrf", ""))
    expected = me.csrf if me else request.cookies.get(CSRF_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise Problem(403, "the form's security token is missing or old: reload the page and try again",
                      slug="csrf")
    files = []
    for upload in form.getlist("files"):
        if isinstance(upload, str) or not upload.filename:
            continue
        files.append((upload.filename, upload.content_type or "application/octet-stream", await upload.read()))
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}, files


def set_session(response: RedirectResponse, request: Request, value: str, days: float) -> None:
    response.set_cookie(SESSION_COOKIE, value, max_age=int(days * 86400), httponly=True, samesite="lax",
                        secure=secure(request), path="/")
