"""Recognising the lines mail clients put above quoted history, in many languages.

Every client writes its own "attribution" above the quote: Gmail's "On <date>, <who> wrote:",
Outlook's "From: / Sent: / To: / Subject:" block (translated into the user's language),
"-----Original Message-----" banners, bare "<date> <who> <addr>:" lines. talon only knows a
handful of languages, so this module carries the vocabulary and the shapes; `quotes.py` decides
what to do with a match.
"""

from __future__ import annotations

import re

# Verbs that end (or sit inside) an attribution line: "... wrote:", "... a écrit :".
_WROTE_VERBS = (
    "wrote", "writes", "a écrit", "écrit", "schrieb", "schreef", "geschreven", "escribió",
    "escribio", "ha escrito", "escreveu", "ha scritto", "scrisse", "napisał(a)", "napisała",
    "napisał", "pisze", "skrev", "skrifaði", "kirjoitti", "írta", "написал(а)", "написала",
    "написал", "написав", "написала", "писал", "ha escrit", "va escriure", "escrigué",
    "napsal(a)", "napsala", "napsal", "napísal", "yazdı", "έγραψε", "a scris", "rašė",
    "kirjutas", "rakstīja", "写道", "寫道", "のメッセージ", "작성", "wrote",
)
_VERB_ALT = "|".join(re.escape(v) for v in sorted(set(_WROTE_VERBS), key=len, reverse=True))

# Words that open an attribution ("On", "Le", "Am" ...), used when the verb is not at the end
# ("Am 13.12.2017 schrieb X <x@y>:") or the line is wrapped.
_OPENERS = (
    "On", "Le", "Am", "Op", "El", "Il", "In data", "Em", "W dniu", "Dnia", "Den", "På", "Dne",
    "Vào", "Il giorno", "Den", "Am", "Der", "Op", "在", "於",
)
_OPENER_ALT = "|".join(re.escape(o) for o in sorted(set(_OPENERS), key=len, reverse=True))

# "... wrote:" at the end (colon optional: some clients drop it).
RE_VERB_AT_END = re.compile(rf"(?<![^\W\d_])(?:{_VERB_ALT})\s*[:：]?\s*$", re.I)
RE_VERB_ANYWHERE = re.compile(rf"(?<![^\W\d_])(?:{_VERB_ALT})(?![^\W\d_])", re.I)
RE_OPENER = re.compile(rf"^(?:{_OPENER_ALT})\s", re.I)
# "2014-03-20 8:48 GMT+01:00 Name <addr>:" / "30.09.2017, 18.30, "X" <addr>:" — no verb at all,
# so demand an address right before the final colon and a digit somewhere (a date).
RE_ADDR_COLON_END = re.compile(r"(?:<[^<>\s]*@[^<>\s]*>|\([^()\s]*@[^()\s]*\)|\S+@\S+)\s*[:：]\s*$")
RE_DIGIT = re.compile(r"\d")
_RE_ANGLE_OPEN = re.compile(r"<\s+")
_RE_ANGLE_CLOSE = re.compile(r"\s+>")
_RE_BROKEN_ADDR_END = re.compile(r"^\s*>\s*[:：]\s*$")
# "20.10.2017 ...", "pe 20. lokakuuta", "tir. 18. apr.", "ср, 30 апр.", "Wednesday, 17 ..."
_RE_DATE_START = re.compile(r"^(?:\d|[^\W\d_]{1,10}\.?,?\s+\d)")

# "-----Original Message-----" and its translations.
_ORIGINAL = (
    "Original Message", "Reply Message", "Ursprüngliche Nachricht", "Antwort Nachricht",
    "Message d'origine", "Message d’origine", "Oprindelig besked", "Oprindelig meddelelse",
    "Opprinnelig melding", "Ursprungligt meddelande", "Mensaje original", "Messaggio originale",
    "Oorspronkelijk bericht", "Origineel bericht", "Mensagem original", "Wiadomość oryginalna",
    "Původní zpráva", "Alkuperäinen viesti", "Исходное сообщение", "Оригинальное сообщение",
    "Вихідне повідомлення", "Eredeti üzenet", "Missatge original", "原始邮件", "元のメッセージ",
)
RE_ORIGINAL_MESSAGE = re.compile(
    r"^\s*[-=_*]*\s*(?:{})\s*[-=_*]*\s*:?\s*$".format("|".join(re.escape(o) for o in _ORIGINAL)), re.I
)

# Forward banners: the forwarded content is what the author wants us to read.
_FWD_BANNERS = (
    "Forwarded message", "Forwarded Message", "Weitergeleitete Nachricht", "Message transféré",
    "Mensaje reenviado", "Messaggio inoltrato", "Doorgestuurd bericht", "Mensagem encaminhada",
    "Videresendt meddelelse", "Videresendt melding", "Vidarebefordrat meddelande",
    "Przekazana wiadomość", "Пересылаемое сообщение", "Переслане повідомлення",
    "Välitetty viesti", "Továbbított üzenet", "转发的邮件", "転送されたメッセージ",
)
_FWD_INTRO = (
    "Begin forwarded message", "Anfang der weitergeleiteten Nachricht",
    "Début du message réexpédié", "Début du message transféré", "Inicio del mensaje reenviado",
    "Inizio messaggio inoltrato", "Begin doorgestuurd bericht", "Início da mensagem reencaminhada",
)
RE_FORWARD = re.compile(
    r"^\s*(?:-{{2,}}\s*(?:{})\s*-{{2,}}|(?:{})\s*[:：])\s*$".format("|".join(re.escape(b) for b in _FWD_BANNERS), "|".join(re.escape(b) for b in _FWD_INTRO)),
    re.I,
)

# Outlook-style header blocks. The first key says who sent it (or when); at least one more
# header key must follow within a few lines, so a body line "From: my notes" stays text.
_FROM_KEYS = (
    "From", "De", "Von", "Van", "Da", "Fra", "Från", "Frá", "Od", "Від", "От", "Kimden",
    "Lähettäjä", "Feladó", "Remitente", "Expéditeur", "Afzender", "Mittente", "Absender",
    "Nadawca", "Odesílatel", "发件人", "發件人", "寄件者", "差出人", "보낸 사람", "보낸사람",
    "Message du", "Date", "Datum", "Sent", "Envoyé", "Gesendet",
)
_OTHER_KEYS = (
    "Sent", "Date", "To", "Cc", "Bcc", "Subject", "Reply-To", "Envoyé", "Envoyé le", "À", "A",
    "Objet", "Sujet", "Copie à", "Cc ", "Gesendet", "Datum", "An", "Betreff", "Verzonden", "Aan",
    "Onderwerp", "Inviato", "Data", "Oggetto", "Enviado", "Enviada", "Para", "Asunto", "Assunto",
    "Fecha", "Dato", "Til", "Emne", "Skickat", "Till", "Ämne", "Sendt", "Wysłano", "Do", "Temat",
    "Отправлено", "Кому", "Тема", "Дата", "Надіслано", "发送时间", "收件人", "主题", "日期",
    "送信日時", "宛先", "件名", "보낸 날짜", "받는 사람", "제목", "Lähetetty", "Vastaanottaja",
    "Aihe", "Elküldve", "Címzett", "Tárgy", "Gönderildi", "Kime", "Konu", "Odesláno", "Komu",
    "Předmět", "Von", "From", "De", "Van", "Da", "Fra", "Från",
)


def _key_re(keys: tuple[str, ...]) -> re.Pattern[str]:
    alt = "|".join(re.escape(k) for k in sorted(set(keys), key=len, reverse=True))
    # Optional bold markers (*From:*), any whitespace incl. NBSP before the colon.
    return re.compile(rf"^\s*[*_]?\s*(?:{alt})\s*[*_]?\s*[:：]", re.I)


RE_FROM_KEY = _key_re(_FROM_KEYS)
RE_ANY_KEY = _key_re(_OTHER_KEYS)
RE_HAS_ADDR = re.compile(r"\S@\S")

# A line made only of separator characters ("_______", "-----", "=====").
RE_SEPARATOR = re.compile(r"^\s*[-_=*~—–]{3,}\s*$")

MAX_ATTRIBUTION_LINES = 3
MAX_ATTRIBUTION_CHARS = 400
HEADER_LOOKAHEAD = 6


def is_forward_marker(line: str) -> bool:
    return bool(RE_FORWARD.match(line))


def is_separator(line: str) -> bool:
    return bool(RE_SEPARATOR.match(line))


def _is_attribution(text: str) -> bool:
    """One candidate attribution (possibly several lines joined with spaces)."""
    # Zoho wraps it in dashes: "---- On <date> <addr> wrote ----".
    text = text.strip().strip("-").strip()
    text = _RE_ANGLE_OPEN.sub("<", _RE_ANGLE_CLOSE.sub(">", text))
    if not text or len(text) > MAX_ATTRIBUTION_CHARS or text.startswith(">"):
        return False
    has_date_or_addr = bool(RE_DIGIT.search(text) or RE_HAS_ADDR.search(text))
    if RE_VERB_AT_END.search(text) and has_date_or_addr:
        return True
    if text.endswith((":", "：")):
        if RE_OPENER.match(text) and RE_VERB_ANYWHERE.search(text) and has_date_or_addr:
            return True
        if RE_ADDR_COLON_END.search(text) and RE_DIGIT.search(text):
            return True
    return False


def _looks_like_attribution_start(line: str) -> bool:
    """First line of a wrapped attribution: "On ...", a date, "pe 20. ...", or cut at "<"."""
    line = line.strip()
    return bool(
        RE_OPENER.match(line)
        or _RE_DATE_START.match(line)
        or line.endswith(("<", "("))
    )


def _attribution_len(lines: list[str], i: int) -> int:
    for k in range(1, MAX_ATTRIBUTION_LINES + 1):
        chunk = lines[i : i + k]
        if len(chunk) < k or any(not c.strip() for c in chunk):
            return 0
        # Continuation lines may not be quoted, except a lone ">:" left over from a wrapped
        # "<address\n>:" (Gmail).
        if any(c.lstrip().startswith(">") and not _RE_BROKEN_ADDR_END.match(c) for c in chunk[1:]):
            return 0
        if _is_attribution(" ".join(c.strip() for c in chunk)):
            return k
    return 0


def _header_block_len(lines: list[str], i: int) -> int:
    if not RE_FROM_KEY.match(lines[i]):
        return 0
    end = i + 1
    found_other = False
    for j in range(i + 1, min(len(lines), i + 1 + HEADER_LOOKAHEAD)):
        if RE_ANY_KEY.match(lines[j]):
            found_other = True
            end = j + 1
        elif not lines[j].strip():
            break
    if found_other:
        return end - i
    # A lone "From: Name <addr>" line is still an attribution (several clients write only that).
    if RE_HAS_ADDR.search(lines[i]) and re.match(r"^\s*[*_]?\s*\w+\s*[*_]?\s*[:：]", lines[i]):
        return 1
    return 0


def splitter_length(lines: list[str], i: int) -> int:
    """How many lines starting at `lines[i]` form a quote attribution (0 if none).

    A wrapped attribution is only accepted if no later line of it is an attribution on its
    own, so a body line just above "On ... wrote:" is not swallowed into the quote.
    """
    line = lines[i]
    if not line.strip() or line.lstrip().startswith(">"):
        return 0
    if RE_ORIGINAL_MESSAGE.match(line):
        return 1
    n = _header_block_len(lines, i)
    if n:
        return n
    k = _attribution_len(lines, i)
    if k > 1 and not _looks_like_attribution_start(line):
        for j in range(i + 1, i + k):
            if _attribution_len(lines, j) or _header_block_len(lines, j):
                return 0
    return k
