"""Apply the declarative rules (rules/*.toml) to a message. Pure: no database, so it runs
wherever the other pure stages run (worker processes too).

The rules' Decision goes on `msg.rules`; the database stages carry it out (AlertGrouping
before Thread, RuleActions after Store). Only two things happen here, because they must be
known before the database stages: the queue a new ticket opens in, and the automatic-mail
class "alert" for messages with a fingerprint, so no acknowledgement or alert mail ever
answers a monitoring system (no backscatter, no loop).
"""

from __future__ import annotations

import logging

from mailgate.errors import ConfigError, TransientError
from mailgate.rules import MailView, load_rules
from mailgate.stages.base import Env, Inbound

log = logging.getLogger("mailgate.rules")

RELEASED_SOURCE = "quarantine-retry:"  # `mailgate quarantine retry`: a person released it


def load_rules_into_env(env: Env) -> None:
    """The SIGHUP hook: validate the rule files against the candidate settings and keep them
    on the Env; a ConfigError leaves the running rules in place."""
    env.rules = load_rules(env.settings)


class RulesStage:
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
        mid = msg.parsed.message_id if msg.parsed else "?"
        if decision.hold and msg.entry.source.startswith(RELEASED_SOURCE):
            log.info("message %s stage rules: hold by %s skipped: released from the quarantine", mid,
                     ", ".join(decision.matched))
            decision.hold = None
        msg.rules = decision
        if decision.queue:
            msg.queue = env.settings.queue_named(decision.queue) or msg.queue
        if decision.fingerprint and not msg.auto_class:
            msg.auto_class = "alert"
        log.info("message %s stage rules: matched %s%s", mid, ", ".join(decision.matched),
                 f" (fingerprint {decision.fingerprint}, {decision.alert})" if decision.fingerprint else "")


try:  # the daemon's SIGHUP reload re-reads the rules; `mailgate deliver` does not need it
    from mailgate.daemon.reload import register_reload_hook
except ImportError:  # pragma: no cover - a build without the daemon
    pass
else:
    register_reload_hook("rules", load_rules_into_env)
