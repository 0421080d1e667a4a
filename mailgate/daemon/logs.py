"""Structured logs on stderr: one line per event, text or JSON.

Every line carries `message_id` and `stage` (a filter fills "-" and the logger's last name
when the caller gave none), so an operator can grep one message's whole story.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

FIELDS = ("message_id", "stage", "ticket", "outcome", "source")


class _Defaults(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "message_id", None):
            record.message_id = "-"
        if not getattr(record, "stage", None):
            record.stage = record.name.rsplit(".", 1)[-1]
        return True


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        extras = " ".join(f"{k}={getattr(record, k)}" for k in FIELDS if getattr(record, k, None) not in (None, ""))
        line = f"{ts} {record.levelname} {extras} {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            **{k: getattr(record, k) for k in FIELDS if getattr(record, k, None) not in (None, "")},
            "msg": record.getMessage(),
        }
        if record.exc_info:
            data["traceback"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def setup_logging(fmt: str, verbose: bool = False) -> None:
    """Replace the root handlers with one stderr handler in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(_Defaults())
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # our outcome line replaces the pipeline's own per-message info line; its warnings stay
    logging.getLogger("mailgate.pipeline").setLevel(logging.WARNING)
    for noisy in ("mail.log", "aioimaplib", "asyncio", "mailparser", "peewee"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
