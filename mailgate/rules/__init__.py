"""Declarative rules (rules/*.toml): conditions and actions, each a small registered class.

`load_rules(settings)` builds a validated RuleSet (or raises ConfigError naming file, rule
and key); `RuleSet.evaluate(MailView)` is pure and returns the Decision for one message.
"""

from mailgate.core.message import Decision
from mailgate.rules.loader import Rule, RuleSet, load_rules
from mailgate.rules.view import MailView

__all__ = ["Decision", "MailView", "Rule", "RuleSet", "load_rules"]
