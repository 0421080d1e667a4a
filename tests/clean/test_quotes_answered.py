"""Class 1 of issue 18: quoted context the author answers below stays with the answer; only
the trailing history goes to `quoted`; a mail that is only a quote keeps its text."""

from __future__ import annotations

from mailgate.clean import clean_text


def test_inline_answers_keep_their_quotes_and_the_trailing_quote_goes() -> None:
    body = (
        "See my answers below.\n\n"
        "On Tue, 3 Dec 2024 at 09:12, Ops Team <ops@example.net> wrote:\n"
        "> Is the backup job still failing?\n"
        "Yes, since Sunday.\n"
        "> Which server?\n"
        "backup-02.\n"
        "> Thanks, Ops\n"
        "> (earlier history follows)\n"
    )
    ct = clean_text(body)
    assert ct.visible == (
        "See my answers below.\n\n"
        "On Tue, 3 Dec 2024 at 09:12, Ops Team <ops@example.net> wrote:\n"
        "> Is the backup job still failing?\nYes, since Sunday.\n> Which server?\nbackup-02."
    )
    assert ct.quoted == "> Thanks, Ops\n> (earlier history follows)"


def test_top_posted_reply_sends_the_whole_quote_to_quoted() -> None:
    body = ("Restarted it, works again.\n\nOn Tue, 3 Dec 2024 at 09:12, Ops Team <ops@example.net> wrote:\n"
            "> Please restart the spooler.\n>\n> Ops\n")
    ct = clean_text(body)
    assert ct.visible == "Restarted it, works again."
    assert ct.quoted.startswith("On Tue, 3 Dec 2024") and "restart the spooler" in ct.quoted


def test_a_signature_below_the_quote_does_not_make_it_an_answer() -> None:
    body = ("Done.\n\nOn Tue, 3 Dec 2024, Ops <ops@example.net> wrote:\n> Please restart it.\n\n"
            "-- \nKim Larsen\nFacilities\n")
    ct = clean_text(body)
    assert ct.visible == "Done."
    assert "Please restart it." in ct.quoted
    assert ct.signature.startswith("--") and "Facilities" in ct.signature


def test_a_mail_that_is_only_a_quote_keeps_its_text_visible() -> None:
    body = "> The badge reader at door 4 beeps but does not open.\n>\n> Facility desk\n"
    ct = clean_text(body)
    assert ct.visible == body.strip()
    assert ct.quoted == ""


def test_only_an_attribution_and_a_quote_is_still_shown() -> None:
    body = "2024/12/5 Kim Larsen <kim@example.org>\n> The badge reader beeps.\n"
    assert clean_text(body).visible == body.strip()
