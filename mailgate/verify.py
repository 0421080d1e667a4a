"""Is the sender who the From: header says? Decided before any command runs.

Believed, in this order:
(a) reply token: the message came through a signed reply address (helpdesk+t12p34-mac@)
    that was made for the very person in From:;
(b) Authentication-Results: the TOPMOST header whose authserv-id is one of
    `[commands] trusted_authserv_ids` (our own receiving server) shows dmarc=pass for the
    From domain, or dkim=pass with a signing domain aligned with the From domain. Only that
    one header is read: anyone can write an Authentication-Results header into their mail,
    but it lands below the one our server prepends, so it is never looked at;
(c) `[commands] trust_from_header = true` (a closed internal relay).
"""

from __future__ import annotations

import re

from mailgate.config import CommandSettings
from mailgate.core.changes import Verdict
from mailgate.core.message import ParsedMessage

_COMMENT_RE = re.compile(r"\([^()]*\)")


def _aligned(signing: str, from_domain: str) -> bool:
    """Relaxed alignment (RFC 7489): the same domain or one a subdomain of the other."""
    signing, from_domain = signing.lower().strip("."), from_domain.lower().strip(".")
    if not signing or not from_domain:
        return False
    return signing == from_domain or from_domain.endswith("." + signing) or signing.endswith("." + from_domain)


def parse_authentication_results(value: str) -> tuple[str, list[tuple[str, str, dict[str, str]]]]:
    """'mx.example.com; dkim=pass header.d=example.com' ->
    ('mx.example.com', [('dkim', 'pass', {'header.d': 'example.com'})])."""
    text = _COMMENT_RE.sub(" ", _COMMENT_RE.sub(" ", value))  # nested comments, two levels
    parts = [p.strip() for p in text.split(";")]
    authserv = parts[0].split()[0] if parts and parts[0].split() else ""
    # lower-case ASCII only: str.lower() maps lookalikes onto ASCII ("\u212a" KELVIN SIGN -> "k"),
    # and an MX that removes headers naming its own id compares bytes, so it lets those through
    authserv = authserv.lower() if authserv.isascii() else authserv
    results = []
    for part in parts[1:]:
        tokens = part.split()
        if not tokens or "=" not in tokens[0]:
            continue
        method, _, result = tokens[0].partition("=")
        props = {}
        for tok in tokens[1:]:
            key, eq, val = tok.partition("=")
            if eq:
                props[key.lower()] = val.strip('"').lower()
        results.append((method.lower().split("/")[0], result.lower(), props))
    return authserv, results


def _from_authentication_results(parsed: ParsedMessage, trusted: tuple[str, ...]) -> Verdict | None:
    trusted_ids = {t.lower() for t in trusted}
    from_domain = parsed.from_addr.rpartition("@")[2].lower()
    for name, value in parsed.headers:  # header order as received: topmost first
        if name.lower() != "authentication-results":
            continue
        authserv, results = parse_authentication_results(value)
        if authserv not in trusted_ids:
            continue
        for method, result, props in results:
            if method == "dmarc" and result == "pass" and props.get("header.from", from_domain) == from_domain:
                return Verdict(True, "dmarc")
        for method, result, props in results:
            if method == "dkim" and result == "pass":
                signing = props.get("header.d") or props.get("header.i", "").rpartition("@")[2]
                if _aligned(signing, from_domain):
                    return Verdict(True, "dkim")
        return Verdict(False, reason=f"your mail server's check ({authserv}) did not show a DMARC pass or an "
                                     f"aligned DKIM signature for {from_domain}")
    return None


def verify_sender(parsed: ParsedMessage, sender_person_id: int, token_person_id: int | None,
                  settings: CommandSettings) -> Verdict:
    if token_person_id is not None and token_person_id == sender_person_id:
        return Verdict(True, "reply-token")
    verdict = _from_authentication_results(parsed, settings.trusted_authserv_ids)
    if verdict is not None and verdict.verified:
        return verdict
    if settings.trust_from_header:
        return Verdict(True, "trusted-from")
    if verdict is not None:
        return verdict
    if token_person_id is not None:
        return Verdict(False, reason="the reply address you wrote to was made for someone else; reply to "
                                     "a notification sent to you")
    return Verdict(False, reason="the From: address could not be verified; reply to a notification from the "
                                 "helpdesk (its reply address identifies you) to run commands")
