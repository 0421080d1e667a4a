"""The record of what the rules did with a message (`mailgate rules log`).

One RuleMatch row per message that a rule matched: stored on a ticket, or ended without a
stored message (recorded as an alert repeat, discarded, held). The pipeline's duplicate
check reads the rows of messages that ended without a Message row, so a redelivered repeat
counts once; the raw bytes stay in the spool under `raw_sha256`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailgate.core.message import Inbound
from mailgate.db.models import RuleMatch

if TYPE_CHECKING:
    from mailgate.env import Env


def record_match(msg: Inbound, env: Env, outcome: str, detail: str = "", ticket_id: int | None = None) -> RuleMatch:
    p = msg.parsed
    assert p is not None
    return RuleMatch.create(message_id=p.message_id, content_hash=p.content_hash, raw_sha256=msg.entry.sha256,
                            message_row=msg.message_row_id, ticket=ticket_id,
                            rules=msg.rules.matched if msg.rules else [], outcome=outcome, detail=detail,
                            at=env.now())

