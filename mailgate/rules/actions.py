"""Rule actions: one small registered class per TOML key under `[rule.actions]`.

Actions do not touch the database: each writes its part of a plain `Decision`, which the
rules stage puts on the message and the database stages carry out. Values may use the
rule's named regex groups as `{host}`; a placeholder that no regex of the rule defines is
a load-time error, so a typo cannot silently produce an empty fingerprint.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from mailgate.core.errors import ConfigError
from mailgate.core.message import Decision
from mailgate.core.registry import Registry
from mailgate.core.statuses import RULE_SETTABLE

if TYPE_CHECKING:
    from mailgate.config import Settings



@dataclass(frozen=True)
class BuildContext:
    settings: Settings
    groups: frozenset[str]  # named groups the rule's conditions can capture
    actions: frozenset[str]  # the keys present in the same actions table


class Action(Protocol):
    key: ClassVar[str]

    def apply(self, decision: Decision, groups: dict[str, str]) -> str: ...




class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return ""  # a group inside an `any` branch that did not match


class Template:
    """A string with `{group}` placeholders checked against the rule's regex groups."""

    def __init__(self, value: Any, where: str, ctx: BuildContext) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: expected a non-empty string, got {value!r}")
        try:
            names = {f for _, f, spec, conv in string.Formatter().parse(value) if f is not None}
        except ValueError as exc:
            raise ConfigError(f"{where}: bad placeholder in {value!r}: {exc}") from None
        unknown = sorted(n for n in names if n not in ctx.groups)
        if unknown:
            known = ", ".join(sorted(ctx.groups)) or "none"
            raise ConfigError(f"{where}: {{{unknown[0]}}} is not a named group of this rule's "
                              f"match (named groups: {known})")
        self.text = value

    def render(self, groups: dict[str, str]) -> str:
        return self.text.format_map(_Missing(groups)).strip()


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    return value


def _string_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}: expected a string or a list of strings, got {value!r}")
    return value


class SetQueue:
    """`queue = "ops"`: the queue a new ticket opens in (replies stay where they are)."""

    key = "queue"

    def __init__(self, value: Any, where: str, ctx: BuildContext) -> None:
        if not isinstance(value, str) or ctx.settings.queue_named(value) is None:
            known = ", ".join(q.name for q in ctx.settings.queues)
            raise ConfigError(f"{where}: unknown queue {value!r} (known: {known})")
        self.name = value

    def apply(self, decision: Decision, groups: dict[str, str]) -> str:
        decision.queue = self.name
        return self.name


class SetPriority:
    key = "priority"

    def __init__(self, value: Any, where: str, ctx: BuildContext) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 4:
            raise ConfigError(f"{where}: expected 1 (highest) to 4, got {value!r}")
        self.value = value

    def apply(self, decision: Decision, groups: dict[str, str]) -> str:
        decision.priority = self.value
        return str(self.value)


class SetOwner:
    """`owner = "alice@example.com"`: must be a technician or admin in [[person]]."""

    key = "owner"

    def __init__(self, value: Any, where: str, ctx: BuildContext) -> None:
        person = ctx.settings.person(value) if isinstance(value, str) else None
        if person is None or person.role not in ("technician", "admin"):
            raise ConfigError(f"{where}: expected the address of a technician or admin "
                              f"configured in [[person]], got {value!r}")
        self.address = value.lower()

    def apply(self, decision: Decision, groups: dict[str, str]) -> str:
        decision.owner = self.address
        return self.address


class SetStatus:
    key = "status"

    def __init__(self, value: Any, where: str, ctx: BuildContext) -> None:
        if value not in RULE_SETTABLE:
            raise ConfigError(f"{where}: expected one of {', '.join(RULE_SETTABLE)}, got {value!r}")
        self.value = value

    def apply(self, decision: Decision, groups: dict[str, str]) -> str:
        decision.status = self.value
        return self.value


class SetSubject:
    """`subject = "{service} on {host}"`: the title of a ticket this message opens (the
    mail's own subject otherwise); never renames an existing ticket."""

    key = "subject"

    def __init__(self, value: Any, where: str, ctx: BuildContext) -> None:
        self.template = Template(value, where, ctx)

    def apply(self, decision: Decision, groups: dict[str, str]) -> str:
        decision.subject = self.template.render(groups)[:500] or None
        return decision.subject or ""


class AddNosy:
    """`nosy = ["dba@example.com"]`: added to the ticket's nosy list."""

    key = "nosy"

    def __init__(self, value: Any, where: str, ctx: BuildContext) -> None:
        self.addresses = [a.strip().lower() for a in _string_list(value, where)]
        for a in self.addresses:
            if a.count("@") != 1 or a.startswith("@") or a.endswith("@"):
                raise ConfigError(f"{where}: expected email addresses, got {a!r}")

    def apply(self, decision: Decision, groups: dict[str, str]) -> str:
        decision.nosy += [a for a in self.addresses if a not in decision.nosy]
        return ", ".join(self.addresses)


class AddTags:
    """`tags = ["nagios", "{host}"]`: labels on the ticket (placeholders allowed)."""

    key = "tags"

    def __init__(self, value: Any, where: str, ctx: BuildContext) -> None:
        self.templates = [Template(v, f"{where}[{i}]", ctx) for i, v in enumerate(_string_list(value, where))]

    def apply(self, decision: Decision, groups: dict[str, str]) -> str:
        tags = [t for t in (tpl.render(groups).lower() for tpl in self.templates) if t]
        decision.tags += [t for t in tags if t not in decision.tags]
        return ", ".join(tags)


class _Reason:
    """`drop = true` or `drop = "why"`."""

    key: ClassVar[str]

    def __init__(self, value: Any, where: str, ctx: BuildContext) -> None:
        if value is True:
            self.reason = ""
        elif isinstance(value, str) and value.strip():
            self.reason = value.strip()
        else:
            raise ConfigError(f"{where}: expected true or a reason (a string), got {value!r}")


class Drop(_Reason):
    """Discard the message; the match is recorded and logged, nothing is stored on a ticket."""

    key = "drop"

    def apply(self, decision: Decision, groups: dict[str, str]) -> str:
        decision.drop = self.reason or "dropped by rule"
        return decision.drop


class Hold(_Reason):
    """Keep the message in the quarantine until a person releases it (`quarantine retry`)."""

    key = "hold"

    def apply(self, decision: Decision, groups: dict[str, str]) -> str:
        decision.hold = self.reason or "held by rule"
        return decision.hold


class Fingerprint:
    """`fingerprint = "{host}/{service}"`: the message is a monitoring alert about that
    problem; alerts with the same fingerprint share one ticket while it is open."""

    key = "fingerprint"

    def __init__(self, value: Any, where: str, ctx: BuildContext) -> None:
        self.template = Template(value, where, ctx)

    def apply(self, decision: Decision, groups: dict[str, str]) -> str:
        decision.fingerprint = self.template.render(groups)
        decision.alert = decision.alert or "problem"
        return decision.fingerprint


class _AlertKind:
    key: ClassVar[str]
    kind: ClassVar[str]

    def __init__(self, value: Any, where: str, ctx: BuildContext) -> None:
        self.on = _bool(value, where)
        if self.on and "fingerprint" not in ctx.actions:
            raise ConfigError(f"{where}: needs a fingerprint in the same actions table")

    def apply(self, decision: Decision, groups: dict[str, str]) -> str:
        if self.on:
            decision.alert = self.kind
        return str(self.on).lower()


class Resolve(_AlertKind):
    """`resolve = true`: a recovery; resolves the fingerprint's open ticket."""

    key = "resolve"
    kind = "recovery"


class Note(_AlertKind):
    """`note = true`: news about a known problem (an acknowledgement, a downtime): stored on
    the open ticket, never opens one, sends no alert mail."""

    key = "note"
    kind = "note"


class AlertState:
    """`state = "{state}"`: the state text kept with each occurrence (CRITICAL, firing)."""

    key = "state"

    def __init__(self, value: Any, where: str, ctx: BuildContext) -> None:
        self.template = Template(value, where, ctx)

    def apply(self, decision: Decision, groups: dict[str, str]) -> str:
        decision.alert_state = self.template.render(groups)
        return decision.alert_state


class Stop:
    """`stop = true`: later rules are not consulted for this message."""

    key = "stop"

    def __init__(self, value: Any, where: str, ctx: BuildContext) -> None:
        self.on = _bool(value, where)

    def apply(self, decision: Decision, groups: dict[str, str]) -> str:
        return str(self.on).lower()


# every action, by its TOML key: built once here, never filled from elsewhere
ACTIONS: Registry[type[Action]] = Registry("action", (
    SetQueue, SetPriority, SetOwner, SetStatus, SetSubject, AddNosy, AddTags, Drop, Hold,
    Fingerprint, Resolve, Note, AlertState, Stop,
))
