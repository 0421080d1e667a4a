"""HTML bodies: quote containers of real clients (class 5 of issue 18), text conversion,
sanitising."""

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
        '<div class="zmail_extra"><div>old text</div></div>',
        '<div class="protonmail_quote">On Mon, Bob wrote:<blockquote>old text</blockquote></div>',
        '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3pt 0 0 0">'
        "<p><b>From:</b> Bob<br><b>Sent:</b> Monday<br><b>Subject:</b> x</p></div><p>old text</p>",
        '<div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> Bob</div>'
        "<div>old text</div>",
    ],
)
def test_html_quote_containers(quote: str) -> None:
    ct = clean_text(None, f"<html><body><div>Hi there, it works.</div>{quote}</body></html>")
    assert ct.visible == "Hi there, it works."
    assert "old text" in ct.quoted


def test_outlook_header_div_nested_deeper_than_the_old_message() -> None:
    html = ('<div class="WordSection1"><p>Done.</p><div><div style="border:none;border-top:solid '
            '#B5C4DF 1.0pt"><p><b>From:</b> Bob<br><b>Sent:</b> Monday</p></div></div>'
            "<p>Please restart the spooler.</p></div>")
    ct = clean_text(None, html)
    assert ct.visible == "Done."
    assert "Please restart the spooler." in ct.quoted


def test_blockquote_the_author_wrote_as_content_stays() -> None:
    html = ("<p>Our opening hours change:</p><blockquote><p>Mon-Fri 8-18</p></blockquote>"
            "<p>Please tell your team.</p>")
    ct = clean_text(None, html)
    assert ct.visible == "Our opening hours change:\n\n> Mon-Fri 8-18\n\nPlease tell your team."
    assert ct.quoted == ""


def test_inline_answer_between_apple_mail_quotes() -> None:
    html = ('<div>On 5 Dec 2024, at 10:15, Ops &lt;ops@example.net&gt; wrote:</div>'
            '<blockquote type="cite"><div>Which floor?</div></blockquote><div>The third.</div>'
            '<blockquote type="cite"><div>Ops desk</div></blockquote>')
    ct = clean_text(None, html)
    # the kept quote reads as a quote ("> "), as in a plain-text reply
    assert ct.visible == "On 5 Dec 2024, at 10:15, Ops <ops@example.net> wrote:\n\n> Which floor?\n\nThe third."
    assert ct.quoted == "> Ops desk"


def test_gmail_forward_container_stays_visible() -> None:
    html = ('<div dir="ltr">FYI<br><div class="gmail_quote"><div class="gmail_attr">'
            "---------- Forwarded message ---------<br>From: <b>Kim</b> &lt;kim@example.org&gt;<br>"
            "Subject: Door 4<br></div><br><div>The door stays locked.</div></div></div>"
            '<br>-- <br><div class="gmail_signature">Jane</div>')
    ct = clean_text(None, html)
    assert ct.visible == ("FYI\n\nForwarded message from Kim <kim@example.org>: Door 4\n\n"
                          "The door stays locked.")
    assert ct.signature == "--\n\nJane"


def test_a_mail_that_is_all_one_quote_container_keeps_its_text() -> None:
    html = '<blockquote class="gmail_quote"><div>Hi all,</div><div>the lift is out of order.</div></blockquote>'
    assert clean_text(None, html).visible == "> Hi all,\n\n> the lift is out of order."


def test_a_command_line_in_a_kept_html_quote_is_not_at_the_top_of_the_text() -> None:
    # the commands stage reads `name: value` lines from the top of the visible text: a quote
    # kept above the author's answer must not look like the author's own lines
    html = "<blockquote><div>status: closed</div></blockquote><div>Please keep it open, it still fails.</div>"
    visible = clean_text(None, html).visible
    assert visible.startswith("> status: closed")
    assert visible.endswith("Please keep it open, it still fails.")


def test_invisible_characters_leave_no_stray_line() -> None:
    html = "<div>Hello\u200b</div><div>\u200b</div><div>\u1427</div><div>\ufeffthe scanner is back.</div>"
    # the empty blocks leave nothing: the one blank line is what any two <div>s give
    assert clean_text(None, html).visible == "Hello\n\nthe scanner is back."
    assert clean_text("Hello\u200b\n\u200b\n\u1427\nthe scanner is back.").visible == (
        "Hello\n\nthe scanner is back.")


def test_xml_declaration_in_html_body() -> None:
    html = '<?xml version="1.0" encoding="UTF-8"?><html><body><p>Works now.</p></body></html>'
    assert clean_text(None, html).visible == "Works now."


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
