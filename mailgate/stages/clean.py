"""Split the body into visible text, quoted history and signature (mailgate.clean)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailgate.clean import clean_text
from mailgate.core.message import Inbound

if TYPE_CHECKING:
    from mailgate.env import Env


class Clean:
    name = "clean"

    def __call__(self, msg: Inbound, env: Env) -> None:
        p = msg.parsed
        assert p is not None
        msg.clean = clean_text(p.text_plain, p.text_html, disclaimers=env.settings.clean.disclaimers,
                               subject=p.subject)
