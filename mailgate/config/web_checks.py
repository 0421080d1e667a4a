"""Checks of [listen.http], [web] and [api] (issue 13)."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from mailgate.core.errors import ConfigError

if TYPE_CHECKING:
    from mailgate.config.sections import Settings


def check_web(s: Settings) -> None:
    h = s.listen.http
    if not 0 <= h.port <= 65535:
        raise ConfigError(f"listen.http.port: expected 0 to 65535, got {h.port}")
    if h.max_body_size < 1024:
        raise ConfigError(f"listen.http.max_body_size: expected at least 1024 bytes, got {h.max_body_size}")
    for i, proxy in enumerate(h.trusted_proxies):
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ConfigError(f"listen.http.trusted_proxies[{i}]: expected an IP address or network, "
                              f"got {proxy!r}") from None
    w = s.web
    if w.base_url:
        url = urlsplit(w.base_url)
        if url.scheme not in ("http", "https") or not url.netloc or url.query or url.fragment:
            raise ConfigError(f"web.base_url: expected an address like https://desk.example.com, got {w.base_url!r}")
    for key in ("login_link_minutes", "session_days", "ticket_link_days"):
        if getattr(w, key) <= 0:
            raise ConfigError(f"web.{key}: expected a positive number, got {getattr(w, key)}")
    a = s.api
    if a.rate_limit < 0:
        raise ConfigError(f"api.rate_limit: expected 0 (no limit) or more requests a minute, got {a.rate_limit}")
    if not 1 <= a.page_size <= a.max_page_size:
        raise ConfigError(f"api.page_size: expected 1 to api.max_page_size ({a.max_page_size}), got {a.page_size}")
