"""What the stages, the ticket service and the jobs need from the outside world: built
once by the composition root (`mailgate.app`), replaced field by field on SIGHUP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import jinja2

from mailgate.core.registry import Registry

if TYPE_CHECKING:
    from mailgate.config import Settings
    from mailgate.core.spool import SpoolStore
    from mailgate.rules import RuleSet


@dataclass
class Env:
    settings: Settings
    spool: SpoolStore
    templates: jinja2.Environment
    clock: Callable[[], datetime]
    # the email commands (`status:`, `owner:` ...), filled by the composition root; a
    # preparing worker process runs only the pure stages and has none
    commands: Registry[Any] = field(default_factory=lambda: Registry("command", key="name"))
    # rules/*.toml, loaded on first use; a reload replaces it only when the new files load
    rules: RuleSet | None = None

    def now(self) -> datetime:
        """The clock as naive UTC, the way the store keeps times."""
        now = self.clock()
        return now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now


def utc_clock() -> datetime:
    return datetime.now(UTC)


def template_env(settings: Settings) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(settings.templates_dir)),
        autoescape=jinja2.select_autoescape(["html.j2"], default=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
    )
