"""Load and validate the rule files: `*.toml` in the configured rules folder, in name order.

Loading either returns a complete RuleSet or raises ConfigError naming the file, the rule
and the key, so a bad edit picked up by SIGHUP leaves the running rules in place.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailgate.core.errors import ConfigError
from mailgate.core.message import Decision
from mailgate.rules.actions import ACTIONS, Action, BuildContext, Stop
from mailgate.rules.conditions import Condition, build_match
from mailgate.rules.view import MailView

if TYPE_CHECKING:
    from mailgate.config import Settings

RULE_KEYS = ("name", "description", "match", "actions")


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    source: str  # file name, for messages and `rules check`
    condition: Condition
    actions: tuple[Action, ...]

    @property
    def stops(self) -> bool:
        return any(isinstance(a, Stop) and a.on for a in self.actions)


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...] = ()
    files: tuple[str, ...] = ()

    def evaluate(self, view: MailView) -> Decision:
        """Apply every matching rule in order until one says `stop`. Pure: no database."""
        decision = Decision()
        for rule in self.rules:
            groups = rule.condition.match(view)
            if groups is None:
                continue
            decision.matched.append(rule.name)
            decision.groups.update(groups)
            for action in rule.actions:
                decision.steps.append((rule.name, action.key, action.apply(decision, groups)))
            if rule.stops:
                break
        return decision


def _build_actions(table: Any, where: str, settings: Settings, groups: frozenset[str]) -> tuple[Action, ...]:
    if not isinstance(table, Mapping) or not table:
        raise ConfigError(f"{where}: expected a non-empty table of actions")
    ctx = BuildContext(settings=settings, groups=groups, actions=frozenset(table))
    built = []
    for key, value in table.items():
        cls = ACTIONS.get(key)
        if cls is None:
            raise ConfigError(f"{where}.{key}: unknown action (expected one of: {ACTIONS.keys_text()})")
        built.append(cls(value, f"{where}.{key}", ctx))  # type: ignore[call-arg]
    if "drop" in table and "hold" in table:
        raise ConfigError(f"{where}.hold: a rule cannot both drop and hold a message")
    return tuple(built)


def _build_rule(data: Any, index: int, path: Path, settings: Settings) -> Rule:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: rule[{index}]: expected a table ([[rule]])")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{path}: rule[{index}].name: required, a non-empty string")
    where = f"{path}: rule {name!r}"
    unknown = sorted(set(data) - set(RULE_KEYS))
    if unknown:
        raise ConfigError(f"{where}: {unknown[0]}: unknown key (expected one of: {', '.join(RULE_KEYS)})")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(f"{where}: description: expected a string")
    for key in ("match", "actions"):
        if key not in data:
            raise ConfigError(f"{where}: {key}: required table is missing")
    try:
        condition = build_match(data["match"], "match")
        actions = _build_actions(data["actions"], "actions", settings, frozenset(condition.group_names()))
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return Rule(name=name, description=description, source=path.name, condition=condition, actions=actions)


def load_rule_file(path: Path, settings: Settings) -> list[Rule]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"rule"})
    if unknown:
        raise ConfigError(f"{path}: {unknown[0]}: unknown key (a rule file holds only [[rule]] tables)")
    items = data.get("rule", [])
    if not isinstance(items, list):
        raise ConfigError(f"{path}: rule: expected an array of tables ([[rule]])")
    return [_build_rule(item, i, path, settings) for i, item in enumerate(items)]


def load_rules(settings: Settings) -> RuleSet:
    """All rule files of `settings.rules`, in file-name order (the configuration check made
    sure the folder exists); anything unreadable or invalid raises ConfigError."""
    folder = settings.rules_dir
    if not folder.exists():
        raise ConfigError(f"rules: no such folder {folder}")
    if not folder.is_dir():
        raise ConfigError(f"rules: {folder} is not a folder")
    rules: list[Rule] = []
    # rules = "." (rules beside the configuration) must not read mailgate.toml as rules
    files = sorted(p for p in folder.glob("*.toml") if p.resolve() != settings.path.resolve())
    seen: dict[str, str] = {}
    for path in files:
        for rule in load_rule_file(path, settings):
            if rule.name in seen:
                raise ConfigError(f"{path}: rule {rule.name!r}: duplicate name (also in {seen[rule.name]})")
            seen[rule.name] = path.name
            rules.append(rule)
    return RuleSet(rules=tuple(rules), files=tuple(p.name for p in files))
