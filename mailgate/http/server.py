"""uvicorn's programmatic server on the daemon's own event loop.

The daemon owns SIGTERM and SIGHUP: uvicorn's own signal capture is switched off, and the
daemon stops the server by setting `should_exit` during its shutdown. The socket is bound
here, so a port in use is one line naming the key (`listen.http`), and port 0 (tests) gets
a free port whose number is logged."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from mailgate.core.errors import ConfigError

log = logging.getLogger("mailgate.http")


class LoopServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # the daemon handles signals itself
        yield


def bind(host: str, port: int, where: str = "listen.http") -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"{where}: cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(256)
    sock.setblocking(False)
    return sock


class HttpServer:
    """One HTTP listener serving `app`; `serve()` runs until `stop()`."""

    def __init__(self, app: FastAPI, sock: socket.socket) -> None:
        self.sock = sock
        config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False, server_header=False,
                                proxy_headers=False, timeout_keep_alive=30, limit_concurrency=1000)
        self.server = LoopServer(config)

    @property
    def address(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"{host}:{port}"

    async def serve(self) -> None:
        await self.server.serve(sockets=[self.sock])

    def stop(self) -> None:
        self.server.should_exit = True

    async def wait_started(self, timeout: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not self.server.started and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
