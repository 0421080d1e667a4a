"""Match conditions: one small registered class per TOML key under `[rule.match]`.

Every condition answers `match(view)` with the named regex groups it captured (an empty
dict when it matched without groups) or None when it did not match. Several keys in one
table must all match; `any`, `all` and `not` combine nested tables.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

from mailgate.core.errors import ConfigError
from mailgate.core.registry import Registry
from mailgate.rules.view import MailView

Groups = dict[str, str]


class Condition(Protocol):
    key: ClassVar[str]

    def match(self, view: MailView) -> Groups | None: ...

    def group_names(self) -> set[str]: ...




def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: expected a non-empty string or a list of them, got {value!r}")
    return tuple(value)


def _regex(value: Any, where: str, flags: int = 0) -> re.Pattern[str]:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: expected a regular expression (a string), got {value!r}")
    try:
        return re.compile(value, flags)
    except re.error as exc:
        raise ConfigError(f"{where}: invalid regular expression {value!r}: {exc}") from None


def _found(m: re.Match[str] | None) -> Groups | None:
    if m is None:
        return None
    return {k: v.strip() for k, v in m.groupdict().items() if v is not None}


class _Globs:
    """Shared by address conditions: shell-style patterns (`nagios@*`), case-insensitive."""

    def __init__(self, value: Any, where: str) -> None:
        self.patterns = tuple(p.lower() for p in _strings(value, where))

    def hits(self, address: str) -> bool:
        return any(fnmatch.fnmatchcase(address, p) for p in self.patterns)

    def group_names(self) -> set[str]:
        return set()


class SenderIs(_Globs):
    """`from = "nagios@*"`: the From: address matches one of the patterns."""

    key = "from"

    def match(self, view: MailView) -> Groups | None:
        return {} if self.hits(view.sender) else None


class SenderDomain(_Globs):
    """`from_domain = "monitor.example.com"`: that domain or any subdomain of it."""

    key = "from_domain"

    def match(self, view: MailView) -> Groups | None:
        domain = view.sender.rpartition("@")[2]
        ok = any(domain == p or domain.endswith("." + p) for p in self.patterns)
        return {} if ok else None


class RecipientIs(_Globs):
    """`to = "ops@example.com"`: any envelope or header recipient matches."""

    key = "to"

    def match(self, view: MailView) -> Groups | None:
        return {} if any(self.hits(r) for r in view.recipients) else None


class _Pattern:
    flags = 0

    def __init__(self, value: Any, where: str) -> None:
        self.regex = _regex(value, where, self.flags)

    def group_names(self) -> set[str]:
        return set(self.regex.groupindex)


class SubjectMatches(_Pattern):
    """`subject = '^\\*\\* PROBLEM .*'`: a regex searched in the decoded subject."""

    key = "subject"

    def match(self, view: MailView) -> Groups | None:
        return _found(self.regex.search(view.subject))


class BodyMatches(_Pattern):
    """`body = '^Host: (?P<host>\\S+)'`: searched in the text body, `^`/`$` match per line."""

    key = "body"
    flags = re.MULTILINE

    def match(self, view: MailView) -> Groups | None:
        return _found(self.regex.search(view.body))


class HeaderMatches:
    """`header = { X-Cron-Env = "SHELL=" }`: each named header has a value matching its
    regex (a missing header never matches)."""

    key = "header"

    def __init__(self, value: Any, where: str) -> None:
        if not isinstance(value, Mapping) or not value:
            raise ConfigError(f"{where}: expected a table of header name = regex, got {value!r}")
        self.patterns = {name: _regex(rx, f"{where}.{name}") for name, rx in value.items()}

    def match(self, view: MailView) -> Groups | None:
        groups: Groups = {}
        for name, regex in self.patterns.items():
            found = next((g for v in view.header_values(name) if (g := _found(regex.search(v))) is not None), None)
            if found is None:
                return None
            groups.update(found)
        return groups

    def group_names(self) -> set[str]:
        return {n for rx in self.patterns.values() for n in rx.groupindex}


class AutoClassIs:
    """`auto_class = ["auto-reply", "bounce"]`: the classify stage's verdict; "person" is a
    person's mail (no automatic-mail signs)."""

    key = "auto_class"

    def __init__(self, value: Any, where: str) -> None:
        self.classes = {"" if c == "person" else c for c in _strings(value, where)}

    def match(self, view: MailView) -> Groups | None:
        return {} if view.auto_class in self.classes else None

    def group_names(self) -> set[str]:
        return set()


class AllOf:
    """Every condition matches; their named groups are merged (later ones win)."""

    key = "all"

    def __init__(self, parts: list[Condition]) -> None:
        self.parts = parts

    def match(self, view: MailView) -> Groups | None:
        groups: Groups = {}
        for part in self.parts:
            found = part.match(view)
            if found is None:
                return None
            groups.update(found)
        return groups

    def group_names(self) -> set[str]:
        return {n for p in self.parts for n in p.group_names()}


class AnyOf(AllOf):
    """The first matching condition wins and gives its named groups."""

    key = "any"

    def match(self, view: MailView) -> Groups | None:
        return next((g for part in self.parts if (g := part.match(view)) is not None), None)


class NoneOf(AllOf):
    """`not = {...}`: matches when the nested table does not."""

    key = "not"

    def match(self, view: MailView) -> Groups | None:
        return None if self.parts[0].match(view) is not None else {}

    def group_names(self) -> set[str]:
        return set()  # groups of something that did not match are never available


def _table_list(value: Any, where: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not value or not all(isinstance(v, Mapping) for v in value):
        raise ConfigError(f"{where}: expected a non-empty list of condition tables, got {value!r}")
    return value


def build_match(table: Any, where: str) -> Condition:
    """Build the condition tree of a `match` table; ConfigError names the offending key."""
    if not isinstance(table, Mapping) or not table:
        raise ConfigError(f"{where}: expected a non-empty table of conditions")
    parts: list[Condition] = []
    for key, value in table.items():
        here = f"{where}.{key}"
        if key in ("any", "all"):
            subs = [build_match(t, f"{here}[{i}]") for i, t in enumerate(_table_list(value, here))]
            parts.append(AnyOf(subs) if key == "any" else AllOf(subs))
        elif key == "not":
            parts.append(NoneOf([build_match(value, here)]))
        else:
            cls = CONDITIONS.get(key)
            if cls is None:
                raise ConfigError(f"{here}: unknown condition (expected one of: all, any, not, "
                                  f"{CONDITIONS.keys_text()})")
            parts.append(cls(value, here))  # type: ignore[call-arg]
    return parts[0] if len(parts) == 1 else AllOf(parts)


# every condition, by its TOML key: built once here, never filled from elsewhere
CONDITIONS: Registry[type[Condition]] = Registry("condition", (
    SenderIs, SenderDomain, RecipientIs, SubjectMatches, BodyMatches, HeaderMatches, AutoClassIs,
))
