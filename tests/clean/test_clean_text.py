"""User-visible behaviour of mailgate.clean on plain-text bodies."""

from __future__ import annotations

import pytest

from mailgate.clean import REPLY_MARKER, CleanText, clean_text


def test_gmail_reply_quote_goes_to_quoted() -> None:
    body = (
        "Yes, Tuesday works.\n\n"
        "On Mon, Apr 2, 2012 at 6:26 PM, Megan One <megan@example.com> wrote:\n\n"
        "> Can we meet on Tuesday?\n"
    )
    ct = clean_text(body)
    assert ct.visible == "Yes, Tuesday works."
    assert "Can we meet on Tuesday?" in ct.quoted
    assert ct.quoted.startswith("On Mon, Apr 2, 2012")


def test_outlook_header_block_and_original_message() -> None:
    outlook = (
        "Done.\n\n________________________________\n"
        "From: Bob <bob@example.com>\nSent: Monday, April 2, 2012 5:44 PM\n"
        "To: Support\nSubject: Printer\n\nThe printer is broken.\n"
    )
    ct = clean_text(outlook)
    assert ct.visible == "Done."
    assert "The printer is broken." in ct.quoted
    aol = "Hello\n\n-----Original Message-----\nFrom: bob <bob@example.com>\nSubject: Test\n\nHi\n"
    assert clean_text(aol).visible == "Hello"


def test_apple_mail_quote_without_blank_line() -> None:
    ct = clean_text("Hello\n> On 22 Aug 2015, at 19:21, Adam <adam@example.com> wrote:\n>\n> Hi!\n")
    assert ct.visible == "Hello"
    assert "Hi!" in ct.quoted


@pytest.mark.parametrize(
    "header",
    [
        "Le 19 mars 2014 10:37, Cédric <cedric@example.com> a écrit :",
        "Am 25.06.2015 um 10:55 schrieb Test user <test@example.com>:",
        "El 19/03/2014 11:34, Juan Pérez <juan@example.com> escribió:",
        "Il giorno 8 dicembre 2016, Company <q@example.com> ha scritto:",
        "Op 12 december 2016 19:05 schreef Company <q@example.com>:",
        "W dniu 2017-01-09 11:59:39 użytkownik Company <q@example.com> napisał:",
        "Em 10 de julho de 2017 às 16:32:35, John Doe (john@example.com) escreveu:",
        "ср, 30 апр. 2025 г. в 15:19, John Doe <doe@example.com>:",
        "29 грудня 2017 р. о 19:09 <support@example.com> написав:",
        "在 2016年11月8日，下午2:23，Test user <test@example.com> 写道：",
        "2016/11/08 14:26、Test user <test@example.com> のメッセージ:",
        "2016. 11. 8. 오후 12:39 Test user <test@example.com> 작성:",
        "tir. 18. apr. 2017 kl. 13:09 skrev Test user <test@example.com>:",
        "Den 08/06/2015 kl. 21.21 skrev Test user <test@example.com>:",
        "pe 20. lokakuuta 2017 klo 17.50 John Coe <john@example.com> kirjoitti:",
        "2013.02.08. 7:31 keltezéssel, Gyõrvári Eszter írta:",
        "El 19/03/2014 11:34, Juan Pérez <juan@example.com> ha escrit:",
    ],
)
def test_non_english_quote_headers(header: str) -> None:
    ct = clean_text(f"Thank you very much.\n\n{header}\n\n> This is my previous mail\n")
    assert ct.visible == "Thank you very much."
    assert header.split()[0] in ct.quoted


@pytest.mark.parametrize(
    "block",
    [
        "Von: Max <max@example.de>\nGesendet: Donnerstag, 23. März 2023 17:11\nAn: Erika\nBetreff: AW: Hi",
        "De : Company <q@example.com>\nEnvoyé le : jeudi 15 décembre 2016 09:35\nÀ : x@example.fr\nObjet : Hi",
        "Van: Company [mailto:q@example.com]\nVerzonden: maandag 5 december 2016 17:00\nAan: x\nOnderwerp: Hi",
        "发件人: Company <q@example.com>\n发送时间: 2017年8月2日 15:37\n收件人: Sylvie\n主题: Hi",
    ],
)
def test_translated_outlook_header_blocks(block: str) -> None:
    ct = clean_text(f"Short answer.\n\n{block}\n\nThe old message.\n")
    assert ct.visible == "Short answer."
    assert "The old message." in ct.quoted


def test_interleaved_reply_keeps_the_quotes_it_answers() -> None:
    body = (
        "On Dec 15, 2024, at 2:00 PM, Jane Doe <jane@example.com> wrote:\n"
        "> What about option A?\n\nOption A is great.\n\n"
        "> And option B?\n\nOption B has drawbacks.\n"
    )
    ct = clean_text(body)
    # every quote is answered below it: all of it is what the author says (answer-keeps-quote)
    assert ct.visible == body.strip()
    assert ct.quoted == ""


def test_bottom_post_keeps_answer_with_its_context() -> None:
    ct = clean_text("On 04/02/2012 06:26 PM, Megan One wrote:\n> Hi\nHello")
    assert ct.visible == "On 04/02/2012 06:26 PM, Megan One wrote:\n> Hi\nHello"


def test_false_positive_on_lines_stay_visible() -> None:
    body = "On the surface, this looks fine.\nOn average it works.\n\nSomething wrote: nothing.\n"
    assert clean_text(body).visible == body.strip()


def test_dash_dash_signature_split_off() -> None:
    ct = clean_text("Please reset my password.\n\n-- \nJane Doe\nACME Corp\n")
    assert ct.visible == "Please reset my password."
    assert ct.signature == "--\nJane Doe\nACME Corp"  # trailing spaces are normalised away


def test_closing_stays_and_mobile_footer_split_off() -> None:
    ct = clean_text("Hallo,\n\ndas Problem besteht weiterhin.\n\nMit freundlichen Grüßen\nMax\n\n"
                    "Von meinem iPhone gesendet")
    assert ct.visible == "Hallo,\n\ndas Problem besteht weiterhin.\n\nMit freundlichen Grüßen\nMax"
    assert ct.signature == "Von meinem iPhone gesendet"


def test_mobile_footer_variants() -> None:
    for footer in ("Sent from my iPhone", "Get Outlook for iOS<https://aka.ms/o0ukef>",
                   "Sent from Mail for Windows 10", "Envoyé de mon iPad"):
        ct = clean_text(f"It works now.\n\n{footer}")
        assert ct.visible == "It works now.", footer
        assert ct.signature.startswith(footer.split("<")[0]), footer


def test_sentence_starting_like_a_footer_is_text() -> None:
    body = "Here is another email\n\nSent from my desk, is much easier then my mobile phone."
    assert clean_text(body).visible == body


def test_disclaimer_pattern_goes_to_signature() -> None:
    body = "Please help.\n\nCONFIDENTIALITY NOTICE: This e-mail is private.\nDo not forward it."
    ct = clean_text(body, disclaimers=[r"^CONFIDENTIALITY NOTICE"])
    assert ct.visible == "Please help."
    assert ct.signature.startswith("CONFIDENTIALITY NOTICE")
    assert clean_text(body).visible == body  # not configured: kept


def test_forwarded_message_stays_visible() -> None:
    body = (
        "FYI, see below.\n\n---------- Forwarded message ---------\n"
        "From: John <john@example.com>\nDate: Mon, Dec 15, 2024 at 3:00 PM\n"
        "Subject: Broken printer\nTo: me@example.com\n\nThe printer on floor 3 is broken.\n"
    )
    ct = clean_text(body)
    assert "The printer on floor 3 is broken." in ct.visible
    assert "FYI, see below." in ct.visible
    apple = "Begin forwarded message:\n\nFrom: John <john@example.com>\nSubject: x\n\nIt broke.\n"
    assert "It broke." in clean_text(apple).visible


def test_reply_marker_cut_with_attribution() -> None:
    body = (
        "Thanks, that fixed it.\n\n"
        "On Mon, 3 Jun 2024 at 10:00, Support <help@example.com> wrote:\n"
        f"> {REPLY_MARKER}\n>\n> Hi, please try restarting.\n"
    )
    ct = clean_text(body)
    assert ct.visible == "Thanks, that fixed it."
    assert ct.quoted.startswith("On Mon, 3 Jun 2024")
    assert REPLY_MARKER in ct.quoted


def test_reply_marker_unquoted() -> None:
    ct = clean_text(f"Works.\n\n{REPLY_MARKER}\n\nTicket history follows\n")
    assert ct.visible == "Works."
    assert ct.quoted.startswith(REPLY_MARKER)


def test_nothing_is_lost() -> None:
    body = ("Answer.\n\nBest regards,\nAnn\n\nOn Mon, Apr 2, 2012 at 6:26 PM, Bob <b@example.com> "
            "wrote:\n> question\n")
    ct = clean_text(body)
    for word in ("Answer.", "Ann", "question", "wrote:"):
        assert word in ct.visible + ct.quoted + ct.signature
    assert ct.visible == "Answer.\n\nBest regards,\nAnn"


def test_empty_inputs() -> None:
    assert clean_text(None) == CleanText("", "", "")
    assert clean_text("   \n", None) == CleanText("", "", "")
    assert clean_text("Hi\r\n\r\nthere  \r\n").visible == "Hi\n\nthere"
