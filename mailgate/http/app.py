"""The HTTP application: the API under /api/v1 (its OpenAPI spec and interactive docs
there too), the sign-in pages, error handlers and security headers."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from mailgate.http import (
    api_misc,
    api_reports,
    api_search,
    api_tickets,
    problems,
    signin,
    web_actions,
    web_admin,
    web_desk,
    web_reports,
    web_search,
    web_tokens,
)
from mailgate.http.middleware import BodyLimit, SecurityHeaders
from mailgate.http.pages import render
from mailgate.http.services import HttpServices

STATIC = Path(__file__).resolve().parent / "static"
DOCS_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
            "object-src 'none'; frame-ancestors 'none'; base-uri 'none'")
DOCS_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>mailgate API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/api/v1/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/v1/docs/assets/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script></body></html>"""
DESCRIPTION = """The same tickets as email, through the same commands, permissions, history and
alert mails. Authenticate with `Authorization: Bearer <token>` (`mailgate token create
ADDRESS`). Errors are RFC 9457 problem documents. A POST with an `Idempotency-Key` header
is done once: a retry gets the first answer. See docs/api.md."""


def create_app(services: HttpServices) -> FastAPI:
    app = FastAPI(title="mailgate", version="1", description=DESCRIPTION, openapi_url="/api/v1/openapi.json",
                  docs_url=None, redoc_url=None)
    app.state.services = services
    problems.install(app)
    app.include_router(api_tickets.router, prefix="/api/v1")
    app.include_router(api_misc.router, prefix="/api/v1")
    app.include_router(signin.router)
    app.include_router(web_desk.router)
    app.include_router(web_actions.router)
    app.include_router(web_admin.router)
    app.include_router(web_tokens.router)
    app.include_router(api_search.router, prefix="/api/v1")  # issue 15
    app.include_router(web_search.router)
    app.include_router(api_reports.router, prefix="/api/v1")
    app.include_router(web_reports.router)
    _page_errors(app)
    _docs(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(problems.CatchAll)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, limit=services.settings.listen.http.max_body_size)
    return app


def _page_errors(app: FastAPI) -> None:
    """A page answers with a page: not signed in goes to the sign-in page; an error a page
    route raises is shown as a page, not as the API's problem document."""
    @app.exception_handler(web_desk.NotSignedIn)
    async def _sign_in(request: Request, exc: Exception) -> Response:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    @app.exception_handler(problems.Problem)
    async def _problem(request: Request, exc: problems.Problem) -> Response:
        if request.url.path.startswith("/api/"):
            return problems.problem_response(request, exc.status, exc.detail, slug=exc.slug, headers=exc.headers,
                                             errors=exc.errors)
        return render(request, "web/error.html.j2", status=exc.status,
                      title=HTTPStatus(exc.status).phrase, detail=exc.detail)


def _docs(app: FastAPI) -> None:
    try:
        import swagger_ui_bundle
    except ImportError:  # the interactive page needs its assets; the spec is there without them
        return
    app.mount("/api/v1/docs/assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get("/api/v1/docs", include_in_schema=False)
    async def docs() -> Response:
        return HTMLResponse(DOCS_PAGE, headers={"Content-Security-Policy": DOCS_CSP})
