"""Addresses no mail goes to for a while: a naive auto-responder caught answering our mails
within seconds, again and again (issue 17, item 18)."""

from __future__ import annotations

import peewee as pw

from mailgate.db.models import BaseModel, Ticket, utcnow


class MailPause(BaseModel):
    address = pw.CharField(unique=True)
    quick_replies = pw.IntegerField(default=0)  # answers within [alerts] loop_seconds, in the window
    window_start = pw.DateTimeField(default=utcnow)
    paused_until = pw.DateTimeField(null=True)
    ticket = pw.ForeignKeyField(Ticket, null=True, backref="mail_pauses", on_delete="SET NULL")


PAUSE_MODELS: tuple[type[BaseModel], ...] = (MailPause,)
