"""uvicorn's programmatic server on the daemon's own event loop.

The daemon owns SIGTERM and SIGHUP: uvicorn's own signal capture is switched off, and the
daemon stops the server by setting `should_exit` during its shutdown. The socket is bound
here, so a port in use is one line naming the key (`listen.http`), and port 0 (tests) gets
a free port whose number is logged."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI

from mailgate.core.errors import ConfigError, TransientError
from mailgate.env import Env
from mailgate.http.app import create_app
from mailgate.http.services import HttpServices, RateLimiter, Readers, SharedRateLimiter

log = logging.getLogger("mailgate.http")


class LoopServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # the daemon handles signals itself
        yield


def bind(host: str, port: int, where: str = "listen.http") -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY on accepted connections only when the
    # socket says so; without it Nagle held each response's body behind its headers until
    # the client's delayed ACK, 40 ms per request on a kept-alive connection (bench/api.py:
    # GET /api/v1/tickets/{id} p50 52 ms with one client, 7 ms of it the server's work)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        # a port still held (the previous daemon exiting) is worth a retry: exit 75
        error = TransientError if exc.errno == errno.EADDRINUSE else ConfigError
        raise error(f"{where}: cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(256)
    sock.setblocking(False)
    return sock


class HttpServer:
    """One HTTP listener serving `app`; `serve()` runs until `stop()`."""

    def __init__(self, app: FastAPI, sock: socket.socket, services: HttpServices) -> None:
        self.sock, self.services = sock, services
        config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False, server_header=False,
                                proxy_headers=False, timeout_keep_alive=30, limit_concurrency=1000,
                                timeout_graceful_shutdown=5)
        self.server = LoopServer(config)
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)  # our own lines say it, once

    @property
    def address(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"{host}:{port}"

    async def serve(self) -> None:
        await self.server.serve(sockets=[self.sock])

    def stop(self) -> None:
        self.server.should_exit = True

    def close(self) -> None:
        for close in self.services.closers:
            close()

    async def wait_started(self, timeout: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not self.server.started and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)


def http_server(env: Env, write: Callable[..., Awaitable[Any]], readers: Readers | None = None) -> HttpServer | None:
    """The API and web desk for a daemon (`write`: its database thread) or for `mailgate
    web`; None when [listen.http] is off. Binds now, so a busy port stops the start."""
    settings = env.settings
    if not settings.listen.http.enabled:
        return None
    readers = readers or Readers()
    limiter = (SharedRateLimiter if settings.spool_in_database else RateLimiter)(settings.api.rate_limit)
    services = HttpServices(env=env, write=write, read=readers.run, limiter=limiter,
                            base_url=settings.web_base_url, closers=[readers.close])
    sock = bind(settings.listen.http.host, settings.listen.http.port)
    if settings.listen.http.port == 0 and not settings.web.base_url:
        # a free port chosen now (tests): the links in mail must name the real one
        host, port = sock.getsockname()[:2]
        env.settings = dataclasses.replace(settings, web=dataclasses.replace(settings.web,
                                                                             base_url=f"http://{host}:{port}"))
        services.base_url = env.settings.web_base_url
    return HttpServer(create_app(services), sock, services)
