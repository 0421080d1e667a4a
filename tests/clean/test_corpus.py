"""mailgate.clean against the asserted cases of talon, willdurand and crisp (see
../shared/corpus/INVENTORY.md): each must come out exactly as upstream asserts, or differ
only by a rule of docs/clean-text.md (bench/quality_policy.py decides from the case). No
count is pinned; the full scoring, the new reply-trimming sets included, is
bench/quality.py.
"""

from __future__ import annotations

import email
import email.policy
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

from mailgate.clean import CleanText, body_lines, clean_text

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus missing: {CORPUS}")


def _policy_module():
    path = Path(__file__).resolve().parents[2] / "bench" / "quality_policy.py"
    spec = importlib.util.spec_from_file_location("mailgate_bench_quality_policy", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


POLICY = _policy_module()


def norm(text: str) -> str:
    return " ".join(text.split())


def assert_exact_or_policy(got: str, want: str, plain: str | None, html: str | None,
                           same=lambda a, b: norm(a) == norm(b)) -> None:
    if same(got, want):
        return
    ct = clean_text(plain, html)
    lines, flags = body_lines(plain, html)
    quoted = frozenset(norm(x) for x, f in zip(lines, flags, strict=True) if f)
    rule = POLICY.policy_rule(POLICY.Case(want, got, ct, lines, quoted))
    assert rule, f"real miss (no policy rule explains it):\n--- expected:\n{want}\n--- got:\n{got}"


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
    assert_exact_or_policy(not_quoted(clean_text(text)), TALON[rel]["expected_reply"], text, None)


@pytest.mark.parametrize("rel", sorted(k for k in TALON if "html_replies" in k))
def test_talon_html_replies(rel: str) -> None:
    html = (CORPUS / "talon" / rel).read_text(encoding="utf-8", errors="replace")
    assert_exact_or_policy(not_quoted(clean_text(None, html)), TALON[rel]["expected_reply"], None, html,
                           same=lambda a, b: re.sub(r"\s+", "", a) == re.sub(r"\s+", "", b))


def _text(corpus: str, sub: str, name: str) -> str:
    return (CORPUS / corpus / sub / name).read_text(encoding="utf-8", errors="replace")


@pytest.mark.parametrize("name", sorted(k for k, v in WILL.items()
                                        if v.get("expected_visible_text_asserted") is not None))
def test_willdurand_visible_text(name: str) -> None:
    text = _text("willdurand_email_reply_parser_php", "tests/Fixtures", name)
    want = WILL[name]["expected_visible_text_asserted"]
    assert_exact_or_policy(clean_text(text).visible, want, text, None)


@pytest.mark.parametrize("name", sorted(k for k, v in WILL.items()
                                        if v.get("expected_first_fragment_trimmed")))
def test_willdurand_first_fragment(name: str) -> None:
    text = _text("willdurand_email_reply_parser_php", "tests/Fixtures", name)
    want = WILL[name]["expected_first_fragment_trimmed"]
    assert_exact_or_policy(clean_text(text).visible, want, text, None)


@pytest.mark.parametrize("name", sorted(
    k for k, v in CRISP.items()
    if (v.get("expected_visible_text_asserted") is not None
        or v.get("expected_first_fragment_asserted") is not None)))
def test_crisp_visible_or_first_fragment(name: str) -> None:
    text = _text("crisp_email_reply_parser_js", "test/fixtures", name)
    e = CRISP[name]
    want = e.get("expected_visible_text_asserted") or e.get("expected_first_fragment_asserted")
    assert_exact_or_policy(clean_text(text).visible, want, text, None)
