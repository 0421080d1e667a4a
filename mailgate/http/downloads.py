"""Attachment downloads that cannot be turned into a page of ours: always `attachment`,
never rendered inline, types that a browser would run as a document served as bytes, and
a file name that is a safe base name in both the plain and the RFC 6266 `filename*` form."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

# served as application/octet-stream: a browser would otherwise treat them as pages or code
ACTIVE_TYPES = ("text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
                "text/javascript", "application/javascript", "application/ecmascript", "text/ecmascript",
                "application/x-shockwave-flash", "multipart/x-mixed-replace")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u0080-\u009f\u2028\u2029\"\\/:*?<>|;]")
_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.I)
MAX_NAME = 150


def safe_filename(name: str, fallback: str = "attachment") -> str:
    """A base name without path parts, controls, quotes or reserved Windows names."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    if not name or _RESERVED.match(name):
        name = f"{fallback}-{name}" if name else fallback
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_NAME - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:MAX_NAME]
    return name


def download_headers(filename: str, content_type: str) -> tuple[str, dict[str, str]]:
    """(the media type to send, headers)."""
    media = (content_type or "application/octet-stream").split(";")[0].strip().lower()
    if media in ACTIVE_TYPES or "/" not in media:
        media = "application/octet-stream"
    name = safe_filename(filename)
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    disposition = f'attachment; filename="{ascii_name}"; filename*=UTF-8\'\'{quote(name, safe="")}'
    return media, {"Content-Disposition": disposition,
                   "Content-Security-Policy": "default-src 'none'; sandbox",
                   "X-Content-Type-Options": "nosniff"}
