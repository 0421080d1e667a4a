"""Subject handling: our ticket tag, reply/forward prefixes, foreign helpdesk tags."""

from __future__ import annotations

import re

# Re:, RE:, AW: (de), SV: (nordic), Antw: (nl), Fwd:/Fw:, WG: (de), TR: (fr), Réf., and
# bracketed warnings that mail filters add
_PREFIX_RE = re.compile(
    r"^\s*(?:(?:re|aw|sv|antw|vs|ref|réf|fwd?|wg|tr|rv|enc|odp|pd|r)\s*(?:\[\d+\])?\s*[:：]|\[(?:external|extern|ext|spam|suspicious)\])\s*",
    re.IGNORECASE,
)


def tag_regex(tag: str) -> re.Pattern[str]:
    return re.compile(r"\[\s*" + re.escape(tag) + r"\s*#\s*(\d+)\s*\]", re.IGNORECASE)


def find_ticket_number(subject: str, tag: str) -> int | None:
    m = tag_regex(tag).search(subject or "")
    return int(m.group(1)) if m else None


def strip_prefixes(subject: str) -> str:
    prev = None
    s = subject or ""
    while prev != s:
        prev = s
        s = _PREFIX_RE.sub("", s)
    return s.strip()


def clean_subject(subject: str, tag: str) -> str:
    """The ticket title: prefixes and our own tag removed; foreign tags kept."""
    s = tag_regex(tag).sub("", strip_prefixes(subject))
    return re.sub(r"\s{2,}", " ", strip_prefixes(s)).strip()


def normalize(subject: str, tag: str) -> str:
    return clean_subject(subject, tag).casefold()


def tagged_subject(ticket_id: int, title: str, tag: str) -> str:
    return f"[{tag} #{ticket_id}] {title or '(no subject)'}"
