"""SIGHUP: reload the configuration's staff directory, templates and whatever the daemon's
composition hands in as hooks (the rules), all or nothing. A bad file keeps the running
configuration and says why.

A hook (`hook(env) -> None`, ConfigError if bad) receives a candidate Env carrying the new
settings and templates; it validates and sets whatever it keeps on that Env. Only when every
hook passed are the candidate's fields copied into the live Env, which the worker reads per
message, so connections are never dropped.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

import jinja2

from mailgate.config import Settings, load_settings
from mailgate.core.errors import ConfigError
from mailgate.env import Env, template_env
from mailgate.people import sync_staff
from mailgate.stages.rules import load_rules_into_env

log = logging.getLogger("mailgate.daemon.reload")

ReloadHook = Callable[[Env], None]

# what a reload re-reads besides the settings, the staff directory and the templates
DEFAULT_HOOKS: Mapping[str, ReloadHook] = MappingProxyType({"rules": load_rules_into_env})

# sections the running daemon cannot change in place (sockets, database, accounts)
RESTART_ONLY = ("listen", "store", "imap", "daemon")


def check_templates(templates: jinja2.Environment) -> None:
    """Compile every template now, so a syntax error is a failed reload, not a failed mail."""
    for name in templates.list_templates():
        try:
            templates.get_template(name)
        except jinja2.TemplateError as exc:
            raise ConfigError(f"template {name}: {exc}") from None


def reload_env(env: Env, path: Path, hooks: Mapping[str, ReloadHook] | None = None) -> Settings:
    """Runs in the database thread. Raises ConfigError and leaves `env` untouched if anything
    is wrong; returns the new settings otherwise."""
    new = load_settings(path)
    templates = template_env(new)
    check_templates(templates)
    candidate = dataclasses.replace(env, settings=new, templates=templates)
    for name, hook in (DEFAULT_HOOKS if hooks is None else hooks).items():
        try:
            hook(candidate)
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - a hook's bug is a failed reload, not a dead daemon
            raise ConfigError(f"reload hook {name}: {type(exc).__name__}: {exc}") from exc
    old = env.settings
    sync_staff(new)
    for f in dataclasses.fields(env):
        setattr(env, f.name, getattr(candidate, f.name))
    for section in RESTART_ONLY:
        if getattr(old, section) != getattr(new, section):
            log.warning("[%s] changed: takes effect at the next restart", section, extra={"stage": "reload"})
    return new
