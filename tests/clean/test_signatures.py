"""Class 4 of issue 18: short closings stay in the visible text, signature blocks go."""

from __future__ import annotations

import pytest

from mailgate.clean import clean_text

BODY = "The VPN drops every ten minutes since the update."


@pytest.mark.parametrize(
    "closing",
    ["Thanks, Bob", "Best regards,\nSome One", "Thank you!", "-Andrew", "Cheers\n\nKim",
     "Mit freundlichen Grüßen\nErika Muster", "Cordialement,\nCédric", "Pozdrawiam\nJan"],
)
def test_short_closing_stays(closing: str) -> None:
    ct = clean_text(f"{BODY}\n\n{closing}\n")
    assert ct.visible == f"{BODY}\n\n{closing}"
    assert ct.signature == ""


def test_contact_lines_after_the_closing_go_to_signature() -> None:
    ct = clean_text(f"{BODY}\n\nBest regards,\nSome One\nSenior Engineer | Example Corp\n"
                    "Tel. +49 30 1234 5678\nhttps://example.com\n")
    assert ct.visible == f"{BODY}\n\nBest regards,\nSome One"
    assert ct.signature == "Senior Engineer | Example Corp\nTel. +49 30 1234 5678\nhttps://example.com"


def test_name_and_contact_block_without_closing() -> None:
    ct = clean_text(f"{BODY}\n\nKim Larsen\nFacilities, Building 3\nkim.larsen@example.org\n")
    assert ct.visible == f"{BODY}\n\nKim Larsen"
    assert "kim.larsen@example.org" in ct.signature


def test_dash_dash_delimiter_takes_everything_below() -> None:
    ct = clean_text(f"{BODY}\n\nThanks,\nBob\n\n-- \nBob Example\nExample Corp\n")
    assert ct.visible == f"{BODY}\n\nThanks,\nBob"
    assert ct.signature == "--\nBob Example\nExample Corp"


def test_postscript_is_text_not_signature() -> None:
    body = f"{BODY}\n\nBest regards,\nSome One\n\nP.S. It also happens on the guest network."
    assert clean_text(body).visible == body


@pytest.mark.parametrize(
    "footer",
    ["Sent from my iPhone", "Verzonden vanuit Outlook voor iOS", "Az iPhone-omról küldve",
     "Trimis de pe iPhone\u2011ul meu", "أُرسلت من الـ iPhone", "Gesendet mit der mobilen Mail App",
     "Enviado do meu iPhone", "iPhoneから送信", "Skickat från min iPad", "Wysłane z mojego iPhone'a"],
)
def test_mobile_footer_translations(footer: str) -> None:
    ct = clean_text(f"{BODY}\n\n{footer}\n")
    assert ct.visible == BODY
    assert ct.signature == footer


def test_mobile_footer_with_glued_dash_delimiter() -> None:
    ct = clean_text("Works now \u2014 \nSent from Mailbox")
    assert ct.visible == "Works now"
    assert ct.signature == "\u2014\n\nSent from Mailbox"


def test_footer_between_answer_and_unattributed_old_message() -> None:
    ct = clean_text("Yes, Friday works.\nVerzonden vanuit Outlook voor iOS\n\nCan we meet on Friday?\n")
    assert ct.visible == "Yes, Friday works."
    assert ct.signature == "Verzonden vanuit Outlook voor iOS"
    assert ct.quoted == "Can we meet on Friday?"


def test_a_mail_that_is_only_a_signature_shows_it() -> None:
    ct = clean_text("-- \nKim Larsen\nFacilities\n")
    assert ct.visible == "--\nKim Larsen\nFacilities"
