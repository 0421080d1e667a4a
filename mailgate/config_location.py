"""Where the configuration file is: --config, then MAILGATE_CONFIG, then ./mailgate.toml.

Outside the mailgate.config package on purpose: importing that package builds every
settings class, which the MTA pipe's fast path (mailgate.console) avoids when it can."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_CONFIG_NAME = "mailgate.toml"


def config_path(explicit: str | None) -> Path:
    """--config wins, then MAILGATE_CONFIG, then ./mailgate.toml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("MAILGATE_CONFIG")
    if env:
        return Path(env)
    return Path.cwd() / DEFAULT_CONFIG_NAME
