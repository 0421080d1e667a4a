"""Split the body into visible text, quoted history and signature."""

from __future__ import annotations

from mailgate.stages.base import Env, Inbound


class CleanStage:
    name = "clean"

    def __call__(self, msg: Inbound, env: Env) -> None:
        from mailgate.clean import clean_text

        p = msg.parsed
        assert p is not None
        msg.clean = clean_text(p.text_plain, p.text_html, disclaimers=env.settings.clean.disclaimers)
