"""Text from hostile mail made safe to store and to write into headers (issue 17).

- `one_line`: no character that ends a line anywhere. The email package refuses a header
  value that `str.splitlines()` would split (CR, LF, VT, FF, FS, GS, RS, NEL, U+2028,
  U+2029): such a subject or file name made the notify stage fail and quarantined a
  legitimate mail. They become spaces, as do the other control characters.
- `unfold`: RFC 5322 unfolding (CRLF before white space removed), for a file name folded
  over two lines by the sender's mailer; the name is stored without that white space.
- `safe_filename`: the base name we emit (alert attachments, Content-Disposition of
  downloads): no path, no control or reserved characters, no Windows device name, at most
  SAFE_NAME_LENGTH characters with the extension kept. The original name is stored as it
  came (unfolded, at most MAX_FILENAME_LENGTH characters), for the record.
"""

from __future__ import annotations

import re

MAX_SUBJECT_LENGTH = 1000  # characters of a subject stored (and used for tickets and replies)
MAX_FILENAME_LENGTH = 255  # characters of an attachment's name as stored
SAFE_NAME_LENGTH = 120  # characters of a name we emit

# every character str.splitlines() breaks at, and the other C0/C1 controls (tab included)
_BREAKS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES = re.compile(r"[ \t\u00a0]{2,}")
_FOLD = re.compile(r"\r?\n(?=[ \t])|\r(?=[ \t])")
# Windows forbids these in names; / and \ separate paths everywhere
_RESERVED_CHARS = re.compile(r'[<>:"/\\|?*]')
_DEVICE = re.compile(r"(?i)(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?")


def one_line(text: str) -> str:
    """The text on one line: line breaks and control characters become single spaces."""
    if text.isprintable():
        return text
    return _SPACES.sub(" ", _BREAKS.sub(" ", text)).strip()


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut with an ellipsis when longer."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def unfold(text: str) -> str:
    """RFC 5322 unfolding: the line break of a fold goes, the white space after it stays."""
    return _FOLD.sub("", text) if "\n" in text or "\r" in text else text


def stored_filename(name: str) -> str:
    """An attachment's name as stored: as the sender wrote it, minus folding, at most
    MAX_FILENAME_LENGTH characters (the extension kept)."""
    return _clip_keeping_extension(unfold(name), MAX_FILENAME_LENGTH)


def safe_filename(name: str, fallback: str = "attachment") -> str:
    """A base name safe to hand to any mail client or file system."""
    name = one_line(unfold(name)).replace("\\", "/")
    name = name.rsplit("/", 1)[-1]  # the base name: no folders, no drive or absolute path
    name = _RESERVED_CHARS.sub("_", name).strip(" .")  # no hidden file, no trailing dot (Windows)
    if not name:
        return fallback
    if _DEVICE.fullmatch(name):
        name = "_" + name  # CON, NUL.txt, COM1 ... name devices on Windows
    return _clip_keeping_extension(name, SAFE_NAME_LENGTH)


def _clip_keeping_extension(name: str, limit: int) -> str:
    if len(name) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if dot and stem and 0 < len(ext) <= 16:
        return stem[:limit - len(ext) - 2].rstrip() + "…." + ext
    return name[:limit - 1] + "…"
