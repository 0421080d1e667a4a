"""Group monitoring alerts (messages a rule gave a fingerprint) before Thread: a repeat or a
recovery of a known problem ends here, counted on its ticket (mailgate.monitoring)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailgate.core.message import Inbound
from mailgate.monitoring.groups import group_alert

if TYPE_CHECKING:
    from mailgate.env import Env


class Alerts:
    name = "alerts"

    def __call__(self, msg: Inbound, env: Env) -> None:
        if msg.rules is not None and msg.rules.fingerprint:
            group_alert(msg, env)
