"""Split the body into visible text, quoted history and signature (mailgate.clean)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailgate.clean import clean_text, sanitize_html
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
        # the HTML as the store stage keeps it: sanitized here, in the preparing worker
        # process, not in the one writer (nh3 took 4.6% of the writer's time on the
        # realistic mix of bench/corpus_mix.py, where 35% of the requests carry HTML)
        msg.safe_html = sanitize_html(p.text_html) if p.text_html else ""
