"""The locale data of the clean stage, compiled once per process.

The words mail clients write (attribution verbs, "Original Message" banners, header keys,
"Sent from my …" footers, sign-offs) live in mailgate/clean/data/*.toml, by language, so a
new language is a data change. This module turns them into regular expressions; the modules
that use them (headers_i18n, forwards, signature, quotes) decide what a match means.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

# Characters that change nothing a reader sees but break matching: bidi controls around
# Arabic and Hebrew attributions, non-breaking hyphens in "iPhone‑ul meu".
_MATCH_FOLD = str.maketrans({
    "\u200e": None, "\u200f": None, "\u202a": None, "\u202b": None, "\u202c": None,
    "\u202d": None, "\u202e": None, "\u2066": None, "\u2067": None, "\u2068": None,
    "\u2069": None, "\u061c": None, "\u2010": "-", "\u2011": "-", "\xa0": " ",
})


def fold(line: str) -> str:
    """A line as the matchers see it (bidi controls dropped, odd hyphens and spaces plain)."""
    return line if line.isascii() else line.translate(_MATCH_FOLD)


def _load(name: str) -> dict[str, Any]:
    text = resources.files("mailgate.clean").joinpath("data", name).read_text(encoding="utf-8")
    return tomllib.loads(text)


def _all(table: dict[str, list[str]]) -> list[str]:
    """Every language's entries, longest first (so "napisał(a)" is tried before "napisał")."""
    return sorted({w for words in table.values() for w in words}, key=len, reverse=True)


def phrase(text: str) -> str:
    """One data entry as a regex: literal, a space matches any white space, {device} a short
    device or app name."""
    out = []
    for part in re.split(r"(\{device\}| )", text):
        if part == " ":
            out.append(r"\s+")
        elif part == "{device}":
            out.append(r"\S.{0,39}?")
        elif part:
            out.append(re.escape(part))
    return "".join(out)


def alternation(table: dict[str, list[str]]) -> str:
    return "|".join(phrase(w) for w in _all(table))


@dataclass(frozen=True)
class Attribution:
    verb_at_end: re.Pattern[str]
    verb_anywhere: re.Pattern[str]
    opener: re.Pattern[str]
    intro: re.Pattern[str]
    original_message: re.Pattern[str]
    forward: re.Pattern[str]
    header_key: re.Pattern[str]  # group "key": any header key at the start of a line
    header_key_inline: re.Pattern[str]  # header keys anywhere in a squashed one-line block
    key_role: dict[str, str]  # lower-cased key → from / date / to / cc / subject
    verbs: tuple[str, ...]  # the verbs, lower-cased, for a quick str.endswith test
    forward_subject: re.Pattern[str]  # a subject that starts with a forward prefix


@dataclass(frozen=True)
class Signature:
    mobile: re.Pattern[str]
    sign_off: re.Pattern[str]  # a line that is only a sign-off (punctuation allowed)
    sign_off_name: re.Pattern[str]  # "Thanks, Bob" / "Cheers Bob" on one line
    sign_off_start: re.Pattern[str]  # a line that starts with a sign-off word
    reply_marker: re.Pattern[str]


def _header_keys(table: dict[str, list[str]]) -> tuple[str, dict[str, str]]:
    roles = {key.lower(): role for role, keys in table.items() for key in keys}
    alt = "|".join(phrase(k) for k in sorted(roles, key=len, reverse=True))
    return alt, roles


@functools.cache
def attribution() -> Attribution:
    data = _load("attribution.toml")
    verbs, openers = alternation(data["wrote"]), alternation(data["openers"])
    keys, roles = _header_keys(data["header_keys"])
    banners, intros = alternation(data["forward_banners"]), alternation(data["forward_intros"])
    return Attribution(
        # a verb not glued to a preceding letter ("rewrote"), colon optional at the end
        verb_at_end=re.compile(rf"(?<![^\W\d_])(?:{verbs})\s*[:：]?\s*$", re.I),
        verb_anywhere=re.compile(rf"(?<![^\W\d_])(?:{verbs})(?![^\W\d_])", re.I),
        opener=re.compile(rf"^(?:{openers})\s", re.I),
        intro=re.compile(rf"^(?:{alternation(data['intros'])})\s", re.I),
        original_message=re.compile(
            rf"^\s*[-=_*]*\s*(?:{alternation(data['original_message'])})\s*[-=_*]*\s*:?\s*(?P<rest>.*?)\s*$",
            re.I),
        forward=re.compile(
            rf"^\s*(?:[-=_*]{{2,}}\s*(?:{banners})\s*[-=_*]{{2,}}|(?:{intros})\s*[:：])\s*$", re.I),
        # optional bold markers (*From:*), white space before the colon ("De :")
        header_key=re.compile(rf"^\s*[*_]?\s*(?P<key>{keys})\s*[*_]?\s*[:：]", re.I),
        header_key_inline=re.compile(rf"(?:^|(?<=[\s\d*_]))(?P<key>{keys})\s*[*_]?\s*[:：]", re.I),
        key_role=roles,
        verbs=tuple(v.lower() for v in _all(data["wrote"])),
        # "[Helpdesk #12] Fwd: …", "WG: AW: …": tags in brackets first, then the prefix
        forward_subject=re.compile(
            rf"^\s*(?:\[[^\]]*\]\s*)*(?:{alternation(data['forward_prefixes'])})\s*(?:\[\d+\])?\s*[:：]", re.I),
    )


@functools.cache
def signature() -> Signature:
    data = _load("signature.toml")
    sign_offs = alternation(data["sign_offs"])
    return Signature(
        mobile=re.compile(rf"^[\s(<\[]*(?:{alternation(data['mobile_footers'])})", re.I),
        sign_off=re.compile(rf"^\s*(?:{sign_offs})(?:\s+(?:and|&)\s+\w+)?\s*[,.!:;]*\s*$", re.I),
        sign_off_name=re.compile(
            rf"^\s*(?:{sign_offs})\s*[,!.]?\s+(?P<name>[^\W\d_][\w.'’-]*(?:\s+[^\W\d_][\w.'’-]*){{0,2}})\s*[.!]?\s*$",
            re.I),
        sign_off_start=re.compile(rf"^\s*(?:{sign_offs})(?![^\W\d_])", re.I),
        reply_marker=re.compile(rf"(?:{alternation(data['reply_markers'])})", re.I),
    )
