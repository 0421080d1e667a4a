"""mailgate over HTTP: the API at /api/v1 for tools, sign-in by mail link, and (issue 14)
the web desk. Served by `mailgate serve` on the daemon's own loop, or alone by `mailgate
web`. Every change goes through the ticket service, as mail does; database work runs in
threads, never on the event loop.

    app        the FastAPI application: routers, error handlers, security headers
    services   what the routes need: the Env, the database runners, the rate limiter
    problems   RFC 9457 problem responses for every error
    auth       who is calling: a Bearer token or a session cookie
    api_*      the /api/v1 routes
    signin     the sign-in pages (mail link, sessions)
    server     uvicorn on the daemon's loop (the daemon keeps its signals)
"""
