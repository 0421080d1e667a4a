"""Classes 2 and 3 of issue 18: attribution lines in other shapes and languages are found;
an attribution-like line with no quote after it does not swallow the author's text."""

from __future__ import annotations

import pytest

from mailgate.clean import clean_text

ANSWER = "The new toner fixed it, thank you."


@pytest.mark.parametrize(
    "attribution",
    [
        # German Gmail, wrapped over two lines
        "Erika Muster <erika@example.de> schrieb am Di., 16. Aug. 2016\num 12:52 Uhr:",
        "чт, 5 груд. 2024 о 10:15 Олена <olena@example.ua> пише:",  # Ukrainian
        "5 декабря 2024 г., в 10:15, Иван <ivan@example.ru> написал:",  # Russian
        "W dniu 5.12.2024 o 10:15, Jan Kowalski <jan@example.pl> pisze:",  # Polish
        "Wiadomość napisana przez Jan Kowalski <jan@example.pl> w dniu 05.12.2024, o godz. 10:15:",
        "Op do 5 dec. 2024 om 10:15 schreef Piet de Vries <piet@example.nl>:",  # Dutch
        "Den tors 5 dec. 2024 kl 10:15 skrev Sven Berg <sven@example.se>:",  # Swedish
        "Kovács Anna <anna@example.hu> ezt írta (időpont: 2024. dec. 5., Cs 10:15):",  # Hungarian
        # Arabic, with the bidi embedding marks the clients put around it
        "\u202bفي الخميس، ٥ ديسمبر ٢٠٢٤، ١٠:١٥ ص كتب أحمد <ahmed@example.com>:\u202c",
        "Pe joi, 5 dec. 2024 la 10:15, Ana Pop <ana@example.ro> a scris:",  # Romanian
        "Em qui., 5 de dez. de 2024 às 10:15, João Silva <joao@example.pt> escreveu:",  # Portuguese
        "2024年12月5日(木) 10:15 山田太郎 <taro@example.jp>:",  # Japanese Gmail
        "在 2024年12月5日 10:15，李雷 <lilei@example.cn> 写道：",  # Chinese
        "2024-12-05 10:15 GMT+01:00 Jane Doe <jane@example.com>:",  # Gmail ISO form
        "2024/12/5 Jane Doe <jane@example.com>",  # Gmail's short form, no colon
        "On Thu, Dec 5, 2024 at 10:15 AM Jane Doe\n<\nmailto:jane@example.com\n> wrote:",  # split
        "Support <help@example.com> schrieb am Do. 5. Dez. 2024 um 10:15:",
    ],
)
def test_attribution_shapes_and_languages(attribution: str) -> None:
    ct = clean_text(f"{ANSWER}\n\n{attribution}\n> Is the printer working again?\n> Ops\n")
    assert ct.visible == ANSWER
    assert "Is the printer working again?" in ct.quoted
    assert attribution.split("\n")[0].strip("\u202b\u202c") in ct.quoted


def test_pipe_prefixed_quote_below_an_attribution() -> None:
    body = (f"{ANSWER}\n\nOn Thu, Dec 5, 2024, Jane <jane@example.com> wrote:\n"
            "| Is the printer working again?\n| Ops\n")
    ct = clean_text(body)
    assert ct.visible == ANSWER
    assert "| Is the printer working again?" in ct.quoted


def test_complete_attribution_above_an_unprefixed_old_message() -> None:
    # mobile clients drop the "> ": a complete attribution still starts the history
    body = f"{ANSWER}\nSupport <help@example.com> schrieb am Do. 5. Dez. 2024 um 10:15:\n\nBitte neu starten.\n"
    ct = clean_text(body)
    assert ct.visible == ANSWER
    assert "Bitte neu starten." in ct.quoted


def test_attribution_at_the_very_end_goes_to_quoted() -> None:
    ct = clean_text(f"{ANSWER}\n\nOn Thu, Dec 5, 2024 at 10:15, Ops <ops@example.net> wrote:\n")
    assert ct.visible == ANSWER
    assert ct.quoted.startswith("On Thu, Dec 5, 2024")


@pytest.mark.parametrize(
    "body",
    [
        "On Monday you wrote that the printer was fixed.\nIt is broken again since this morning.",
        "On Dec 5 the scanner stopped.\n\nOn the second floor nothing prints either.",
        "Bob wrote: the fix works.\nI still see the error at 10:15 though.",
        "2024-12-05 10:15 the backup failed\nand again at 11:15.",
    ],
)
def test_attribution_like_lines_without_a_quote_stay(body: str) -> None:
    ct = clean_text(body)
    assert ct.visible == body
    assert ct.quoted == ""
