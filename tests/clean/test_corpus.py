"""mailgate.clean against the shared reference corpora (see ../shared/corpus/INVENTORY.md).

Only the cases whose expected output is asserted upstream are pinned here; the full scoring,
including informational rows, is bench/quality.py.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
from pathlib import Path

import pytest

from mailgate.clean import CleanText, clean_text

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus missing: {CORPUS}")


def norm(text: str) -> str:
    return " ".join(text.split())


def not_quoted(ct: CleanText) -> str:
    # talon's references check quote removal only; its output keeps signatures.
    return "\n\n".join(p for p in (ct.visible, ct.signature) if p)


def _load(rel: str) -> dict:
    path = CORPUS / rel
    return json.loads(path.read_text()) if path.is_file() else {}


TALON = _load("talon/expected.json")
WILL = _load("willdurand_email_reply_parser_php/expected.json")
CRISP = _load("crisp_email_reply_parser_js/expected.json")


def _first_plain(raw: bytes) -> str:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return next(p.get_content() for p in msg.walk() if p.get_content_type() == "text/plain")


@pytest.mark.parametrize("rel", sorted(k for k in TALON if "standard_replies" in k
                                       and k.endswith(".eml")))
def test_talon_standard_replies(rel: str) -> None:
    text = _first_plain((CORPUS / "talon" / rel).read_bytes())
    assert norm(not_quoted(clean_text(text))) == norm(TALON[rel]["expected_reply"])


@pytest.mark.parametrize("rel", sorted(k for k in TALON if "html_replies" in k))
def test_talon_html_replies(rel: str) -> None:
    html = (CORPUS / "talon" / rel).read_text(encoding="utf-8", errors="replace")
    got = re.sub(r"\s+", "", not_quoted(clean_text(None, html)))
    assert got == re.sub(r"\s+", "", TALON[rel]["expected_reply"])


def _text(corpus: str, sub: str, name: str) -> str:
    return (CORPUS / corpus / sub / name).read_text(encoding="utf-8", errors="replace")


@pytest.mark.parametrize("name", sorted(k for k, v in WILL.items()
                                        if v.get("expected_visible_text_asserted") is not None))
def test_willdurand_visible_text(name: str) -> None:
    text = _text("willdurand_email_reply_parser_php", "tests/Fixtures", name)
    want = WILL[name]["expected_visible_text_asserted"]
    assert norm(clean_text(text).visible) == norm(want)


@pytest.mark.parametrize("name", sorted(k for k, v in WILL.items()
                                        if v.get("expected_first_fragment_trimmed")))
def test_willdurand_first_fragment(name: str) -> None:
    text = _text("willdurand_email_reply_parser_php", "tests/Fixtures", name)
    want = WILL[name]["expected_first_fragment_trimmed"]
    assert norm(clean_text(text).visible) == norm(want)


# crisp keeps a "-Name" sign-off line in the text; talon and the PHP/Ruby originals treat it
# as a signature, and so do we. bench/quality.py still counts them (as failures).
CRISP_DIFFERENT_CONVENTION = {"email_1.txt", "email_3.txt"}


@pytest.mark.parametrize("name", sorted(
    k for k, v in CRISP.items()
    if (v.get("expected_visible_text_asserted") is not None
        or v.get("expected_first_fragment_asserted") is not None)
    and k not in CRISP_DIFFERENT_CONVENTION))
def test_crisp_visible_or_first_fragment(name: str) -> None:
    text = _text("crisp_email_reply_parser_js", "test/fixtures", name)
    e = CRISP[name]
    want = e.get("expected_visible_text_asserted") or e.get("expected_first_fragment_asserted")
    assert norm(clean_text(text).visible) == norm(want)
