"""A bare thank-you does not reopen a resolved ticket; anything more does."""

from __future__ import annotations

import pytest

from mailgate.thanks import is_bare_thanks


@pytest.mark.parametrize("text", [
    "Thanks a lot!\n\nCarol", "Thank you, works now.\nCarol Chen", "Vielen Dank!\nGrüße, Jörg Weiß",
    "Merci beaucoup !", "ありがとうございました。", "thx",
])
def test_bare_thanks(text: str) -> None:
    assert is_bare_thanks(text)


@pytest.mark.parametrize("text", [
    "Thanks, the screen is black now", "Great, now the screen is black", "Screen black. Cheers",
    "Thanks, but it is still not booting after the update.", "Thanks! Can you also reset my VPN?",
    "Danke, aber der Drucker geht immer noch nicht.", "", "Thanks. Printer on the 2nd floor jams too.",
])
def test_more_than_thanks(text: str) -> None:
    assert not is_bare_thanks(text)
