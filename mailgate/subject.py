"""Subject handling: our ticket tag, reply/forward prefixes, foreign helpdesk tags."""

from __future__ import annotations

import re
import unicodedata

# Re:, RE:, AW: (de), SV: (nordic), Antw: (nl), Fwd:/Fw:, WG: (de), TR: (fr), Réf., and
# bracketed warnings that mail filters add
# and the CJK ones: 返信/転送 (ja), 回复/答复/转发 (zh), 回覆/轉寄 (zh-TW), 회신/답장/전달 (ko)
_PREFIX_RE = re.compile(
    r"^\s*(?:(?:re|aw|sv|antw|vs|ref|réf|fwd?|wg|tr|rv|enc|odp|pd|r|vá|ynt|atb|bls|"
    r"返信|転送|回复|答复|转发|回覆|轉寄|회신|답장|전달)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]"
    r"|\[(?:external|extern|ext|spam|suspicious|caution|warning)\]|\*\*\*\s*spam\s*\*\*\*)\s*",
    re.IGNORECASE,
)


# another system's ticket tag: "[Acme #77]", "[Ticket#2024011510000012]", "[JIRA-123]"
_FOREIGN_TAG_RE = re.compile(r"^\s*(?:\[[^\]]*[#-]\s*[\w-]*\d+[^\]]*\]\s*)+")


def tag_regex(tag: str) -> re.Pattern[str]:
    return re.compile(r"\[\s*" + re.escape(tag) + r"\s*#\s*(\d+)\s*\]", re.IGNORECASE)


def find_ticket_number(subject: str, tag: str) -> int | None:
    """Our ticket number in a subject. NFKC first: Japanese and Chinese clients may turn
    "[Helpdesk #12]" into full-width "［Helpdesk ＃１２］"."""
    text = unicodedata.normalize("NFKC", subject or "")
    m = tag_regex(tag).search(text)
    return int(m.group(1)) if m else None


def strip_prefixes(subject: str) -> str:
    prev = None
    s = subject or ""
    while prev != s:
        prev = s
        s = _PREFIX_RE.sub("", s)
    return s.strip()


def clean_subject(subject: str, tag: str) -> str:
    """The ticket title: reply/forward prefixes and our own tag removed, wherever they sit
    ("[Acme #77] Re: [Helpdesk #12] AW: x" -> "[Acme #77] x"); foreign helpdesks' tags are
    kept, because the other helpdesk threads its side by them."""
    s = unicodedata.normalize("NFKC", subject or "") if _fullwidth_tag(subject, tag) else subject or ""
    parts = tag_regex(tag).split(s)
    s = " ".join(part for i, part in enumerate(parts) if i % 2 == 0)  # drop captured numbers
    # prefixes also hide behind a leading foreign tag: strip them on either side of it
    m = _FOREIGN_TAG_RE.match(strip_prefixes(s))
    if m:
        s = m.group(0).strip() + " " + strip_prefixes(strip_prefixes(s)[m.end():])
    return re.sub(r"\s{2,}", " ", strip_prefixes(s)).strip()


def _fullwidth_tag(subject: str | None, tag: str) -> bool:
    return bool(subject) and tag_regex(tag).search(subject or "") is None and \
        tag_regex(tag).search(unicodedata.normalize("NFKC", subject or "")) is not None


def normalize(subject: str, tag: str) -> str:
    return clean_subject(subject, tag).casefold()


def tagged_subject(ticket_id: int, title: str, tag: str) -> str:
    return f"[{tag} #{ticket_id}] {title or '(no subject)'}"
