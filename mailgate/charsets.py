"""Turn bytes of unknown or wrongly declared charset into text without mojibake.

Mail declares charsets badly: Korean Outlook says `ks_c_5601-1987` (a name Python does not
know), Japanese mail says `Shift_JIS` but uses Windows extensions, Chinese mail says
`gb2312` but needs GB18030, and plenty of UTF-8 arrives labelled `iso-8859-1` or nothing.
The rule here: trust the declared charset when the bytes decode under it and do not look
like UTF-8 in disguise; otherwise detect (charset-normalizer); as a last resort decode as
latin-1, which maps every byte to one character, so nothing is lost and the raw bytes in
the spool can still be re-decoded by hand.
"""

from __future__ import annotations

import codecs
import re

# declared name (lower case) -> the codec that decodes what senders actually mean by it
_ALIASES = {
    "ks_c_5601-1987": "cp949", "ks_c_5601": "cp949", "ks_c_5601-1989": "cp949", "ksc5601": "cp949",
    "ksc_5601": "cp949", "korean": "cp949", "euc-kr": "cp949", "euc_kr": "cp949", "x-windows-949": "cp949",
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "ms_kanji": "cp932",
    "windows-31j": "cp932", "csshiftjis": "cp932",
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "euc-cn": "gb18030",
    "big5": "big5hkscs", "x-big5": "big5hkscs",
    # WHATWG: what is labelled latin-1/ascii is almost always windows-1252 in practice
    "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
    "us-ascii": "cp1252", "ascii": "cp1252", "ansi_x3.4-1968": "cp1252",
    "iso-8859-11": "cp874", "tis-620": "cp874", "windows-874": "cp874",
    "iso-8859-8-i": "iso8859-8", "utf8": "utf-8", "x-unicode20utf8": "utf-8",
    "iso-2022-jp": "iso2022_jp_ext", "unicode-1-1-utf-7": "utf-7", "x-unicode-2-0-utf-7": "utf-7",
}
# labels that say nothing: detect instead
_MEANINGLESS = {"", "unknown-8bit", "x-unknown", "unknown", "undefined", "default", "none",
                "x-user-defined", "charset", "8bit", "binary", "us-ascii-8bit"}
# ISO-2022-JP mail often carries JIS X 0212 or Windows extensions: try these in order
_ISO2022JP_FALLBACKS = ("iso2022_jp_ext", "iso2022_jp_2", "iso2022_jp_2004", "iso2022_jp_3")
_SINGLE_BYTE_PREFIXES = ("cp12", "iso8859", "latin", "koi8", "cp8", "mac", "cp437", "cp850", "tis")
# a non-ASCII UTF-8 sequence: its presence in bytes that decode as UTF-8 is hard to fake
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")


def codec_for(declared: str | None) -> str | None:
    """The Python codec for a declared charset name, or None when unknown or meaningless."""
    name = (declared or "").strip().strip("\"'").lower()
    if name in _MEANINGLESS:
        return None
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _is_single_byte(codec: str) -> bool:
    return codec.startswith(_SINGLE_BYTE_PREFIXES)


def _try(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _looks_utf8(data: bytes) -> bool:
    return _UTF8_MULTIBYTE.search(data) is not None and _try(data, "utf-8") is not None


# Western single-byte code pages detection cannot tell apart on short text (a subject line):
# when it guesses one of these, windows-1252, by far the most common in mail, is taken
_LATIN_FAMILY = {codecs.lookup(n).name for n in (
    "cp1250", "cp1252", "cp1257", "cp775", "cp850", "cp437", "latin-1", "mac-roman", "mac-latin2",
    "mac-iceland", "iso8859-2", "iso8859-3", "iso8859-4", "iso8859-9", "iso8859-10", "iso8859-13",
    "iso8859-14", "iso8859-15", "iso8859-16", "cp1254")}


def detect(data: bytes) -> str | None:
    """The charset charset-normalizer finds most likely, or None."""
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    found = codec_for(best.encoding) if best is not None else None
    if found and found.startswith(("utf-16", "utf-32")) and not data.startswith(
            (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None  # mail text without a byte-order mark is never UTF-16: a false guess
    if found in _LATIN_FAMILY and _try(data, "cp1252") is not None:
        return "cp1252"
    return found


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode `data`; returns (text, codec used). Never raises, never drops bytes."""
    if not data:
        return "", codec_for(declared) or "utf-8"
    if data.isascii() and b"\x1b" not in data:
        return data.decode("ascii"), "ascii"
    codec = codec_for(declared)
    if codec is not None:
        # UTF-8 mislabelled as a single-byte charset decodes "fine" into mojibake: prefer UTF-8
        if _is_single_byte(codec) and _looks_utf8(data):
            return data.decode("utf-8"), "utf-8"
        candidates = (codec, *_ISO2022JP_FALLBACKS) if codec.startswith("iso2022_jp") else (codec,)
        for name in candidates:
            text = _try(data, name)
            if text is not None:
                return text, name
    if b"\x1b$B" in data or b"\x1b$@" in data or b"\x1b(J" in data:
        for name in _ISO2022JP_FALLBACKS:
            text = _try(data, name)
            if text is not None:
                return text, name
    text = _try(data, "utf-8")
    if text is not None:
        return text, "utf-8"
    found = detect(data)
    if found is not None:
        text = _try(data, found)
        if text is not None:
            return text, found
    text = _try(data, "cp1252")
    if text is not None:
        return text, "cp1252"
    return data.decode("latin-1"), "latin-1"


_CHARSET_PARAM = re.compile(rb"""charset\s*=\s*["']?([\w.:-]+)""", re.I)


def charset_hints(raw: bytes) -> tuple[str, ...]:
    """Every charset a message declares (first 256 KiB): the best guesses for raw 8-bit
    header bytes and file names, which a mailer writes in one of its body charsets."""
    found = (codec_for(m.group(1).decode("ascii")) for m in _CHARSET_PARAM.finditer(raw[:262144]))
    return tuple(dict.fromkeys(c for c in found if c))


def decode_hinted(data: bytes, hints: tuple[str, ...] = ()) -> str:
    """Decode 8-bit header bytes. UTF-8 first (RFC 6532), then a declared multi-byte charset
    that decodes them strictly (a top-level "iso-8859-1" is often wrong when a gb2312 part
    follows), then a declared single-byte one, then detection."""
    if data.isascii() or _try(data, "utf-8") is not None:
        return data.decode("utf-8")
    for codec in hints:
        if not _is_single_byte(codec) and codec != "utf-8":
            text = _try(data, codec)
            if text is not None:
                return text
    single = next((c for c in hints if _is_single_byte(c)), None)
    return decode_bytes(data, single)[0]

