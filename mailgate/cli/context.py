"""Shared CLI state: the configuration path, loaded lazily so --help never needs a config."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from mailgate.config import Settings, config_path, load_settings
from mailgate.logsetup import configure_logging

if TYPE_CHECKING:
    from mailgate.env import Env


class Context:
    def __init__(self, config: str | None, verbose: bool) -> None:
        self.config = config
        self.verbose = verbose
        self._settings: Settings | None = None
        self._env: Env | None = None
        configure_logging(verbose)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(config_path(self.config))
        return self._settings

    @property
    def env(self) -> Env:
        if self._env is None:
            from mailgate.app import build_env

            self._env = build_env(self.settings)
        return self._env


pass_ctx = click.make_pass_decorator(Context)
