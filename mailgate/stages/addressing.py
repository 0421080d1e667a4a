"""Which queue a message is for, and whether it came through a signed reply address."""

from __future__ import annotations

import logging
from email.utils import getaddresses
from typing import TYPE_CHECKING

from mailgate.core.message import Inbound
from mailgate.tokens import parse_token, split_plus

if TYPE_CHECKING:
    from mailgate.env import Env

log = logging.getLogger("mailgate.addressing")

_ADDRESS_HEADERS = ("Delivered-To", "X-Original-To", "To", "Cc")


class Addressing:
    name = "addressing"

    def __call__(self, msg: Inbound, env: Env) -> None:
        settings = env.settings
        parsed = msg.parsed
        assert parsed is not None
        candidates = list(msg.entry.recipients)
        for header in _ADDRESS_HEADERS:
            candidates += [a for _, a in getaddresses(parsed.header_all(header)) if a]
        for address in candidates:
            base, tag = split_plus(address)
            queue = settings.queue_for_address(base)
            if queue is None:
                continue
            if msg.queue is None:
                msg.queue = queue
            if tag and msg.token_person_id is None:
                token = parse_token(tag, settings.gateway.secret)
                if token is None:
                    log.warning("message %s: ignoring invalid reply token in %s (forged or mangled; "
                                "stage addressing)", parsed.message_id, address)
                    continue
                msg.queue = queue
                msg.ticket_id = token.ticket_id
                msg.token_person_id = token.person_id
                msg.thread_signal = "reply-token"
        if msg.queue is None:
            # the MTA accepted it for us (pipe/IMAP): file it in the first queue rather than
            # lose it; SMTP/LMTP refuse unknown recipients at RCPT time instead
            msg.queue = settings.queues[0]
