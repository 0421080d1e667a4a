"""Is a reply nothing but a thank-you? Then it need not reopen a resolved ticket.

Deliberately strict: short, contains a thanking word, and no word that turns it into a new
problem ("but", "still", "again", a question mark). When in doubt the ticket reopens; a
technician can resolve it again, but a problem hidden in a closed ticket is lost.
"""

from __future__ import annotations

import re

_THANKS = re.compile(
    r"\b(thanks?|thank you|thx|ty|cheers|danke|vielen dank|merci|gracias|grazie|bedankt|dank je|"
    r"tack|takk|tak|kiitos|obrigad[oa]|dzi[eę]kuj[eę]|спасибо|perfect|great|super|prima|parfait)\b"
    r"|ありがとう|谢谢|謝謝|감사합니다|고맙습니다",
    re.IGNORECASE,
)
_NOT_JUST_THANKS = re.compile(
    r"\?|\b(but|still|again|however|doesn'?t|does not|didn'?t|not|no longer|problem|error|issue|"
    r"aber|noch|immer noch|wieder|nicht|mais|encore|toujours|pas|pero|todav[ií]a|ma|ancora|non)\b",
    re.IGNORECASE,
)
MAX_WORDS = 12


def is_bare_thanks(text: str) -> bool:
    words = re.findall(r"\w+", text or "")
    if not words or len(words) > MAX_WORDS:
        return False
    return bool(_THANKS.search(text)) and not _NOT_JUST_THANKS.search(text)
