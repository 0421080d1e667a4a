"""HTML bodies: quote containers, text conversion, sanitising."""

from __future__ import annotations

import pytest

from mailgate.clean import clean_text, html_to_text, sanitize_html


@pytest.mark.parametrize(
    "quote",
    [
        '<div class="gmail_quote"><div>On Mon, Bob wrote:</div><blockquote>old text</blockquote></div>',
        '<blockquote type="cite">old text</blockquote>',
        '<div class="moz-cite-prefix">On 1/1/2024 Bob wrote:</div><blockquote type="cite">old text</blockquote>',
        '<div class="yahoo_quoted"><p>old text</p></div>',
        '<div id="divRplyFwdMsg"><b>From:</b> Bob</div><div>old text</div>',
        '<div id="OLK_SRC_BODY_SECTION"><p>old text</p></div>',
        "<hr><p>From: Bob</p><p>old text</p>",
    ],
)
def test_html_quote_containers(quote: str) -> None:
    ct = clean_text(None, f"<html><body><div>Hi there, it works.</div>{quote}</body></html>")
    assert ct.visible == "Hi there, it works."
    assert "old text" in ct.quoted


def test_html_only_mail_becomes_text_with_links() -> None:
    html = ('<html><head><style>p{color:red}</style></head><body><p>Hello <b>team</b>,</p>'
            '<p>see <a href="https://x.example/doc">the doc</a> and '
            '<a href="https://x.example">https://x.example</a>.</p></body></html>')
    ct = clean_text(None, html)
    assert ct.visible == ("Hello team,\n\nsee the doc (https://x.example/doc) and "
                          "https://x.example.")
    assert "color" not in ct.visible


def test_plain_preferred_but_empty_plain_uses_html() -> None:
    assert clean_text("From plain", "<p>From html</p>").visible == "From plain"
    assert clean_text("  \n", "<p>From html</p>").visible == "From html"


def test_html_to_text_blocks_and_lists() -> None:
    text = html_to_text("<ul><li>one</li><li>two</li></ul><p>a<br>b</p><pre>x\n  y</pre>")
    assert "- one" in text and "- two" in text
    assert "a\nb" in text
    assert "x\n  y" in text
    assert html_to_text("") == ""


def test_sanitize_html_removes_scripts_and_handlers() -> None:
    out = sanitize_html('<p onclick="x()">Hi<script>alert(1)</script>'
                        '<a href="javascript:alert(1)">x</a><b>ok</b></p>')
    assert "script" not in out and "onclick" not in out and "javascript" not in out
    assert "<b>ok</b>" in out
