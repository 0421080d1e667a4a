"""Load and validate mailgate.toml into plain, frozen settings objects.

Validation is strict on purpose: an unknown key is almost always a typo that would otherwise
silently fall back to a default, so every error names the file, the dotted key and what was
expected, and the CLI prints it as one line with a non-zero exit.

sections.py holds the dataclasses, schema.py the generic TOML-to-dataclass builder,
checks.py the checks across keys; this module ties them together.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from pathlib import Path
from typing import Any

from mailgate.config.checks import check_settings
from mailgate.config.reporting import (
    IncidentSettings,
    ReportSettings,
    SearchSettings,
    SystemSettings,
)
from mailgate.config.schema import build_section, coerce_value
from mailgate.config.sections import (
    DEFAULT_CONFIG_NAME,
    ROLES,
    AlertSettings,
    ApiSettings,
    CalendarSettings,
    CleanSettings,
    CommandSettings,
    DaemonSettings,
    GatewaySettings,
    HttpListenSettings,
    ImapSettings,
    LifecycleSettings,
    ListenSettings,
    LmtpListenSettings,
    MonitoringSettings,
    OutboxSettings,
    PermissionSettings,
    PersonSettings,
    QueueSettings,
    RelaySettings,
    Settings,
    SlaSettings,
    SmtpListenSettings,
    StoreSettings,
    ThreadingSettings,
    WebSettings,
)

# config_path lives outside this package so the MTA pipe can find the file without it
from mailgate.config_location import config_path
from mailgate.core.errors import ConfigError

_SECTIONS: dict[str, type] = {
    "gateway": GatewaySettings,
    "store": StoreSettings,
    "threading": ThreadingSettings,
    "clean": CleanSettings,
    "relay": RelaySettings,
    "listen": ListenSettings,
    "daemon": DaemonSettings,
}
_LISTS: dict[str, tuple[str, type]] = {"queue": ("queues", QueueSettings), "person": ("people", PersonSettings)}
_LISTS["imap"] = ("imap", ImapSettings)
_SECTIONS.update(commands=CommandSettings, alerts=AlertSettings, outbox=OutboxSettings)
_LISTS["permission"] = ("permissions", PermissionSettings)
_SECTIONS["monitoring"] = MonitoringSettings
_SECTIONS.update(web=WebSettings, api=ApiSettings)  # issue 13
_SECTIONS.update(lifecycle=LifecycleSettings, calendar=CalendarSettings)  # issue 7
_LISTS["sla"] = ("sla", SlaSettings)
_SECTIONS.update(search=SearchSettings, incidents=IncidentSettings)  # issue 15
_LISTS.update(system=("systems", SystemSettings), report=("reports", ReportSettings))
_PLAIN: dict[str, type] = {"templates": str, "rules": str}


def parse_settings(data: dict[str, Any], path: Path) -> Settings:
    """Validate a parsed TOML document; raise ConfigError naming file and key."""
    known = set(_SECTIONS) | set(_LISTS) | set(_PLAIN)
    try:
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{unknown[0]}: unknown section (expected one of: {', '.join(sorted(known))})")
        kwargs: dict[str, Any] = {}
        for key, cls in _SECTIONS.items():
            kwargs[key] = build_section(cls, data.get(key, {}), key)
        for key, (attr, cls) in _LISTS.items():
            items = data.get(key, [])
            if not isinstance(items, list):
                raise ConfigError(f"{key}: expected an array of tables ([[{key}]])")
            kwargs[attr] = tuple(build_section(cls, item, f"{key}[{i}]") for i, item in enumerate(items))
        for key, tp in _PLAIN.items():
            if key in data:
                kwargs[key] = coerce_value(data[key], tp, key)
        settings = Settings(path=path.resolve(), **kwargs)
        check_settings(settings)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    secret = os.environ.get("MAILGATE_SECRET")
    if secret:
        settings = dataclasses.replace(settings, gateway=dataclasses.replace(settings.gateway, secret=secret))
    return settings


def load_settings(path: Path) -> Settings:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found (use --config or MAILGATE_CONFIG)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return parse_settings(data, path)

__all__ = [
    "DEFAULT_CONFIG_NAME",
    "ROLES",
    "AlertSettings",
    "ApiSettings",
    "CalendarSettings",
    "CleanSettings",
    "CommandSettings",
    "DaemonSettings",
    "GatewaySettings",
    "HttpListenSettings",
    "ImapSettings",
    "LifecycleSettings",
    "ListenSettings",
    "LmtpListenSettings",
    "MonitoringSettings",
    "OutboxSettings",
    "PermissionSettings",
    "PersonSettings",
    "QueueSettings",
    "RelaySettings",
    "Settings",
    "SlaSettings",
    "SmtpListenSettings",
    "StoreSettings",
    "ThreadingSettings",
    "WebSettings",
    "config_path",
    "load_settings",
    "parse_settings",
]
