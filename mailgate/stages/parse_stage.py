"""Parse the raw bytes; refuse what is too large to be a help request."""

from __future__ import annotations

from mailgate.parse import parse_message
from mailgate.stages.base import Env, Inbound


class MessageTooLarge(ValueError):
    pass


class ParseStage:
    name = "parse"

    def __call__(self, msg: Inbound, env: Env) -> None:
        limit = env.settings.gateway.max_message_size
        if len(msg.raw) > limit:
            raise MessageTooLarge(
                f"message is {len(msg.raw)} bytes, over gateway.max_message_size ({limit})"
            )
        msg.parsed = parse_message(msg.raw)
