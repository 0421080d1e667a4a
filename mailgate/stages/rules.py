"""Apply the declarative rules (rules/*.toml) to a message. Pure: no database, so it runs
wherever the other pure stages run (worker processes too).

The rules' Decision goes on `msg.rules`; a drop or a hold ends the message here (Discard,
Held: the pipeline records the RuleMatch and, for a hold, quarantines it), and the
database stages carry out the rest (alerts before Thread, rule-actions after Store). Two
things are decided here because they must be known before the database stages: the queue
a new ticket opens in, and the automatic-mail class "alert" for messages with a
fingerprint, so no acknowledgement or alert mail ever answers a monitoring system (no
backscatter, no loop).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from mailgate.core.errors import ConfigError, Discard, Held, TransientError
from mailgate.core.message import Inbound
from mailgate.rules import MailView, load_rules

if TYPE_CHECKING:
    from mailgate.env import Env

log = logging.getLogger("mailgate.rules")

RELEASED_SOURCE = "quarantine-retry:"  # `mailgate quarantine retry`: a person released it


def load_rules_into_env(env: Env) -> None:
    """Also the SIGHUP hook: validate the rule files against the candidate settings and
    keep them on the Env; a ConfigError leaves the running rules in place."""
    env.rules = load_rules(env.settings)


class Rules:
    name = "rules"

    def __call__(self, msg: Inbound, env: Env) -> None:
        if env.rules is None:
            try:
                load_rules_into_env(env)
            except ConfigError as exc:
                # mail waits (the MTA retries, the daemon keeps it queued) until the files are fixed
                raise TransientError(f"rules: {exc}") from exc
        assert env.rules is not None
        if not env.rules.rules:
            return
        decision = env.rules.evaluate(MailView.of(msg))
        if not decision.matched:
            return
        mid = msg.message_id or "?"
        if decision.hold and msg.entry.source.startswith(RELEASED_SOURCE):
            log.info("message %s stage rules: hold by %s skipped: released from the quarantine", mid,
                     ", ".join(decision.matched))
            decision.hold = None
        msg.rules = decision
        matched = ", ".join(decision.matched)
        log.info("message %s stage rules: matched %s%s", mid, matched,
                 f" (fingerprint {decision.fingerprint}, {decision.alert})" if decision.fingerprint else "")
        if decision.hold:
            raise Held(f"by rule {matched}: {decision.hold}")
        if decision.drop:
            raise Discard(f"dropped by rule {matched}: {decision.drop}")
        if decision.queue:
            msg.queue = env.settings.queue_named(decision.queue) or msg.queue
        if decision.fingerprint and not msg.auto_class:
            msg.auto_class = "alert"
