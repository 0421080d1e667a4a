"""Is a reply nothing but a thank-you? Then it need not reopen a resolved ticket.

Deliberately strict: a thanking word must be there, no word that turns it into a new problem
("but", "still", "again", a question mark), and apart from thanks, filler and sign-off at
most two other words (a name). "Thanks, the screen is black now" reopens; "Thanks a lot!
Carol" does not. When in doubt the ticket reopens: a technician can resolve it again, but a
problem hidden in a resolved ticket is lost.
"""

from __future__ import annotations

import re

_THANKS = re.compile(
    r"\b(thanks?|thank you|thx|dank(e|esch[öo]n)?|merci|gracias|grazie|bedankt|dank je|tack|takk|"
    r"kiitos|obrigad[oa]|dzi[eę]kuj[eę]|спасибо)\b|ありがとう|谢谢|謝謝|감사합니다|고맙습니다",
    re.IGNORECASE,
)
_NOT_JUST_THANKS = re.compile(
    r"\?|\b(but|still|again|however|doesn'?t|does not|didn'?t|not|no longer|problem|error|issue|"
    r"aber|noch|immer noch|wieder|nicht|mais|encore|toujours|pas|pero|todav[ií]a|ma|ancora|non)\b",
    re.IGNORECASE,
)
# words that may stand around a thank-you without saying anything new
_FILLER = set("""
a lot so much very many you all for your the help it that this works worked working fixed solved
now great perfect super ok okay fine cheers regards best kind kindest warm many hi hello dear
and again for everything quick reply response viele vielen dank gr gruß grüße lg mvg vg beaucoup
bien cordialement muchas saludos mille da de und und es geht jetzt läuft funktioniert
""".split())
MAX_OTHER_WORDS = 2


def is_bare_thanks(text: str) -> bool:
    if not text or not _THANKS.search(text) or _NOT_JUST_THANKS.search(text):
        return False
    rest = _THANKS.sub(" ", text)
    others = [w for w in re.findall(r"\w+", rest.lower()) if w not in _FILLER]
    return len(others) <= MAX_OTHER_WORDS
