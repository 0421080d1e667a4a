"""Errors as RFC 9457 problem details (`application/problem+json`), never a stack trace.

    {"type": "/api/v1/problems/not-found", "title": "Not Found", "status": 404,
     "detail": "there is no ticket #12", "instance": "/api/v1/tickets/12"}

A body that does not validate names each field in `errors` ([{"field", "message"}]). The
problem types are listed in docs/api.md."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mailgate.core.errors import Conflict, Forbidden, Invalid, NotFound

log = logging.getLogger("mailgate.http")

MEDIA_TYPE = "application/problem+json"
SLUGS = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
         406: "not-acceptable", 409: "conflict", 413: "too-large", 415: "unsupported-media-type",
         422: "invalid", 429: "rate-limited", 500: "internal"}


class Problem(Exception):  # noqa: N818 - it is the answer, not a crash
    def __init__(self, status: int, detail: str, *, slug: str = "", headers: dict[str, str] | None = None,
                 errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.slug = status, detail, slug or SLUGS.get(status, "error")
        self.headers, self.errors = headers or {}, errors


def problem_response(request: Request, status: int, detail: str, *, slug: str = "",
                     headers: dict[str, str] | None = None, errors: list[dict[str, str]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": f"/api/v1/problems/{slug or SLUGS.get(status, 'error')}",
                            "title": HTTPStatus(status).phrase, "status": status, "detail": detail,
                            "instance": request.url.path}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc.status, exc.detail, slug=exc.slug, headers=exc.headers,
                                errors=exc.errors)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field(tuple(e.get("loc", ()))), "message": str(e.get("msg", "invalid"))}
                  for e in exc.errors()]
        bad_json = any(e.get("type") == "json_invalid" for e in exc.errors())
        detail = "the body is not valid JSON" if bad_json else "; ".join(f"{e['field']}: {e['message']}"
                                                                         for e in errors)
        return problem_response(request, 400 if bad_json else 422, detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        return problem_response(request, exc.status_code, detail, headers=getattr(exc, "headers", None))

    for error, status in ((NotFound, 404), (Forbidden, 403), (Invalid, 422), (Conflict, 409)):
        def handler(request: Request, exc: Exception, status: int = status) -> JSONResponse:
            return problem_response(request, status, str(exc))

        app.add_exception_handler(error, handler)



class CatchAll:
    """A bug answers 500 with a problem document and is logged once with its traceback
    (Starlette's own last-resort handler would re-raise it to the server to log again)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:  # noqa: BLE001 - the last line of defence: answer, log, keep serving
            request = Request(scope)
            log.error("HTTP %s %s failed: %s: %s", request.method, request.url.path, type(exc).__name__, exc,
                      exc_info=exc, extra={"stage": "http"})
            if not started:
                await problem_response(request, 500, "the server failed; the error is in its log")(scope, receive, send)
